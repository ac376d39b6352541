// TUN offloads (IFF_VNET_HDR): every frame on the fd starts with a 10-byte virtio-net header.
// Reading, the kernel hands over TSO/USO super-packets of up to 64 KiB: Splitter cuts them into
// ordinary MTU-sized IP packets (lengths, IPv4 IDs, TCP sequence numbers and flags, checksums)
// and completes partial checksums. Writing, coalesce() merges consecutive TCP segments of one
// flow (or equal-size UDP datagrams) into one super-packet for the kernel to segment, as GRO
// would. Pure functions over byte buffers: no fd, no thread, testable from JS.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tunkit::linux_tun::offload {

constexpr size_t kVnetHeaderLength = 10;
/** Largest frame read or written: the header and a 64 KiB packet. */
constexpr size_t kMaxFrame = kVnetHeaderLength + 65535;

/** Cuts one frame (virtio-net header + packet) into IP packets. Resumable: next() one at a time. */
class Splitter {
 public:
  /** Takes a frame (modified in place: partial checksums completed). False when malformed. */
  bool load(uint8_t* frame, size_t size);
  /** True while next() has packets to give. */
  bool pending() const { return remaining_ > 0; }
  /** Writes the next packet into `out`; returns its length, or 0 when it does not fit (skipped). */
  uint32_t next(uint8_t* out, uint32_t capacity);
  /** Size the next packet will have (0 when none). */
  uint32_t nextSize() const;

 private:
  const uint8_t* packet_ = nullptr;
  size_t length_ = 0;
  size_t headerLength_ = 0;    // IP (with IPv6 extension headers) + TCP/UDP headers of a super-packet
  size_t ipHeaderLength_ = 0;  // where the TCP/UDP header starts
  uint32_t segment_ = 0;     // gso_size; 0 for a plain packet
  uint32_t index_ = 0;
  uint32_t remaining_ = 0;
  bool tcp_ = false;
  bool ipv6_ = false;
};

struct Packet {
  const uint8_t* data;
  uint32_t size;
};

/**
 * Builds the frame for packets[0..] into `out`: the leading run of packets that one super-packet
 * can carry (TCP segments of one flow in sequence; with `udp`, equal-size datagrams of one flow),
 * or just packets[0] with an empty header. Sets `taken` to the packets used; returns the frame
 * length (0 when `out` is too small for even one packet).
 */
size_t coalesce(const Packet* packets, size_t count, bool udp, uint8_t* out, size_t capacity, size_t& taken);

/** RFC 1071 sum of `data` added to `sum` (not folded). */
uint64_t sum16(const uint8_t* data, size_t length, uint64_t sum = 0);
/** Folds a sum to 16 bits (not inverted). */
uint16_t fold(uint64_t sum);

}  // namespace tunkit::linux_tun::offload
