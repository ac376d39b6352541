// The 24-byte address form the JS side and the socket share, and its conversion to and from a
// sockaddr. One form for both families keeps the JS side to one fixed-stride array per batch and
// makes "same peer" one memcmp: [family 4|6, 0, port hi, port lo, 4 or 16 address bytes, zeros,
// IPv6 scope id (4 bytes, host order; 0 but for link-local senders)]. The scope id is what makes a
// link-local sender (fe80::/10) answerable: without it the kernel cannot tell the interface.
// Family 0 is an address the JS side could not encode (a bad endpoint): never sent.
// Plain C++ (no N-API), tested by native/test.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

namespace tunkit::wireguard {

inline constexpr unsigned kAddressBytes = 24;

/** The form of `ip` (4 or 16 bytes), `port` and, for IPv6, `scope` (an interface index, 0: none). */
void makeAddress(const uint8_t* ip, size_t ipLength, uint16_t port, uint8_t* address, uint32_t scope = 0);

/**
 * The sockaddr to send to `address` from a socket of the given family: an IPv4 address becomes
 * v4-mapped on a dual-stack IPv6 socket. Returns its length, or 0 when the socket cannot reach it:
 * an IPv6 address from an IPv4 socket, or family 0 (never a sockaddr made from the wrong bytes).
 * Port 0 converts (binding takes it: any port); sending refuses it (udp_socket.cc).
 */
socklen_t toSockaddr(const uint8_t* address, bool ipv6Socket, sockaddr_storage* out);

/** The form of a received sockaddr (a v4-mapped IPv6 address becomes IPv4). */
void fromSockaddr(const sockaddr_storage& from, uint8_t* address);

/** The port of an address. */
inline uint16_t addressPort(const uint8_t* address) { return static_cast<uint16_t>((address[2] << 8) | address[3]); }

/** The IPv6 scope id of an address (0 for IPv4 and for global addresses). */
uint32_t addressScope(const uint8_t* address);

}  // namespace tunkit::wireguard
