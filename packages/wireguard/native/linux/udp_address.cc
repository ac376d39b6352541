// The 24-byte address form <-> sockaddr (see udp_address.hh).
#include "udp_address.hh"

#include <arpa/inet.h>

#include <cstring>

namespace tunkit::wireguard {

namespace {
constexpr unsigned kScopeAt = 20;
}  // namespace

void makeAddress(const uint8_t* ip, size_t ipLength, uint16_t port, uint8_t* address, uint32_t scope) {
  std::memset(address, 0, kAddressBytes);
  address[0] = ipLength == 16 ? 6 : 4;
  address[2] = static_cast<uint8_t>(port >> 8);
  address[3] = static_cast<uint8_t>(port);
  std::memcpy(address + 4, ip, ipLength == 16 ? 16 : 4);
  if (ipLength == 16) std::memcpy(address + kScopeAt, &scope, sizeof scope);
}

uint32_t addressScope(const uint8_t* address) {
  uint32_t scope = 0;
  if (address[0] == 6) std::memcpy(&scope, address + kScopeAt, sizeof scope);
  return scope;
}

socklen_t toSockaddr(const uint8_t* address, bool ipv6Socket, sockaddr_storage* out) {
  std::memset(out, 0, sizeof *out);
  const uint16_t port = addressPort(address);
  if (address[0] != 4 && address[0] != 6) return 0;  // an endpoint the JS side could not encode
  const bool ipv4 = address[0] == 4;
  if (!ipv6Socket) {
    if (!ipv4) return 0;
    auto* in = reinterpret_cast<sockaddr_in*>(out);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    std::memcpy(&in->sin_addr, address + 4, 4);
    return sizeof *in;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(out);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  if (ipv4) {
    in6->sin6_addr.s6_addr[10] = 0xff;
    in6->sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(in6->sin6_addr.s6_addr + 12, address + 4, 4);
  } else {
    std::memcpy(in6->sin6_addr.s6_addr, address + 4, 16);
    in6->sin6_scope_id = addressScope(address);
  }
  return sizeof *in6;
}

void fromSockaddr(const sockaddr_storage& from, uint8_t* address) {
  std::memset(address, 0, kAddressBytes);
  if (from.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(from);
    const uint16_t port = ntohs(in.sin_port);
    address[0] = 4;
    address[2] = static_cast<uint8_t>(port >> 8);
    address[3] = static_cast<uint8_t>(port);
    std::memcpy(address + 4, &in.sin_addr, 4);
    return;
  }
  const auto& in6 = reinterpret_cast<const sockaddr_in6&>(from);
  const uint16_t port = ntohs(in6.sin6_port);
  address[2] = static_cast<uint8_t>(port >> 8);
  address[3] = static_cast<uint8_t>(port);
  if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
    address[0] = 4;
    std::memcpy(address + 4, in6.sin6_addr.s6_addr + 12, 4);
  } else {
    address[0] = 6;
    std::memcpy(address + 4, in6.sin6_addr.s6_addr, 16);
    const uint32_t scope = in6.sin6_scope_id;
    std::memcpy(address + kScopeAt, &scope, sizeof scope);
  }
}

}  // namespace tunkit::wireguard
