// Test support (used by test/privileged/ only): what VpnService does for an app, done the Linux
// way, so the Android code path runs on a Linux CI machine against a real kernel TUN device.
#pragma once

#include <string>

namespace tunkit::android_tun {

/** Opens a single-queue TUN device `name` (IFF_TUN | IFF_NO_PI, blocking, like detachFd()'s fd). Throws OsError. */
int openTestTun(const std::string& name);

/** Moves the calling thread into the network namespace at `path` (/var/run/netns/NAME). Throws OsError. */
void enterNetworkNamespace(const std::string& path);

}  // namespace tunkit::android_tun
