// ReceiveThread: the one dedicated thread that moves packets from WinTun's receive ring into
// tun-core's BatchChannel. It polls ReceivePacket until ERROR_NO_MORE_ITEMS (spinning a bounded
// number of polls first while traffic flows), then sleeps in WaitForMultipleObjects on the
// session's read event and the device's quit event. A full channel makes it wait on its space
// event instead, leaving packets in WinTun's ring (never dropping them there). Any other answer of
// ReceivePacket (ERROR_HANDLE_EOF: the adapter is being removed) ends the device by itself: it is
// recorded in the device's DeviceEnd, JS is woken, and the thread stops.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include <tunkit/batch_channel.hh>
#include <tunkit/device_end.hh>

#include "counters.hh"
#include "owned_thread.hh"
#include "win_api.hh"
#include "win_error.hh"

namespace tunkit::windows_tun {

class ReceiveThread {
 public:
  /** Empty polls of ReceivePacket before a wait, after a packet arrived (traffic is flowing). */
  static constexpr uint32_t kSpinPolls = 256;

  /** `wakeJs` runs on the receive thread after it recorded in `end` that WinTun ended the session (ERROR_HANDLE_EOF...). */
  ReceiveThread(const WinApi& api, SessionHandle session, Handle readEvent, Handle quitEvent, const std::atomic<bool>& stopping,
                BatchChannel& inbound, Counters& counters, DeviceEnd<WinError>& end, std::function<void()> wakeJs);
  ~ReceiveThread();
  ReceiveThread(const ReceiveThread&) = delete;
  ReceiveThread& operator=(const ReceiveThread&) = delete;

  /** Starts the thread. JS thread. Throws WinError. */
  void start();

  /** The channel freed space after this thread found it full: wake it. Consumer (JS) thread. */
  void wakeForSpace();

  /** Waits for the thread to end after the quit event was set; false on timeout. JS thread. */
  bool join(uint32_t milliseconds) { return thread_.join(milliseconds); }

 private:
  static uint32_t TUNKIT_WINAPI entry(void* self);
  /** Receive thread. */
  void run();
  /** Receive thread: waits on `event` or quit; false when it should stop. */
  bool waitFor(Handle event);

  const WinApi& api_;
  const SessionHandle session_;
  const Handle readEvent_;
  const Handle quitEvent_;
  Handle spaceEvent_ = nullptr;
  const std::atomic<bool>& stopping_;
  BatchChannel& inbound_;
  Counters& counters_;
  DeviceEnd<WinError>& end_;
  std::function<void()> wakeJs_;
  OwnedThread thread_;
};

}  // namespace tunkit::windows_tun
