#include "route_table.hh"

namespace tunkit::wireguard {

namespace {
inline uint32_t bitAt(const uint8_t* address, uint32_t i) { return (address[i >> 3] >> (7 - (i & 7))) & 1; }
}  // namespace

void RouteTable::insert(const uint8_t* address, size_t addressLength, uint32_t prefixLength, uint32_t slot) {
  const uint32_t bits = addressLength == 4 ? 32 : 128;
  if (prefixLength > bits) prefixLength = bits;
  uint32_t node = addressLength == 4 ? 0 : 1;
  for (uint32_t i = 0; i < prefixLength; ++i) {
    const uint32_t b = bitAt(address, i);
    if (nodes_[node].children[b] == 0) {
      nodes_[node].children[b] = static_cast<uint32_t>(nodes_.size());
      nodes_.push_back(Node{});
    }
    node = nodes_[node].children[b];
  }
  nodes_[node].slot = slot;
}

uint32_t RouteTable::lookup(const uint8_t* address, size_t addressLength) const {
  const uint32_t bits = addressLength == 4 ? 32 : 128;
  uint32_t node = addressLength == 4 ? 0 : 1;
  uint32_t best = nodes_[node].slot;
  for (uint32_t i = 0; i < bits; ++i) {
    node = nodes_[node].children[bitAt(address, i)];
    if (node == 0) break;
    if (nodes_[node].slot != kNone) best = nodes_[node].slot;
  }
  return best;
}

uint32_t RouteTable::lookupPacket(const uint8_t* packet, size_t length, bool source) const {
  if (length < 1) return kNone;
  const uint8_t version = packet[0] >> 4;
  if (version == 4 && length >= 20) return lookup(packet + (source ? 12 : 16), 4);
  if (version == 6 && length >= 40) return lookup(packet + (source ? 8 : 24), 16);
  return kNone;
}

}  // namespace tunkit::wireguard
