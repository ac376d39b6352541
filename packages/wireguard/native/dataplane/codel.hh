// CoDel (RFC 8289) for the UDP receive queue: when even the best of the recent batches had waited
// in the socket longer than kTarget for a whole kInterval, a standing queue has formed (the
// receive thread cannot keep up: the CPU is the bottleneck). A transport datagram is then dropped
// at the head, and again at shortening intervals (interval / sqrt(drops)) while the queue stands,
// so TCP inside the tunnel slows down at a few milliseconds of queue instead of when the socket's
// megabytes overflow (18.7 ms of ping under load before, issue 15). Bursts that drain within an
// interval (a GRO batch, a scheduling hiccup on a busy machine) never cause a drop. Plain C++,
// time given by the caller; one per receive thread, not thread-safe.
#pragma once

#include <cmath>
#include <cstdint>

namespace tunkit::wireguard {

class CoDel {
 public:
  /**
   * 2 ms: the lab's round trip is a fraction of a millisecond, so a queue of 2 ms is already ten
   * round trips of delay; a smaller target dropped on a loaded 2-core VM's ordinary scheduling
   * jitter. 40 ms: long enough that TCP at these round trips (well under a millisecond) answers a
   * drop many times over before the next, short enough to act within a ping or two at 12/s.
   */
  static constexpr int64_t kTarget = 2'000'000;
  static constexpr int64_t kInterval = 40'000'000;

  /**
   * A batch is taken at `now` whose first datagram arrived at `arrivedAt` (ns; 0: unknown, never
   * drops): true when its first transport datagram should be dropped. Receive thread.
   */
  bool shouldDrop(int64_t arrivedAt, int64_t now) {
    if (arrivedAt <= 0) return false;
    const int64_t sojourn = now - arrivedAt;
    bool okToDrop = false;
    if (sojourn < kTarget) {
      firstAboveAt_ = 0;
    } else if (firstAboveAt_ == 0) {
      firstAboveAt_ = now + kInterval;
    } else if (now >= firstAboveAt_) {
      okToDrop = true;
    }
    if (dropping_) {
      if (!okToDrop) {
        dropping_ = false;
        return false;
      }
      if (now >= dropNext_) {
        ++count_;
        dropNext_ = controlLaw(dropNext_);
        return true;
      }
      return false;
    }
    if (!okToDrop) return false;
    dropping_ = true;
    // Coming back soon after the last dropping spell: start from near where it ended.
    count_ = (count_ > 2 && now - dropNext_ < 16 * kInterval) ? count_ - 2 : 1;
    dropNext_ = controlLaw(now);
    return true;
  }

  uint32_t drops() const { return count_; }

 private:
  int64_t controlLaw(int64_t from) const {
    return from + static_cast<int64_t>(static_cast<double>(kInterval) / std::sqrt(static_cast<double>(count_)));
  }

  int64_t firstAboveAt_ = 0;
  int64_t dropNext_ = 0;
  uint32_t count_ = 0;
  bool dropping_ = false;
};

}  // namespace tunkit::wireguard
