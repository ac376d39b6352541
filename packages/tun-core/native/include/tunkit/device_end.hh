// DeviceEnd: why a device ended by itself (tun-core's tun.ts, "Ends by itself"), recorded once.
// Whichever thread first sees its platform's signal (a Linux queue thread's EBADFD, WinTun's
// ERROR_HANDLE_EOF, the fd-readiness loop's dead or disconnected fd) records the OS error here,
// then wakes JS; JS reads it as the device's `endedBy` and closes the device. Later ends are
// ignored: the first one is the cause. Plain C++ (no Napi types), any thread; `Error` is the
// addon's OS error type (OsError, or tun-windows' WinError).
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <utility>

namespace tunkit {

template <typename Error>
class DeviceEnd {
 public:
  /** Records `error` as why the device ended, unless an end was recorded already; true when this call recorded it. Any thread. */
  bool end(Error error) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (endedBy_) return false;
    endedBy_.emplace(std::move(error));
    ended_.store(true, std::memory_order_release);
    return true;
  }

  /** True once end() ran: one atomic load, for hot paths. Any thread. */
  bool ended() const { return ended_.load(std::memory_order_acquire); }

  /** A copy of the recorded error; empty while the device runs. Any thread. */
  std::optional<Error> endedBy() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return endedBy_;
  }

 private:
  mutable std::mutex mutex_;
  std::optional<Error> endedBy_;
  std::atomic<bool> ended_{false};
};

}  // namespace tunkit
