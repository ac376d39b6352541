#include "offload.hh"

#include <algorithm>
#include <cstring>

namespace tunkit::linux_tun::offload {

namespace {

// virtio-net header values (linux/virtio_net.h, which is not C++-clean): kernel ABI constants.
constexpr uint8_t VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
constexpr uint8_t VIRTIO_NET_HDR_GSO_NONE = 0;
constexpr uint8_t VIRTIO_NET_HDR_GSO_TCPV4 = 1;
constexpr uint8_t VIRTIO_NET_HDR_GSO_TCPV6 = 4;
constexpr uint8_t VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
constexpr uint8_t VIRTIO_NET_HDR_GSO_ECN = 0x80;

constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr uint8_t kFin = 0x01;
constexpr uint8_t kPsh = 0x08;
constexpr uint8_t kAck = 0x10;
constexpr uint8_t kCwr = 0x80;

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t get32(const uint8_t* p) { return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]; }
void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

struct VnetHeader {
  uint8_t flags;
  uint8_t gsoType;
  uint16_t headerLength;
  uint16_t gsoSize;
  uint16_t checksumStart;
  uint16_t checksumOffset;
};

// The header is in host byte order (legacy virtio-net over TUN without TUNSETVNETLE/BE).
VnetHeader readHeader(const uint8_t* frame) {
  VnetHeader h;
  h.flags = frame[0];
  h.gsoType = frame[1];
  std::memcpy(&h.headerLength, frame + 2, 2);
  std::memcpy(&h.gsoSize, frame + 4, 2);
  std::memcpy(&h.checksumStart, frame + 6, 2);
  std::memcpy(&h.checksumOffset, frame + 8, 2);
  return h;
}

void writeHeader(uint8_t* frame, const VnetHeader& h) {
  frame[0] = h.flags;
  frame[1] = h.gsoType;
  std::memcpy(frame + 2, &h.headerLength, 2);
  std::memcpy(frame + 4, &h.gsoSize, 2);
  std::memcpy(frame + 6, &h.checksumStart, 2);
  std::memcpy(frame + 8, &h.checksumOffset, 2);
}

/** The TCP/UDP pseudo-header sum for a packet whose L4 part is `l4Length` bytes. */
uint64_t pseudoHeader(const uint8_t* packet, bool ipv6, uint8_t protocol, uint32_t l4Length) {
  uint64_t sum = ipv6 ? sum16(packet + 8, 32) : sum16(packet + 12, 8);
  return sum + protocol + (l4Length >> 16) + (l4Length & 0xffff);
}

/** The checksum field value for a sum: its complement, except that UDP sends 0 as 0xffff (0 means "none"). */
uint16_t finishChecksum(uint64_t sum, bool udp) {
  const uint16_t checksum = static_cast<uint16_t>(~fold(sum));
  return udp && checksum == 0 ? 0xffff : checksum;
}

/** Writes the full L4 checksum of `packet` (IP header `ip` bytes, L4 after it). */
void l4Checksum(uint8_t* packet, size_t length, size_t ip, bool ipv6, bool tcp) {
  uint8_t* field = packet + ip + (tcp ? 16 : 6);
  put16(field, 0);
  const uint32_t l4 = static_cast<uint32_t>(length - ip);
  put16(field, finishChecksum(sum16(packet + ip, l4, pseudoHeader(packet, ipv6, tcp ? kTcp : kUdp, l4)), !tcp));
}

void ipv4HeaderChecksum(uint8_t* packet, size_t ihl) {
  put16(packet + 10, 0);
  put16(packet + 10, static_cast<uint16_t>(~fold(sum16(packet, ihl))));
}

/** IP header length and L4 protocol of a packet with no extension headers; 0 when unsupported. */
size_t ipHeader(const uint8_t* packet, size_t length, bool& ipv6, uint8_t& protocol) {
  if (length < 20) return 0;
  const uint8_t version = packet[0] >> 4;
  if (version == 4) {
    ipv6 = false;
    protocol = packet[9];
    const size_t ihl = (packet[0] & 0x0f) * 4u;
    return ihl >= 20 && ihl <= length ? ihl : 0;
  }
  if (version == 6 && length >= 40) {
    ipv6 = true;
    protocol = packet[6];
    return 40;
  }
  return 0;
}

/**
 * Offset of the TCP/UDP header of a GSO super-packet and its protocol: the IPv4 header length, or
 * for IPv6 the fixed header plus any hop-by-hop and destination-options headers. 0 when
 * unsupported: a routing header (it changes the pseudo-header's destination), a fragment header
 * (never in a super-packet), or anything malformed.
 */
size_t transportOffset(const uint8_t* packet, size_t length, bool& ipv6, uint8_t& protocol) {
  size_t offset = ipHeader(packet, length, ipv6, protocol);
  if (offset == 0 || !ipv6) return offset;
  constexpr uint8_t kHopByHop = 0;
  constexpr uint8_t kDestinationOptions = 60;
  for (int headers = 0; protocol == kHopByHop || protocol == kDestinationOptions; ++headers) {
    if (headers == 8 || offset + 8 > length) return 0;
    protocol = packet[offset];
    offset += (size_t{packet[offset + 1]} + 1) * 8;
  }
  return offset <= length ? offset : 0;
}

}  // namespace

// Eight bytes per step in the machine's byte order, folded and turned to network order once at
// the end: a ones' complement sum does not depend on byte order (RFC 1071, 2.B), and the word at a
// time loop is what showed in profiles (8 % of a queue thread's time, byte pairs one by one).
uint64_t sum16(const uint8_t* data, size_t length, uint64_t sum) {
  uint64_t acc = 0;  // 32-bit halves added: the carries pile up above bit 32, no overflow below 2^32 steps
  size_t i = 0;
  for (; i + 8 <= length; i += 8) {
    uint64_t word;
    std::memcpy(&word, data + i, 8);
    acc += (word & 0xffffffffu) + (word >> 32);
  }
  for (; i + 2 <= length; i += 2) {
    uint16_t half;
    std::memcpy(&half, data + i, 2);
    acc += half;
  }
  if (i < length) {
    uint16_t half = 0;
    std::memcpy(&half, data + i, 1);  // the odd last byte, padded with a zero byte after it
    acc += half;
  }
  auto folded = fold(acc);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  folded = static_cast<uint16_t>((folded >> 8) | (folded << 8));
#endif
  return sum + folded;
}

uint16_t fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

bool Splitter::load(uint8_t* frame, size_t size) {
  remaining_ = 0;
  if (size <= kVnetHeaderLength) return false;
  const VnetHeader h = readHeader(frame);
  uint8_t* packet = frame + kVnetHeaderLength;
  const size_t length = size - kVnetHeaderLength;
  packet_ = packet;
  length_ = length;
  index_ = 0;
  const uint8_t gso = h.gsoType & static_cast<uint8_t>(~VIRTIO_NET_HDR_GSO_ECN);
  if (gso == VIRTIO_NET_HDR_GSO_NONE) {
    if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
      // The field holds the pseudo-header sum: the checksum is the complement of the sum from
      // checksumStart to the end.
      const size_t field = size_t{h.checksumStart} + h.checksumOffset;
      if (field + 2 > length || h.checksumStart >= length) return false;
      bool ipv6 = false;
      uint8_t protocol = 0;
      const bool udp = transportOffset(packet, length, ipv6, protocol) == h.checksumStart && protocol == kUdp;
      put16(packet + field, finishChecksum(sum16(packet + h.checksumStart, length - h.checksumStart), udp));
    }
    segment_ = 0;
    remaining_ = 1;
    return true;
  }
  uint8_t protocol = 0;
  ipHeaderLength_ = transportOffset(packet, length, ipv6_, protocol);
  if (ipHeaderLength_ == 0) return false;
  if (gso == VIRTIO_NET_HDR_GSO_TCPV4 || gso == VIRTIO_NET_HDR_GSO_TCPV6) {
    if (protocol != kTcp || ipHeaderLength_ + 20 > length) return false;
    const size_t dataOffset = packet[ipHeaderLength_ + 12] >> 4;
    if (dataOffset < 5) return false;  // a TCP header is at least 20 bytes
    tcp_ = true;
    headerLength_ = ipHeaderLength_ + dataOffset * 4u;
  } else if (gso == VIRTIO_NET_HDR_GSO_UDP_L4) {
    if (protocol != kUdp) return false;
    tcp_ = false;
    headerLength_ = ipHeaderLength_ + 8;
  } else {
    return false;
  }
  if (headerLength_ > length || h.gsoSize == 0) return false;
  segment_ = h.gsoSize;
  const size_t payload = length - headerLength_;
  remaining_ = payload == 0 ? 1 : static_cast<uint32_t>((payload + segment_ - 1) / segment_);
  return true;
}

uint32_t Splitter::nextSize() const {
  if (remaining_ == 0) return 0;
  if (segment_ == 0) return static_cast<uint32_t>(length_);
  const size_t offset = headerLength_ + size_t{index_} * segment_;
  return static_cast<uint32_t>(headerLength_ + std::min<size_t>(segment_, length_ - offset));
}

uint32_t Splitter::next(uint8_t* out, uint32_t capacity) {
  if (remaining_ == 0) return 0;
  const uint32_t size = nextSize();
  if (size > capacity) {
    --remaining_;
    ++index_;
    return 0;
  }
  if (segment_ == 0) {
    std::memcpy(out, packet_, length_);
    remaining_ = 0;
    return size;
  }
  const size_t offset = headerLength_ + size_t{index_} * segment_;
  const size_t payload = size - headerLength_;
  std::memcpy(out, packet_, headerLength_);
  std::memcpy(out + headerLength_, packet_ + offset, payload);
  const bool last = remaining_ == 1;
  const size_t ip = ipHeaderLength_;
  if (ipv6_) {
    put16(out + 4, static_cast<uint16_t>(size - 40));
  } else {
    put16(out + 2, static_cast<uint16_t>(size));
    put16(out + 4, static_cast<uint16_t>(get16(packet_ + 4) + index_));
    ipv4HeaderChecksum(out, ip);
  }
  if (tcp_) {
    put32(out + ip + 4, get32(packet_ + ip + 4) + index_ * segment_);
    uint8_t flags = out[ip + 13];
    if (!last) flags &= static_cast<uint8_t>(~(kFin | kPsh));
    if (index_ > 0) flags &= static_cast<uint8_t>(~kCwr);
    out[ip + 13] = flags;
  } else {
    put16(out + ip + 4, static_cast<uint16_t>(size - ip));
  }
  l4Checksum(out, size, ip, ipv6_, tcp_);
  ++index_;
  --remaining_;
  return size;
}

namespace {

struct Flow {
  bool ipv6;
  bool tcp;
  size_t ip;      // IP header length
  size_t header;  // IP + L4 header length
  uint32_t payload;
};

/** A packet that can start or join a run: plain IPv4 (no options, not fragmented) or IPv6 without extension headers. */
bool candidate(const Packet& p, bool udp, Flow& f) {
  uint8_t protocol = 0;
  f.ip = ipHeader(p.data, p.size, f.ipv6, protocol);
  if (f.ip == 0) return false;
  if (!f.ipv6) {
    if (f.ip != 20 || (get16(p.data + 6) & 0x3fff) != 0 || get16(p.data + 2) != p.size) return false;
  } else if (get16(p.data + 4) + 40u != p.size) {
    return false;
  }
  if (protocol == kTcp) {
    if (p.size < f.ip + 20) return false;
    f.tcp = true;
    f.header = f.ip + (p.data[f.ip + 12] >> 4) * 4u;
    const uint8_t flags = p.data[f.ip + 13];
    if (f.header < f.ip + 20 || f.header > p.size || (flags & ~kPsh) != kAck) return false;
  } else if (protocol == kUdp && udp) {
    f.tcp = false;
    f.header = f.ip + 8;
    if (p.size < f.header || get16(p.data + f.ip + 4) != p.size - f.ip) return false;
  } else {
    return false;
  }
  f.payload = static_cast<uint32_t>(p.size - f.header);
  return f.payload > 0;
}

/** Same flow and same headers apart from what segmentation changes. */
bool sameFlow(const Packet& a, const Flow& fa, const Packet& b, const Flow& fb) {
  if (fa.ipv6 != fb.ipv6 || fa.tcp != fb.tcp || fa.header != fb.header) return false;
  const uint8_t* x = a.data;
  const uint8_t* y = b.data;
  if (fa.ipv6) {
    if (std::memcmp(x, y, 4) != 0 || std::memcmp(x + 6, y + 6, 34) != 0) return false;
  } else if (x[1] != y[1] || std::memcmp(x + 6, y + 6, 4) != 0 || std::memcmp(x + 12, y + 12, 8) != 0) {
    return false;
  }
  const size_t ip = fa.ip;
  if (!fa.tcp) return std::memcmp(x + ip, y + ip, 4) == 0;  // ports
  // Ports, ack, data offset, window, urgent pointer and options equal; flags checked by candidate().
  return std::memcmp(x + ip, y + ip, 4) == 0 && std::memcmp(x + ip + 8, y + ip + 8, 5) == 0 &&
         std::memcmp(x + ip + 14, y + ip + 14, 2) == 0 && std::memcmp(x + ip + 18, y + ip + 18, fa.header - ip - 18) == 0;
}

}  // namespace

size_t coalesce(const Packet* packets, size_t count, bool udp, uint8_t* out, size_t capacity, size_t& taken) {
  taken = 0;
  if (count == 0 || packets[0].size + kVnetHeaderLength > capacity) return 0;
  const Packet& first = packets[0];
  Flow flow;
  size_t run = 1;
  size_t total = first.size;
  if (candidate(first, udp, flow) && !(flow.tcp && (first.data[flow.ip + 13] & kPsh))) {
    uint32_t expectedSeq = flow.tcp ? get32(first.data + flow.ip + 4) + flow.payload : 0;
    while (run < count) {
      const Packet& p = packets[run];
      Flow f;
      if (!candidate(p, udp, f) || !sameFlow(first, flow, p, f) || f.payload > flow.payload) break;
      if (total + f.payload > 65535 || total + f.payload + kVnetHeaderLength > capacity) break;
      if (flow.tcp && get32(p.data + f.ip + 4) != expectedSeq) break;
      expectedSeq += f.payload;
      total += f.payload;
      ++run;
      // A short segment, or PSH, ends the run.
      if (f.payload < flow.payload || (flow.tcp && (p.data[f.ip + 13] & kPsh))) break;
    }
  }
  VnetHeader h{};
  if (run == 1) {
    writeHeader(out, h);
    std::memcpy(out + kVnetHeaderLength, first.data, first.size);
    taken = 1;
    return kVnetHeaderLength + first.size;
  }
  uint8_t* packet = out + kVnetHeaderLength;
  std::memcpy(packet, first.data, flow.header);
  size_t at = flow.header;
  for (size_t i = 0; i < run; ++i) {
    Flow f;
    candidate(packets[i], udp, f);
    std::memcpy(packet + at, packets[i].data + f.header, f.payload);
    at += f.payload;
  }
  const size_t ip = flow.ip;
  if (flow.ipv6) {
    put16(packet + 4, static_cast<uint16_t>(total - 40));
  } else {
    put16(packet + 2, static_cast<uint16_t>(total));
    ipv4HeaderChecksum(packet, ip);
  }
  const uint32_t l4 = static_cast<uint32_t>(total - ip);
  if (flow.tcp) {
    const Packet& last = packets[run - 1];
    Flow lf;
    candidate(last, udp, lf);
    packet[ip + 13] |= static_cast<uint8_t>(last.data[lf.ip + 13] & kPsh);
    h.gsoType = flow.ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
    h.checksumOffset = 16;
  } else {
    put16(packet + ip + 4, static_cast<uint16_t>(l4));
    h.gsoType = VIRTIO_NET_HDR_GSO_UDP_L4;
    h.checksumOffset = 6;
  }
  // The checksum field holds the pseudo-header sum; the kernel completes it per segment.
  put16(packet + ip + h.checksumOffset, fold(pseudoHeader(packet, flow.ipv6, flow.tcp ? kTcp : kUdp, l4)));
  h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  h.headerLength = static_cast<uint16_t>(flow.header);
  h.gsoSize = static_cast<uint16_t>(flow.payload);
  h.checksumStart = static_cast<uint16_t>(ip);
  writeHeader(out, h);
  taken = run;
  return kVnetHeaderLength + total;
}

}  // namespace tunkit::linux_tun::offload
