// Counters of the WinTun ring, written by the receive thread, the send path and the send thread,
// read by stats() on the JS thread. Relaxed atomics: each is a monotonic count.
#pragma once

#include <atomic>
#include <cstdint>

namespace tunkit::windows_tun {

// Grouped by writer, each group on its own cache line: the receive thread bumps the rx group per
// packet while the JS thread and the send thread bump the tx group, and sharing one line made
// every packet of one direction invalidate the other direction's line.
struct Counters {
  // Receive thread (rxDropped also once at close, on the JS thread). The first four are
  // TunQueueStats fields; writeQueueStats reads all seven by name.
  alignas(64) std::atomic<uint64_t> rxPackets{0};
  std::atomic<uint64_t> rxBytes{0};
  std::atomic<uint64_t> rxDropped{0};
  std::atomic<uint64_t> rxStalls{0};
  std::atomic<uint64_t> rxWaits{0};       // waits on the read event (the ring was empty after spinning)
  std::atomic<uint64_t> rxSpinHits{0};    // packets found while spinning, without a wait
  // JS thread (send, sendMany) and send thread (the pending queue).
  alignas(64) std::atomic<uint64_t> txPackets{0};
  std::atomic<uint64_t> txBytes{0};
  std::atomic<uint64_t> txDropped{0};
  std::atomic<uint64_t> txOverflows{0};   // AllocateSendPacket answers of ERROR_BUFFER_OVERFLOW
  std::atomic<uint64_t> txQueued{0};      // packets that went through the pending queue
};

/** Adds one to a counter. Any thread. */
inline void bump(std::atomic<uint64_t>& counter, uint64_t by = 1) { counter.fetch_add(by, std::memory_order_relaxed); }

}  // namespace tunkit::windows_tun
