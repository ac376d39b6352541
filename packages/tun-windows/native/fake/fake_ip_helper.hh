// The fake IP Helper entries of the WinApi table (see fake_ip_helper.cc).
#pragma once

#include <cstdint>

#include "../win_api.hh"

namespace tunkit::windows_tun::fake {

uint32_t setInterfaceMtu(uint64_t luid, int family, uint32_t mtu);
uint32_t addUnicastAddress(uint64_t luid, const IpPrefix& prefix);
uint32_t addRoute(uint64_t luid, const IpPrefix& prefix, uint32_t metric);
uint32_t deleteRoute(uint64_t luid, const IpPrefix& prefix);

}  // namespace tunkit::windows_tun::fake
