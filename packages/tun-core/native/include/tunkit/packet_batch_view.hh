// PacketBatchView: the memory of a JS PacketBatch (packages/tun-core/src/packet-batch.ts) as
// plain pointers, so native threads and N-API glue can fill a batch in place without any Napi
// type. The layout rule is the TS one, exactly: packet i starts at bytesUsed + headroom; after it
// bytesUsed = align8(start + length + tailroom); a packet fits iff length < capacity and its size
// is at most byteCapacity - bytesUsed - headroom - tailroom.
#pragma once

#include <cstdint>
#include <cstring>

namespace tunkit {

inline uint32_t align8(uint64_t n) { return static_cast<uint32_t>((n + 7u) & ~uint64_t{7}); }

struct PacketBatchView {
  uint8_t* buffer = nullptr;
  uint32_t* offsets = nullptr;
  uint32_t* lengths = nullptr;
  uint32_t capacity = 0;
  uint32_t byteCapacity = 0;
  uint32_t headroom = 0;
  uint32_t tailroom = 0;
  /** In/out: packets held, and bytes of `buffer` used (8-aligned end of the last packet's tailroom). */
  uint32_t length = 0;
  uint32_t bytesUsed = 0;

  /** Largest packet that still fits (0 when full). Any thread that owns the view. */
  uint32_t spaceForNext() const {
    if (length >= capacity) return 0;
    const uint64_t used = uint64_t{bytesUsed} + headroom + tailroom;
    return used >= byteCapacity ? 0 : static_cast<uint32_t>(byteCapacity - used);
  }

  /** Room for a packet of `size` bytes, appended; nullptr when it does not fit. */
  uint8_t* reserve(uint32_t size) {
    // The length test first, as in the TS reserveAt: spaceForNext is 0 for a full batch, which a
    // 0-byte size would pass, and offsets[capacity] is one past the end.
    if (length >= capacity || size > spaceForNext()) return nullptr;
    const uint32_t start = bytesUsed + headroom;
    offsets[length] = start;
    lengths[length] = size;
    ++length;
    bytesUsed = align8(uint64_t{start} + size + tailroom);
    return buffer + start;
  }

  /** Copies a packet in; false when it does not fit. */
  bool append(const uint8_t* data, uint32_t size) {
    uint8_t* slot = reserve(size);
    if (slot == nullptr) return false;
    if (size > 0) std::memcpy(slot, data, size);
    return true;
  }
};

}  // namespace tunkit
