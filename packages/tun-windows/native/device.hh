// WintunDevice: the N-API object behind WindowsTun (src/windows-tun.ts), tun-core's
// NativeBatchDevice over one WinTun session. It owns the session, the receive thread, the send
// queue and its thread, the inbound BatchChannel and the thread-safe function that wakes JS once
// per batch. Every method here runs on the JS thread.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>

#include <tunkit/batch_channel.hh>
#include <tunkit/device_end.hh>
#include <tunkit/js_wake.hh>

#include "adapter.hh"
#include "counters.hh"
#include "receive_thread.hh"
#include "send_queue.hh"
#include "win_api.hh"
#include "win_error.hh"

namespace tunkit::windows_tun {

class WintunDevice : public Napi::ObjectWrap<WintunDevice> {
 public:
  static Napi::Function Define(Napi::Env env);

  /** new WintunDevice({ name, guid?, ringCapacity, mtu, inboundSlots, pendingSlots, sendRetryMicros, dllPaths }, onWake). */
  explicit WintunDevice(const Napi::CallbackInfo& info);
  ~WintunDevice() override;

 private:
  /** The adapter's NET_LUID as a decimal string (64 bits do not fit a JS number). */
  Napi::Value Luid(const Napi::CallbackInfo& info);
  Napi::Value Created(const Napi::CallbackInfo& info);
  /** undefined while the session runs; once it ended by itself, the WinError (errno "ERROR_HANDLE_EOF", syscall) saying so. */
  Napi::Value EndedBy(const Napi::CallbackInfo& info);
  /** After close(): false when a thread did not stop within the join timeout (its session was left open). */
  Napi::Value ClosedCleanly(const Napi::CallbackInfo& info);
  /** drain(buffer, offsets, lengths, meta) → count, as tun-core's NativeBatchDevice. */
  Napi::Value Drain(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value SendMany(const Napi::CallbackInfo& info);
  Napi::Value HasSpace(const Napi::CallbackInfo& info);
  /** stats() → Float64Array of kStatsFields: tun-core's 7, rxWaits, rxSpinHits, txOverflows, txQueued, txPending. */
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  /** setMtu(family 4|6, mtu), addAddress(bytes, prefix), addRoute(bytes, prefix, metric), deleteRoute(bytes, prefix). */
  Napi::Value SetMtu(const Napi::CallbackInfo& info);
  Napi::Value AddAddress(const Napi::CallbackInfo& info);
  Napi::Value AddRoute(const Napi::CallbackInfo& info);
  Napi::Value DeleteRoute(const Napi::CallbackInfo& info);

  void shutdown();
  /** Throws unless the device is open. JS thread. */
  void requireOpen(const Napi::CallbackInfo& info) const;
  static void CleanupHook(void* self);

  /** What the threads touch, on the heap: if a join ever times out it is leaked, never freed under a thread. */
  struct Shared {
    Counters counters;
    DeviceEnd<WinError> end;
    // Read by both threads on every loop turn: off the counters' lines, which others write per packet.
    alignas(64) std::atomic<bool> stopping{false};
  };

  const WinApi* api_ = nullptr;
  std::unique_ptr<Shared> shared_ = std::make_unique<Shared>();
  Counters& counters_ = shared_->counters;
  DeviceEnd<WinError>& end_ = shared_->end;
  std::unique_ptr<WintunSession> session_;
  Handle quitEvent_ = nullptr;
  std::unique_ptr<BatchChannel> inbound_;
  std::unique_ptr<ReceiveThread> receiver_;
  std::unique_ptr<SendQueue> sender_;
  /** Wakes JS once per batch; the threads' callbacks hold it too, so an abandoned thread may still call it. */
  std::shared_ptr<JsWake> wake_;
  bool closed_ = false;
  bool closedCleanly_ = true;
  napi_env env_ = nullptr;
};

}  // namespace tunkit::windows_tun
