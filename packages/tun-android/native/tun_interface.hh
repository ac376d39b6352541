// What the kernel says about an adopted TUN fd: its interface name (Android's VpnService does not
// hand it to the app with the fd). Linux kernel API, so the same code runs on Android and Linux.
#pragma once

#include <string>

namespace tunkit::android_tun {

/** The interface name behind a TUN fd (TUNGETIFF), or "" when the fd is not one or the ioctl is refused. Any thread. */
std::string tunInterfaceName(int fd);

}  // namespace tunkit::android_tun
