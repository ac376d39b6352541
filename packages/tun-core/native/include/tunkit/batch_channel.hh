// BatchChannel: the bounded multi-producer, single-consumer packet channel that carries packets
// from native threads (a TUN queue thread, a WinTun receive thread) to the JS thread.
//
// Semantics shared with the TS BatchChannel (packages/tun-core/src/batch-channel.ts):
//   - FIFO per producer: each producer owns one lane (a lock-free SPSC PacketRing), and the
//     consumer drains lanes in turn, starting from a rotating lane for fairness;
//   - bounded: a full lane refuses (counted), the producer decides what to do (stop reading);
//   - one wake-up per empty→non-empty transition: `notify` runs on the producer thread that
//     publishes the first packet after the consumer last drained, and not again until the next
//     drain (this is where an addon calls uv_async_send or a thread-safe function: once per batch);
//   - close wakes the consumer (one notify) and every producer (its space hook); packets accepted
//     before close are still drained, never lost.
// Producers learn about free space through a per-lane space hook, called by the consumer only
// when that lane's producer had found it full (never per packet).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "packet_batch_view.hh"
#include "packet_ring.hh"

namespace tunkit {

class BatchChannel {
 public:
  using Hook = std::function<void()>;

  struct LaneStats {
    uint64_t pushed;
    uint64_t refused;
  };

  /** `notify` runs on a producer thread (or the closing thread) and must not block. */
  BatchChannel(uint32_t lanes, uint32_t slotsPerLane, uint32_t slotSize, Hook notify) : notify_(std::move(notify)) {
    if (lanes == 0) throw std::invalid_argument("BatchChannel needs at least one lane");
    lanes_.reserve(lanes);
    for (uint32_t i = 0; i < lanes; ++i) lanes_.push_back(std::make_unique<Lane>(slotsPerLane, slotSize));
  }

  BatchChannel(const BatchChannel&) = delete;
  BatchChannel& operator=(const BatchChannel&) = delete;

  uint32_t laneCount() const { return static_cast<uint32_t>(lanes_.size()); }
  uint32_t slotSize() const { return lanes_[0]->ring.slotSize(); }

  /** Sets the hook that wakes lane `lane`'s producer when space frees. Owner thread, before producers start. */
  void setSpaceHook(uint32_t lane, Hook hook) { lanes_.at(lane)->spaceHook = std::move(hook); }

  // ---- producer thread of `lane` ----

  /**
   * A free slot of lane `lane` (slotSize() bytes) to read a packet into, or nullptr when the lane
   * is full (counted; the lane's space hook will run once the consumer frees a slot) or the
   * channel is closed. Producer thread of `lane`.
   */
  uint8_t* reserve(uint32_t lane) {
    if (closed_.load(std::memory_order_acquire)) return nullptr;
    Lane& l = *lanes_[lane];
    uint8_t* slot = l.ring.reserve();
    if (slot != nullptr) return slot;
    // Full: ask for a wake-up, then look again, so a slot freed in between is not missed
    // (the consumer frees, then checks the flag; we set the flag, then check for space).
    // (All four operations are seq_cst: PacketRing's index stores/loads and this flag.)
    l.wantsSpace.store(true, std::memory_order_seq_cst);
    slot = l.ring.reserve();
    if (slot != nullptr) {
      l.wantsSpace.store(false, std::memory_order_relaxed);
      return slot;
    }
    l.ring.noteRefused();
    return nullptr;
  }

  /** Publishes the slot from reserve(lane) holding `size` bytes. Producer thread of `lane`. */
  void commit(uint32_t lane, uint32_t size) {
    // The ring's index store and this exchange are seq_cst, as are drainInto's arm and index
    // loads: either we see the consumer armed and notify, or the consumer sees our packet.
    lanes_[lane]->ring.commit(size);
    if (armed_.exchange(false, std::memory_order_seq_cst)) {
      notifies_.fetch_add(1, std::memory_order_relaxed);
      if (notify_) notify_();
    }
  }

  /** Copies a packet in; false when full, closed or larger than a slot. Producer thread of `lane`. */
  bool push(uint32_t lane, const uint8_t* data, uint32_t size) {
    if (size > slotSize()) return lanes_[lane]->ring.push(data, size);  // counts oversize, returns false
    uint8_t* slot = reserve(lane);
    if (slot == nullptr) return false;
    if (size > 0) std::memcpy(slot, data, size);
    commit(lane, size);
    return true;
  }

  // ---- consumer (JS) thread ----

  /**
   * Moves up to `max` packets into `out` (appending, by the PacketBatch layout rule) and returns
   * how many. A packet that does not fit stays queued for the next call, except one that cannot
   * fit even an empty batch: that one is dropped and counted, so the channel never jams.
   * Re-arms the notify. Consumer thread.
   */
  uint32_t drainInto(PacketBatchView& out, uint32_t max) {
    armed_.store(true, std::memory_order_seq_cst);
    uint32_t moved = 0;
    const uint32_t count = laneCount();
    const uint32_t first = nextLane_;
    nextLane_ = (nextLane_ + 1) % count;
    bool batchFull = false;
    for (uint32_t i = 0; i < count && moved < max && !batchFull; ++i) {
      Lane& l = *lanes_[(first + i) % count];
      bool freed = false;
      const uint8_t* data = nullptr;
      uint32_t size = 0;
      while (moved < max && l.ring.front(data, size)) {
        if (!out.append(data, size)) {
          if (out.length == 0) {  // too big for any batch of this shape: drop it, counted
            l.ring.pop();
            freed = true;
            dropped_.fetch_add(1, std::memory_order_relaxed);
            continue;
          }
          batchFull = true;
          break;
        }
        l.ring.pop();
        freed = true;
        ++moved;
      }
      if (freed) wakeProducerIfWaiting(l);
    }
    return moved;
  }

  /**
   * Drops every packet still queued and returns how many: what a device closing counts as
   * undelivered. Consumer thread, once the producers have stopped.
   */
  uint64_t discardQueued() {
    uint64_t discarded = 0;
    for (auto& l : lanes_) discarded += l->ring.discardAll();
    return discarded;
  }

  /** Packets queued now, over all lanes (a snapshot). Any thread. */
  size_t size() const {
    size_t total = 0;
    for (const auto& l : lanes_) total += l->ring.size();
    return total;
  }

  /**
   * Closes: later reserve/push return false; the consumer gets one notify; every producer's
   * space hook runs so blocked producers wake and see the close. Idempotent. Any thread.
   */
  void close() {
    if (closed_.exchange(true, std::memory_order_acq_rel)) return;
    notifies_.fetch_add(1, std::memory_order_relaxed);
    if (notify_) notify_();
    for (auto& l : lanes_) {
      if (l->spaceHook) l->spaceHook();
    }
  }

  bool closed() const { return closed_.load(std::memory_order_acquire); }

  LaneStats laneStats(uint32_t lane) const {
    const Lane& l = *lanes_.at(lane);
    return LaneStats{l.ring.pushed(), l.ring.refused() + l.ring.oversize()};
  }
  uint64_t notifies() const { return notifies_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Lane {
    Lane(uint32_t slots, uint32_t slotSize) : ring(slots, slotSize) {}
    PacketRing ring;
    std::atomic<bool> wantsSpace{false};
    Hook spaceHook;
  };

  void wakeProducerIfWaiting(Lane& l) {
    if (l.wantsSpace.load(std::memory_order_seq_cst) && l.wantsSpace.exchange(false, std::memory_order_seq_cst)) {
      if (l.spaceHook) l.spaceHook();
    }
  }

  std::vector<std::unique_ptr<Lane>> lanes_;
  Hook notify_;
  alignas(64) std::atomic<bool> armed_{true};
  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> notifies_{0};
  std::atomic<uint64_t> dropped_{0};
  uint32_t nextLane_ = 0;  // consumer thread only
};

}  // namespace tunkit
