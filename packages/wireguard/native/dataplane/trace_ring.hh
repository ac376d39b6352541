// TraceRing: when each batch the data plane handled was ready (the kernel's receive time, or the
// device thread's wake-up), when the data plane took it, when its AEAD was done and when it was
// handed on (sendmmsg or the TUN write returned), for finding where a lone packet waits
// (bench/latency). Recorded only while tracing is on; the last kEvents batches are kept.
// Written by any device thread, read by the JS thread; every field is atomic, so a snapshot taken
// while threads write may hold a half-written event at the edge, never undefined behaviour.
#pragma once

#include <atomic>
#include <cstdint>

namespace tunkit::wireguard {

class TraceRing {
 public:
  static constexpr uint32_t kEvents = 16384;
  static constexpr uint32_t kFields = 7;
  enum Kind : uint32_t { FromTun = 0, FromUdp = 1 };

  /** Any thread. */
  void record(Kind kind, uint32_t thread, uint32_t count, int64_t readyAt, int64_t start, int64_t crypto, int64_t done) {
    const uint64_t n = next_.fetch_add(1, std::memory_order_relaxed);
    Slot& s = slots_[n % kEvents];
    s.fields[0].store(kind, std::memory_order_relaxed);
    s.fields[1].store(thread, std::memory_order_relaxed);
    s.fields[2].store(count, std::memory_order_relaxed);
    s.fields[3].store(readyAt, std::memory_order_relaxed);
    s.fields[4].store(start, std::memory_order_relaxed);
    s.fields[5].store(crypto, std::memory_order_relaxed);
    s.fields[6].store(done, std::memory_order_relaxed);
    s.sequence.store(n + 1, std::memory_order_release);
  }

  /**
   * Copies the events held, oldest first, kFields numbers each ([kind, thread, count, readyAt,
   * start, crypto, done], times in CLOCK_MONOTONIC ns) into `out`; returns how many. JS thread.
   */
  uint32_t snapshot(double* out, uint32_t capacity) const {
    const uint64_t end = next_.load(std::memory_order_acquire);
    const uint64_t begin = end > kEvents ? end - kEvents : 0;
    uint32_t written = 0;
    for (uint64_t n = begin; n < end && written < capacity; ++n) {
      const Slot& s = slots_[n % kEvents];
      if (s.sequence.load(std::memory_order_acquire) != n + 1) continue;  // being rewritten
      for (uint32_t f = 0; f < kFields; ++f) out[size_t{written} * kFields + f] = static_cast<double>(s.fields[f].load(std::memory_order_relaxed));
      ++written;
    }
    return written;
  }

 private:
  struct Slot {
    std::atomic<uint64_t> sequence{0};
    std::atomic<int64_t> fields[kFields] = {};
  };
  std::atomic<uint64_t> next_{0};
  Slot slots_[kEvents];
};

}  // namespace tunkit::wireguard
