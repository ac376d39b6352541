// TunDevice: the N-API object behind LinuxTun (src/linux-tun.ts). It owns the queue fds, one
// QueueThread per queue, the inbound BatchChannel, and the thread-safe function that wakes JS
// once per batch. Every method here runs on the JS thread.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <vector>

#include <tunkit/batch_channel.hh>

#include "device.hh"
#include "queue_thread.hh"
#include "tunkit_linux.hh"

namespace tunkit::linux_tun {

class TunDevice : public Napi::ObjectWrap<TunDevice> {
 public:
  static Napi::Function Define(Napi::Env env);

  /** new TunDevice({ name, queues, mtu, inboundSlots, outboundSlots }, onWake). JS thread. */
  explicit TunDevice(const Napi::CallbackInfo& info);
  ~TunDevice() override;

 private:
  Napi::Value Name(const Napi::CallbackInfo& info);
  Napi::Value Offload(const Napi::CallbackInfo& info);
  /** drain(buffer, offsets, lengths, meta[capacity, byteCapacity, headroom, tailroom, length, bytesUsed]) → count. */
  Napi::Value Drain(const Napi::CallbackInfo& info);
  /** send(packet) → bool. */
  Napi::Value Send(const Napi::CallbackInfo& info);
  /** sendMany(buffer, offsets, lengths, start, end) → packets taken. */
  Napi::Value SendMany(const Napi::CallbackInfo& info);
  /** hasSpace() → bool; when false, JS is woken once the refusing queue drains. */
  Napi::Value HasSpace(const Napi::CallbackInfo& info);
  /** stats() → Float64Array, 10 numbers per queue: the 7 TunQueueStats counters (tun-core order), rxFrames, txFrames, coalescing refused (0/1). */
  Napi::Value Stats(const Napi::CallbackInfo& info);
  /** close(): stop and join the threads, close the fds. Idempotent. */
  Napi::Value Close(const Napi::CallbackInfo& info);

  void shutdown();
  /** Any thread: wake JS (coalesced: at most one call queued). */
  void wakeJs();
  static void CleanupHook(void* self);

  DeviceOptions options_;
  OpenedDevice device_;
  std::vector<std::unique_ptr<QueueCounters>> counters_;
  std::unique_ptr<BatchChannel> inbound_;
  std::vector<std::unique_ptr<QueueThread>> threads_;
  Napi::ThreadSafeFunction wake_;
  std::atomic<bool> wakePending_{false};
  int refusedQueue_ = -1;
  bool closed_ = false;
  napi_env env_ = nullptr;
};

}  // namespace tunkit::linux_tun
