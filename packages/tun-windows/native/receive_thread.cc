// The receive thread's loop. Why reserve a channel slot before ReceivePacket: when JS is slow the
// packet then stays in WinTun's ring (its 8 MiB default absorbs a burst) instead of being taken
// out and dropped; dropping there collapsed upload throughput in the reference design.
#include "receive_thread.hh"

#include <cstring>

#include "win_error.hh"

namespace tunkit::windows_tun {

ReceiveThread::ReceiveThread(const WinApi& api, SessionHandle session, Handle readEvent, Handle quitEvent,
                             const std::atomic<bool>& stopping, BatchChannel& inbound, Counters& counters,
                             DeviceEnd<WinError>& end, std::function<void()> wakeJs)
    : api_(api),
      session_(session),
      readEvent_(readEvent),
      quitEvent_(quitEvent),
      stopping_(stopping),
      inbound_(inbound),
      counters_(counters),
      end_(end),
      wakeJs_(std::move(wakeJs)),
      thread_(api) {
  // Auto-reset: one SetEvent from the space hook wakes one wait.
  spaceEvent_ = api_.createEventW(nullptr, 0, 0, nullptr);
  if (spaceEvent_ == nullptr) throw WinError(api_.getLastError(), "CreateEventW", "cannot create the receive thread's space event");
}

// JS thread (the owner joined the thread before destroying it).
ReceiveThread::~ReceiveThread() {
  if (!thread_.running()) api_.closeHandle(spaceEvent_);
  // else: the thread outlived its join timeout; its event stays open (leaked on purpose, never freed under it).
}

// JS thread.
void ReceiveThread::start() { thread_.start(&ReceiveThread::entry, this); }

// Consumer (JS) thread, from the BatchChannel space hook; also the closing thread via BatchChannel::close.
void ReceiveThread::wakeForSpace() { api_.setEvent(spaceEvent_); }

// Receive thread: its entry point (a Win32 thread routine).
uint32_t TUNKIT_WINAPI ReceiveThread::entry(void* self) {
  static_cast<ReceiveThread*>(self)->run();
  return 0;
}

// Receive thread.
bool ReceiveThread::waitFor(Handle event) {
  const Handle handles[2] = {event, quitEvent_};
  return api_.waitForMultipleObjects(2, handles, 0, kInfinite) == kWaitObject0 && !stopping_.load(std::memory_order_acquire);
}

// Receive thread.
void ReceiveThread::run() {
  OwnedThread::nameCurrent(api_, u"wintun-receive");
  uint32_t spinsLeft = 0;  // empty polls allowed before the next wait
  bool spinning = false;   // an empty poll happened since the last packet
  while (!stopping_.load(std::memory_order_acquire)) {
    uint8_t* slot = inbound_.reserve(0);
    if (slot == nullptr) {
      if (inbound_.closed()) return;
      // Full: JS is behind. Wait for the space hook; WinTun's ring holds what arrives meanwhile.
      bump(counters_.rxStalls);
      if (!waitFor(spaceEvent_)) return;
      continue;
    }
    uint32_t size = 0;
    uint8_t* packet = api_.receivePacket(session_, &size);
    if (packet != nullptr) {
      if (size <= inbound_.slotSize()) {
        std::memcpy(slot, packet, size);
        api_.releaseReceivePacket(session_, packet);
        inbound_.commit(0, size);
        bump(counters_.rxPackets);
        bump(counters_.rxBytes, size);
        if (spinning) bump(counters_.rxSpinHits);
      } else {
        api_.releaseReceivePacket(session_, packet);
        bump(counters_.rxDropped);  // larger than the MTU the channel was sized for
      }
      spinsLeft = kSpinPolls;
      spinning = false;
      continue;
    }
    const uint32_t error = api_.getLastError();
    if (error == win32_error::kNoMoreItems) {
      if (spinsLeft > 0) {
        --spinsLeft;
        spinning = true;
        continue;
      }
      bump(counters_.rxWaits);
      spinning = false;
      if (!waitFor(readEvent_)) return;
      continue;
    }
    // ERROR_HANDLE_EOF (the adapter is going away) or ERROR_INVALID_DATA (the ring is corrupt):
    // this session is over, which is WinTun's way of saying the device ended by itself (tun-core's
    // tun.ts). Record why and wake JS, which closes the device.
    const uint32_t code = error == 0 ? win32_error::kHandleEof : error;
    if (end_.end(WinError(code, "WintunReceivePacket", "the WinTun adapter was removed or its session ended"))) wakeJs_();
    return;
  }
}

}  // namespace tunkit::windows_tun
