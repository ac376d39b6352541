// UDP GSO on send: which datagrams of a batch can leave as one message. The kernel splits a
// message sent with UDP_SEGMENT = s into datagrams of s bytes (the last may be shorter), all to
// the message's one destination, so a run is equal-size datagrams to one address, ended by a
// shorter one. wireguard-go groups the same way (conn/gso_linux.go). Plain C++, tested by native/test.
#pragma once

#include <cstdint>

namespace tunkit::wireguard {

/** The kernel's UDP_MAX_SEGMENTS: datagrams per GSO message. */
inline constexpr uint32_t kMaxGsoSegments = 64;

/** Payload bytes of one GSO message: one UDP datagram's worth (64 KiB less the IP and UDP headers, with margin). */
inline constexpr uint32_t kMaxGsoBytes = 65000;

/**
 * How many datagrams, from the first of `lengths` and `addresses` (kAddressBytes each), go out as one
 * message: at least 1, at most `maxRun` (the datagrams available, the iovecs left, 1 without GSO)
 * and kMaxGsoSegments, all to the first's address, all of the first's size except a shorter last
 * one, kMaxGsoBytes in all. Empty datagrams are never grouped: a segment size of 0 means no GSO,
 * and an empty last segment would not be sent at all.
 */
uint32_t gsoRunLength(const uint32_t* lengths, const uint8_t* addresses, uint32_t maxRun);

}  // namespace tunkit::wireguard
