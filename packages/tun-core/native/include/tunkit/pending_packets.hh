// PendingPackets: the small bounded FIFO of outbound packets the kernel refused for now (EAGAIN,
// ENOBUFS, ENOSPC), kept in order until the fd-readiness loop can write them. All slots are
// allocated once, up front: queuing a packet is a memcpy, never a malloc. JS thread only.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace tunkit {

class PendingPackets {
 public:
  /** `slots` packets of at most `slotSize` bytes each. */
  PendingPackets(uint32_t slots, uint32_t slotSize)
      : slotSize_(slotSize), bytes_(size_t{slots} * slotSize), lengths_(slots) {
    if (slots == 0 || slotSize == 0) throw std::invalid_argument("PendingPackets needs at least one slot of one byte");
  }

  uint32_t capacity() const { return static_cast<uint32_t>(lengths_.size()); }
  uint32_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  bool full() const { return count_ == capacity(); }

  /** Copies a packet in at the back; false when full or larger than a slot. */
  bool push(const uint8_t* packet, uint32_t length) {
    if (full() || length > slotSize_) return false;
    const uint32_t slot = (head_ + count_) % capacity();
    std::memcpy(bytes_.data() + size_t{slot} * slotSize_, packet, length);
    lengths_[slot] = length;
    ++count_;
    return true;
  }

  /** The oldest packet. Precondition: !empty(). */
  const uint8_t* frontData() const { return bytes_.data() + size_t{head_} * slotSize_; }
  uint32_t frontLength() const { return lengths_[head_]; }

  /** Removes the oldest packet. Precondition: !empty(). */
  void pop() {
    head_ = (head_ + 1) % capacity();
    --count_;
  }

  /** Discards everything; returns how many packets were discarded. */
  uint32_t clear() {
    const uint32_t dropped = count_;
    head_ = 0;
    count_ = 0;
    return dropped;
  }

 private:
  uint32_t slotSize_;
  std::vector<uint8_t> bytes_;
  std::vector<uint32_t> lengths_;
  uint32_t head_ = 0;
  uint32_t count_ = 0;
};

}  // namespace tunkit
