// Cryptokey routing for the native data plane: the JS Engine's allowed IPs (src/protocol/
// allowed-ips.ts) as an immutable binary trie per family, mapping prefixes to peer slots. JS owns
// the table and hands over a whole new copy on every change; lookups are longest-prefix match,
// reading the address in place, at most 32 or 128 steps, allocating nothing. Plain C++.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tunkit::wireguard {

class RouteTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  /** Maps `prefixLength` bits of `address` (4 or 16 bytes) to `slot`; a prefix mapped twice keeps the last. */
  void insert(const uint8_t* address, size_t addressLength, uint32_t prefixLength, uint32_t slot);

  /** The slot of the longest prefix covering `address` (4 or 16 bytes), or kNone. */
  uint32_t lookup(const uint8_t* address, size_t addressLength) const;

  /**
   * The slot for an IP packet's source or destination (`length` bytes at `packet`), or kNone when
   * no prefix covers it or the packet is too short for its version's header.
   */
  uint32_t lookupPacket(const uint8_t* packet, size_t length, bool source) const;

 private:
  struct Node {
    uint32_t children[2] = {0, 0};  // 0: none (node 0 is a root, never a child)
    uint32_t slot = kNone;
  };
  std::vector<Node> nodes_{Node{}, Node{}};  // [0] IPv4 root, [1] IPv6 root
};

}  // namespace tunkit::wireguard
