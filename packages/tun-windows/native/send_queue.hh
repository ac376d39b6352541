// SendQueue: JS → WinTun. `send` allocates in WinTun's send ring, copies and sends, on the JS
// thread. When the ring is full (ERROR_BUFFER_OVERFLOW) the packet waits in a small bounded
// pending queue (a preallocated PacketRing) that the send thread retries with spin-then-yield;
// packets behind it queue too, so order holds. `send` returns false only when that queue is full.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include <tunkit/device_end.hh>
#include <tunkit/packet_ring.hh>

#include "counters.hh"
#include "owned_thread.hh"
#include "win_api.hh"
#include "win_error.hh"

namespace tunkit::windows_tun {

class SendQueue {
 public:
  /** Retries that only spin (re-call AllocateSendPacket at once) before the thread starts yielding. */
  static constexpr uint32_t kSpinAttempts = 128;

  /**
   * `wakeJs` runs on the send thread once space frees after hasSpaceOrNotify() returned false, and
   * on the thread that recorded in `end` that WinTun refused a send for good (ERROR_HANDLE_EOF).
   */
  SendQueue(const WinApi& api, SessionHandle session, Handle quitEvent, const std::atomic<bool>& stopping, Counters& counters,
            DeviceEnd<WinError>& end, uint32_t pendingSlots, uint32_t slotSize, uint32_t retryBudgetMicros,
            std::function<void()> wakeJs);
  ~SendQueue();
  SendQueue(const SendQueue&) = delete;
  SendQueue& operator=(const SendQueue&) = delete;

  /** Starts the send thread. JS thread. Throws WinError. */
  void start();

  /** Sends one packet (≤ slot size), or queues it when the ring is full; false when the queue is full too. JS thread. */
  bool send(const uint8_t* data, uint32_t size);

  /** True when send() can take a packet; if not, asks the send thread to call wakeJs once it can. JS thread. */
  bool hasSpaceOrNotify();

  /** Packets waiting in the pending queue now. Any thread (a snapshot). */
  size_t pending() const { return pending_.size(); }

  /** Waits for the send thread to end after the quit event was set; false on timeout. JS thread. */
  bool join(uint32_t milliseconds) { return thread_.join(milliseconds); }

  /** Drops what is still pending (after join), counted in txDropped. JS thread. */
  uint64_t discardPending();

 private:
  static uint32_t TUNKIT_WINAPI entry(void* self);
  /** Any thread: AllocateSendPacket + copy + SendPacket; false with `error` set when WinTun refused. */
  bool sendNow(const uint8_t* data, uint32_t size, uint32_t& error);
  /** Send thread. */
  void run();
  /** Send thread: retries the oldest pending packet until sent, dropped or stopping. */
  void retryFront(const uint8_t* data, uint32_t size);
  /** AllocateSendPacket failed with `error`, not a full ring: the packet is dropped and counted; ERROR_HANDLE_EOF ends the device. Any thread. */
  void refusedForGood(uint32_t error);

  const WinApi& api_;
  const SessionHandle session_;
  const Handle quitEvent_;
  Handle pendingEvent_ = nullptr;
  const std::atomic<bool>& stopping_;
  Counters& counters_;
  DeviceEnd<WinError>& end_;
  PacketRing pending_;
  const uint32_t retryBudgetMicros_;
  std::function<void()> wakeJs_;
  std::atomic<bool> jsWantsSpace_{false};
  bool stuck_ = false;  // send thread only: the budget ran out and nothing was sent since
  OwnedThread thread_;
};

}  // namespace tunkit::windows_tun
