// The sliding replay window for transport counters, the same algorithm and bounds as the JS
// ReplayWindow (src/protocol/replay.ts), so a keypair's window can move from JS to the native data
// plane (save/restore) and give the same answers: a ring of 256 32-bit words covering the last
// 8128 counters (as wireguard-go and the kernel); a counter is accepted once, if within the window
// and not seen before; the window
// only moves forward; counters at or above 2^53 - 1 are refused (JS numbers stop being exact).
// Plain C++, not thread-safe: its owner locks.
#pragma once

#include <cstdint>
#include <cstring>

namespace tunkit::wireguard {

class ReplayWindow {
 public:
  static constexpr uint32_t kBlocks = 256;
  static constexpr uint32_t kBlockBits = 32;
  static constexpr uint64_t kWindow = 8192 - 64;  // 8128: the ring less one 64-bit word, as replay.ts says why
  static constexpr uint64_t kMaxCounter = (uint64_t{1} << 53) - 1;

  /** Accepts `counter` (recording it) or refuses it as replayed, too old or too large. After authentication only. */
  bool accept(uint64_t counter) {
    if (counter >= kMaxCounter) return false;
    const uint64_t block = counter / kBlockBits;
    if (!seen_ || counter > last_) {
      const uint64_t lastBlock = seen_ ? last_ / kBlockBits : 0;
      const uint64_t clear = seen_ ? (block - lastBlock < kBlocks ? block - lastBlock : kBlocks) : kBlocks;
      for (uint64_t i = 1; i <= clear; ++i) bitmap_[(lastBlock + i) % kBlocks] = 0;
      last_ = counter;
      seen_ = true;
    } else if (last_ - counter > kWindow) {
      return false;
    }
    const uint32_t slot = static_cast<uint32_t>(block % kBlocks);
    const uint32_t bit = uint32_t{1} << (counter % kBlockBits);
    if (bitmap_[slot] & bit) return false;
    bitmap_[slot] |= bit;
    return true;
  }

  /** Copies the state out, in restore's form. */
  void save(uint32_t* bitmap, double& last) const {
    std::memcpy(bitmap, bitmap_, sizeof bitmap_);
    last = seen_ ? static_cast<double>(last_) : -1;
  }

  /** The JS window's state: its kBlocks words and its highest counter (-1: none seen). */
  void restore(const uint32_t* bitmap, double last) {
    std::memcpy(bitmap_, bitmap, sizeof bitmap_);
    seen_ = last >= 0;
    last_ = seen_ ? static_cast<uint64_t>(last) : 0;
  }

 private:
  uint32_t bitmap_[kBlocks] = {};
  uint64_t last_ = 0;
  bool seen_ = false;
};

}  // namespace tunkit::wireguard
