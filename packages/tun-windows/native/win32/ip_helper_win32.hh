// The IP Helper entries of the Windows WinApi table: addresses, routes and per-family MTU of the
// adapter identified by its NET_LUID. Each returns a Win32 error code (0 on success).
#pragma once

#include <cstdint>

#include "../win_api.hh"

namespace tunkit::windows_tun::iphelper {

uint32_t setInterfaceMtu(uint64_t luid, int family, uint32_t mtu);
uint32_t addUnicastAddress(uint64_t luid, const IpPrefix& prefix);
uint32_t addRoute(uint64_t luid, const IpPrefix& prefix, uint32_t metric);
uint32_t deleteRoute(uint64_t luid, const IpPrefix& prefix);

}  // namespace tunkit::windows_tun::iphelper
