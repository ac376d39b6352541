// The send path. Why spin-then-yield and never Sleep: Windows rounds a short Sleep up to the
// timer tick (about 15 ms), during which an 8 MiB ring at line rate has long drained; spinning
// catches the usual case (the driver frees room within microseconds), SwitchToThread lets the
// driver's thread run on a busy core, and a time budget bounds the whole retry, after which the
// packet is dropped and counted (the ring stayed full: the Windows stack is not reading).
#include "send_queue.hh"

#include <chrono>
#include <cstring>

#include "win_error.hh"

namespace tunkit::windows_tun {

SendQueue::SendQueue(const WinApi& api, SessionHandle session, Handle quitEvent, const std::atomic<bool>& stopping,
                     Counters& counters, DeviceEnd<WinError>& end, uint32_t pendingSlots, uint32_t slotSize,
                     uint32_t retryBudgetMicros, std::function<void()> wakeJs)
    : api_(api),
      session_(session),
      quitEvent_(quitEvent),
      stopping_(stopping),
      counters_(counters),
      end_(end),
      pending_(pendingSlots, slotSize),
      retryBudgetMicros_(retryBudgetMicros),
      wakeJs_(std::move(wakeJs)),
      thread_(api) {
  pendingEvent_ = api_.createEventW(nullptr, 0, 0, nullptr);
  if (pendingEvent_ == nullptr) throw WinError(api_.getLastError(), "CreateEventW", "cannot create the send queue's event");
}

// JS thread (after join).
SendQueue::~SendQueue() {
  if (!thread_.running()) api_.closeHandle(pendingEvent_);
}

// JS thread.
void SendQueue::start() { thread_.start(&SendQueue::entry, this); }

// Send thread: its entry point (a Win32 thread routine).
uint32_t TUNKIT_WINAPI SendQueue::entry(void* self) {
  static_cast<SendQueue*>(self)->run();
  return 0;
}

// JS thread or send thread. AllocateSendPacket is thread-safe and its call order is the send order.
bool SendQueue::sendNow(const uint8_t* data, uint32_t size, uint32_t& error) {
  uint8_t* room = api_.allocateSendPacket(session_, size);
  if (room == nullptr) {
    error = api_.getLastError();
    return false;
  }
  std::memcpy(room, data, size);
  api_.sendPacket(session_, room);
  bump(counters_.txPackets);
  bump(counters_.txBytes, size);
  return true;
}

// JS thread.
bool SendQueue::send(const uint8_t* data, uint32_t size) {
  // Packets already pending go first: a new one may only try the ring when none waits.
  if (pending_.empty()) {
    uint32_t error = 0;
    if (sendNow(data, size, error)) return true;
    if (error != win32_error::kBufferOverflow) {
      refusedForGood(error);  // taken and counted: never a refusal the producer would wait on
      return true;
    }
    bump(counters_.txOverflows);
  }
  const bool wasEmpty = pending_.empty();
  if (!pending_.push(data, size)) return false;
  bump(counters_.txQueued);
  // One SetEvent per empty → non-empty transition; the auto-reset event keeps it until the thread waits.
  if (wasEmpty) api_.setEvent(pendingEvent_);
  return true;
}

// Any thread. WinTun documents two refusals of AllocateSendPacket: ERROR_BUFFER_OVERFLOW (the ring
// is full, retried by the caller) and ERROR_HANDLE_EOF (the adapter is terminating), which is how
// WinTun says the device ended by itself: recorded, and JS woken to close it.
void SendQueue::refusedForGood(uint32_t error) {
  bump(counters_.txDropped);
  if (error != win32_error::kHandleEof) return;
  if (end_.end(WinError(error, "WintunAllocateSendPacket", "the WinTun adapter was removed or its session ended"))) wakeJs_();
}

// JS thread. The flag and the ring index are seq_cst on both sides: either we see the space, or
// the send thread sees the flag after freeing and wakes JS.
bool SendQueue::hasSpaceOrNotify() {
  if (!pending_.full()) return true;
  jsWantsSpace_.store(true, std::memory_order_seq_cst);
  if (!pending_.full()) {
    jsWantsSpace_.store(false, std::memory_order_relaxed);
    return true;
  }
  return false;
}

// JS thread, after the send thread was joined.
uint64_t SendQueue::discardPending() {
  const uint64_t dropped = pending_.discardAll();
  bump(counters_.txDropped, dropped);
  return dropped;
}

// Send thread.
void SendQueue::retryFront(const uint8_t* data, uint32_t size) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  for (uint32_t attempt = 0;; ++attempt) {
    uint32_t error = 0;
    if (sendNow(data, size, error)) {
      stuck_ = false;
      return;
    }
    if (error != win32_error::kBufferOverflow) {
      refusedForGood(error);
      return;
    }
    bump(counters_.txOverflows);
    if (stuck_ || stopping_.load(std::memory_order_acquire)) {
      bump(counters_.txDropped);  // still full since the last budget ran out: one try per packet
      return;
    }
    if (attempt < kSpinAttempts) continue;
    if (Clock::now() - start >= std::chrono::microseconds(retryBudgetMicros_)) {
      stuck_ = true;
      bump(counters_.txDropped);
      return;
    }
    api_.switchToThread();
  }
}

// Send thread.
void SendQueue::run() {
  OwnedThread::nameCurrent(api_, u"wintun-send");
  const Handle handles[2] = {pendingEvent_, quitEvent_};
  while (!stopping_.load(std::memory_order_acquire)) {
    const uint8_t* data;
    uint32_t size;
    if (!pending_.front(data, size)) {
      if (api_.waitForMultipleObjects(2, handles, 0, kInfinite) != kWaitObject0) return;
      continue;
    }
    retryFront(data, size);
    pending_.pop();
    if (jsWantsSpace_.load(std::memory_order_seq_cst) && jsWantsSpace_.exchange(false, std::memory_order_seq_cst)) wakeJs_();
  }
}

}  // namespace tunkit::windows_tun
