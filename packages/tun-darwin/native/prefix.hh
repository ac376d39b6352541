// Prefix: an IPv4 or IPv6 address with a prefix length, as the TS side parsed it (tun-core's
// parseCidr), and its text for error messages.
#pragma once

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace tunkit::darwin_tun {

struct Prefix {
  /** 4 or 6. */
  int family = 4;
  /** 4 or 16 bytes used. */
  uint8_t address[16] = {};
  uint32_t length = 0;
};

/** "10.0.0.1/24", "fd00::1/64". */
inline std::string prefixText(const Prefix& prefix) {
  char buffer[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(prefix.family == 6 ? AF_INET6 : AF_INET, prefix.address, buffer, sizeof buffer);
  return std::string(buffer) + "/" + std::to_string(prefix.length);
}

}  // namespace tunkit::darwin_tun
