// PacketRing: a bounded single-producer / single-consumer queue of packets in one preallocated
// slab of fixed-size slots (no allocation per packet). Lock-free: the producer owns `tail_`, the
// consumer owns `head_`. `reserve`/`commit` let a producer read() from a device straight into a
// slot. The cross-thread index stores and loads are sequentially consistent (not just
// release/acquire) so BatchChannel's "publish, then check the waiter flag" handshakes are sound
// without fences (ThreadSanitizer does not model fences); on x86 that costs one xchg per packet.
// Used as a queue thread's outbound queue (JS thread → queue thread) and as one lane of
// BatchChannel (queue thread → JS thread).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace tunkit {

class PacketRing {
 public:
  PacketRing(uint32_t slots, uint32_t slotSize)
      : slots_(slots),
        slotSize_(slotSize),
        slab_(new uint8_t[static_cast<size_t>(slots) * slotSize]),
        lengths_(new uint32_t[slots]()) {
    if (slots == 0 || slotSize == 0) throw std::invalid_argument("PacketRing needs at least one slot of at least one byte");
  }

  PacketRing(const PacketRing&) = delete;
  PacketRing& operator=(const PacketRing&) = delete;

  uint32_t slots() const { return slots_; }
  uint32_t slotSize() const { return slotSize_; }

  // ---- producer thread ----

  /** The next free slot (slotSize() bytes), or nullptr when the ring is full. Producer thread. */
  uint8_t* reserve() {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_.load(std::memory_order_seq_cst) >= slots_) return nullptr;
    return slot(tail);
  }

  /** Publishes the slot returned by the last reserve() with `size` bytes (≤ slotSize()). Producer thread. */
  void commit(uint32_t size) {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    lengths_[tail % slots_] = size;
    tail_.store(tail + 1, std::memory_order_seq_cst);
    pushed_.fetch_add(1, std::memory_order_relaxed);
  }

  /** Copies a packet in. False when full or larger than a slot (both counted). Producer thread. */
  bool push(const uint8_t* data, uint32_t size) {
    if (size > slotSize_) {
      oversize_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    uint8_t* target = reserve();
    if (target == nullptr) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (size > 0) std::memcpy(target, data, size);
    commit(size);
    return true;
  }

  /** Counts a refusal the caller handled itself (a failed reserve()). Producer thread. */
  void noteRefused() { refused_.fetch_add(1, std::memory_order_relaxed); }

  // ---- consumer thread ----

  /** The oldest packet, without removing it; false when empty. Consumer thread. */
  bool front(const uint8_t*& data, uint32_t& size) const {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_.load(std::memory_order_seq_cst)) return false;
    data = slot(head);
    size = lengths_[head % slots_];
    return true;
  }

  /** The packet `ahead` places after the oldest (0: the oldest); false when there are fewer. Consumer thread. */
  bool peek(uint32_t ahead, const uint8_t*& data, uint32_t& size) const {
    const uint64_t at = head_.load(std::memory_order_relaxed) + ahead;
    if (at >= tail_.load(std::memory_order_seq_cst)) return false;
    data = slot(at);
    size = lengths_[at % slots_];
    return true;
  }

  /** Removes the oldest packet (after front() returned true). Consumer thread. */
  void pop() { head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_seq_cst); }

  /** Removes the `count` oldest packets (after peek() showed them). Consumer thread. */
  void pop(uint32_t count) { head_.store(head_.load(std::memory_order_relaxed) + count, std::memory_order_seq_cst); }

  /**
   * Removes every packet queued now and returns how many: what a closing device counts as dropped.
   * A packet a producer commits meanwhile stays queued. Consumer thread.
   */
  uint32_t discardAll() {
    const auto count = static_cast<uint32_t>(size());  // never more than slots()
    pop(count);
    return count;
  }

  // ---- any thread (a snapshot) ----

  size_t size() const {
    const uint64_t tail = tail_.load(std::memory_order_acquire);
    const uint64_t head = head_.load(std::memory_order_acquire);
    return tail >= head ? static_cast<size_t>(tail - head) : 0;
  }
  bool empty() const { return size() == 0; }
  bool full() const { return size() >= slots_; }

  uint64_t pushed() const { return pushed_.load(std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  uint64_t oversize() const { return oversize_.load(std::memory_order_relaxed); }

 private:
  uint8_t* slot(uint64_t position) const { return slab_.get() + (position % slots_) * static_cast<size_t>(slotSize_); }

  const uint32_t slots_;
  const uint32_t slotSize_;
  std::unique_ptr<uint8_t[]> slab_;
  std::unique_ptr<uint32_t[]> lengths_;
  // Producer and consumer positions on separate cache lines (no false sharing).
  alignas(64) std::atomic<uint64_t> tail_{0};
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> pushed_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> oversize_{0};
};

}  // namespace tunkit
