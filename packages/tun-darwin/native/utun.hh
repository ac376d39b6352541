// utun on macOS: opening an interface through the kernel-control socket, naming an existing utun
// fd, and configuring the interface (MTU, addresses, up) and its routes without shelling out.
// Implemented in the *_darwin.cc files, which binding.gyp compiles only on macOS; their exports
// are registered by utun_exports_darwin.cc (see utun_exports.hh).
#pragma once

#include <cstdint>
#include <string>

#include "prefix.hh"

namespace tunkit::darwin_tun {

struct OpenedUtun {
  int fd = -1;
  std::string name;
};

/** Opens utun`unit` (unit < 0: the kernel picks the first free one). The fd is blocking. Throws OsError. JS thread. */
OpenedUtun openUtun(int unit);

/** The interface name of a utun control socket (UTUN_OPT_IFNAME). Throws OsError when `fd` is not one. JS thread. */
std::string utunName(int fd);

/** SIOCSIFMTU. Throws OsError. JS thread. */
void setMtu(const std::string& name, uint32_t mtu);

/** Sets IFF_UP (SIOCGIFFLAGS / SIOCSIFFLAGS). Throws OsError. JS thread. */
void setUp(const std::string& name);

/** SIOCAIFADDR (IPv4, the point-to-point destination is the address itself) or SIOCAIFADDR_IN6. Throws OsError. JS thread. */
void addAddress(const std::string& name, const Prefix& prefix);

/**
 * RTM_ADD on a PF_ROUTE socket: `prefix` (host bits already cleared) through the interface.
 * An existing identical route is an error unless `existingIsFine`. Throws OsError. JS thread.
 */
void addRoute(const std::string& name, const Prefix& prefix, bool existingIsFine);

}  // namespace tunkit::darwin_tun
