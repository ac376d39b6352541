// The C++ twin of tun-core's flowHash (src/ip.ts): same fields, same FNV-1a per endpoint, same
// murmur3 finalizer, so the TS and native sides agree (a test checks that they do).
#include "flow_hash.hh"

namespace tunkit::linux_tun {

namespace {

constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;

uint32_t read16(const uint8_t* p) { return (uint32_t{p[0]} << 8) | p[1]; }

bool isExtension(uint8_t next) {
  return next == 0 || next == 43 || next == 44 || next == 51 || next == 60 || next == 135 || next == 139 || next == 140;
}

uint32_t endpointHash(const uint8_t* address, size_t length, uint32_t port) {
  uint32_t h = 0x811c9dc5u;
  for (size_t i = 0; i < length; ++i) h = (h ^ address[i]) * 0x01000193u;
  h = (h ^ (port >> 8)) * 0x01000193u;
  h = (h ^ (port & 0xff)) * 0x01000193u;
  return h;
}

uint32_t mix32(uint32_t h) {
  h = (h ^ (h >> 16)) * 0x85ebca6bu;
  h = (h ^ (h >> 13)) * 0xc2b2ae35u;
  return h ^ (h >> 16);
}

}  // namespace

uint32_t flowHash(const uint8_t* p, size_t length) {
  if (length == 0) return 0;
  const unsigned version = p[0] >> 4;
  size_t addressLength;
  size_t sourceAt;
  uint8_t protocol;
  size_t offset;
  bool nonFirstFragment = false;
  if (version == 4) {
    if (length < 20) return 0;
    const size_t ihl = size_t{p[0] & 0x0fu} * 4;
    if (ihl < 20 || ihl > length) return 0;
    addressLength = 4;
    sourceAt = 12;
    protocol = p[9];
    offset = ihl;
    nonFirstFragment = (read16(p + 6) & 0x1fff) != 0;
  } else if (version == 6) {
    if (length < 40) return 0;
    addressLength = 16;
    sourceAt = 8;
    uint8_t next = p[6];
    offset = 40;
    for (int i = 0; i < 8 && isExtension(next); ++i) {
      if (offset + 8 > length) return 0;
      const uint8_t following = p[offset];
      size_t extension;
      if (next == 44) {
        extension = 8;
        nonFirstFragment = (read16(p + offset + 2) & 0xfff8) != 0;
      } else if (next == 51) {
        extension = (size_t{p[offset + 1]} + 2) * 4;
      } else {
        extension = (size_t{p[offset + 1]} + 1) * 8;
      }
      offset += extension;
      next = following;
    }
    if (isExtension(next) || offset > length) return 0;
    protocol = next;
  } else {
    return 0;
  }
  uint32_t sourcePort = 0;
  uint32_t destinationPort = 0;
  if ((protocol == kTcp || protocol == kUdp) && !nonFirstFragment && offset + 4 <= length) {
    sourcePort = read16(p + offset);
    destinationPort = read16(p + offset + 2);
  }
  const uint32_t a = endpointHash(p + sourceAt, addressLength, sourcePort);
  const uint32_t b = endpointHash(p + sourceAt + addressLength, addressLength, destinationPort);
  const uint32_t low = a < b ? a : b;
  const uint32_t high = a < b ? b : a;
  return mix32(mix32(low ^ (uint32_t{protocol} + 1u) * 0x9e3779b1u) ^ high);
}

}  // namespace tunkit::linux_tun
