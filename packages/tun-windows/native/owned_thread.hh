// OwnedThread: one native thread started and joined through the WinApi table (CreateThread and
// WaitForSingleObject on Windows, the fake's pthreads elsewhere), so "join with a timeout" is the
// same code on both. The owner (the device, on the JS thread) starts it and joins it.
#pragma once

#include <cstdint>

#include "win_api.hh"
#include "win_error.hh"

namespace tunkit::windows_tun {

class OwnedThread {
 public:
  explicit OwnedThread(const WinApi& api) : api_(api) {}
  ~OwnedThread() {
    if (handle_ != nullptr) join(kInfinite);
  }
  OwnedThread(const OwnedThread&) = delete;
  OwnedThread& operator=(const OwnedThread&) = delete;

  /** Starts `routine(argument)`. JS thread. Throws WinError. */
  void start(ThreadRoutine routine, void* argument) {
    handle_ = api_.createThread(nullptr, 0, routine, argument, 0, nullptr);
    if (handle_ == nullptr) throw WinError(api_.getLastError(), "CreateThread", "cannot start a WinTun thread");
  }

  /**
   * Waits up to `milliseconds` for the thread to end; true when it ended (the handle is then
   * closed). False: it is still running, and the handle is kept (never close what still runs). JS thread.
   */
  bool join(uint32_t milliseconds) {
    if (handle_ == nullptr) return true;
    if (api_.waitForSingleObject(handle_, milliseconds) != kWaitObject0) return false;
    api_.closeHandle(handle_);
    handle_ = nullptr;
    return true;
  }

  bool running() const { return handle_ != nullptr; }

  /** Names the calling thread (a no-op where SetThreadDescription is missing). The thread itself. */
  static void nameCurrent(const WinApi& api, const char16_t* name) {
    if (api.setThreadDescription != nullptr) api.setThreadDescription(api.getCurrentThread(), name);
  }

 private:
  const WinApi& api_;
  Handle handle_ = nullptr;
};

}  // namespace tunkit::windows_tun
