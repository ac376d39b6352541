// TunDevice: the N-API object behind LinuxTun (src/linux-tun.ts). It owns the queue fds, one
// QueueThread per queue, the inbound BatchChannel, and the JsWake that wakes JS once per batch.
// Every method here runs on the JS thread.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include <tunkit/batch_channel.hh>
#include <tunkit/device_end.hh>
#include <tunkit/js_wake.hh>
#include <tunkit/os_error.hh>

#include "device.hh"
#include "device_port.hh"
#include "queue_thread.hh"
#include "tunkit_linux.hh"

namespace tunkit::linux_tun {

class TunDevice : public Napi::ObjectWrap<TunDevice> {
 public:
  static Napi::Function Define(Napi::Env env);

  /**
   * new TunDevice({ name, queues, mtu, inboundSlots, outboundSlots, offload }, onWake). A failure
   * half-way (no eventfd, no thread, no memory) undoes what was done and throws a JS error with
   * errno and syscall. JS thread.
   */
  explicit TunDevice(const Napi::CallbackInfo& info);
  ~TunDevice() override;

 private:
  /** name: the interface name. JS thread. */
  Napi::Value Name(const Napi::CallbackInfo& info);
  /** offload: { vnetHeader, tso, uso } as the kernel accepted them. JS thread. */
  Napi::Value Offload(const Napi::CallbackInfo& info);
  /** maxPacketSize: bytes a queue slot holds, so the largest MTU the interface can take while open. JS thread. */
  Napi::Value MaxPacketSize(const Napi::CallbackInfo& info);
  /** endedBy: undefined, or the error (errno, syscall) of the queue that saw the interface removed. JS thread. */
  Napi::Value EndedBy(const Napi::CallbackInfo& info);
  /** drain(buffer, offsets, lengths, meta[capacity, byteCapacity, headroom, tailroom, length, bytesUsed]) → count. JS thread. */
  Napi::Value Drain(const Napi::CallbackInfo& info);
  /** send(packet) → bool. JS thread. */
  Napi::Value Send(const Napi::CallbackInfo& info);
  /** sendMany(buffer, offsets, lengths, start, end) → packets taken. JS thread. */
  Napi::Value SendMany(const Napi::CallbackInfo& info);
  /** hasSpace() → bool; when false, JS is woken once the refusing queue drains. JS thread. */
  Napi::Value HasSpace(const Napi::CallbackInfo& info);
  /**
   * stats() → Float64Array: 11 numbers per queue (the 7 TunQueueStats counters in tun-core order,
   * rxFrames, txFrames, coalescing refused 0/1, rxErrors), then 2 for the device: packets
   * discarded from the inbound channel at close, queue threads abandoned at close. JS thread.
   */
  Napi::Value Stats(const Napi::CallbackInfo& info);
  /**
   * nativePort(): the device's packet port (tun-core's packet_port.hh) in a tagged external, for a
   * processor in another addon (wireguard's data plane). JS thread.
   */
  Napi::Value NativePort(const Napi::CallbackInfo& info);
  /** close(): stop and join the threads (2 s each at most), close the fds. Idempotent. JS thread. */
  Napi::Value Close(const Napi::CallbackInfo& info);

  /** Creates the wake-up, the channel and the queue threads, and starts them. Throws. JS thread. */
  void startQueues(Napi::Function onWake);
  /** Stops everything, in order; safe on a half-built device. Idempotent. JS thread. */
  void shutdown();
  /** Environment teardown (worker terminated, process exiting) with the device open. JS thread. */
  static void CleanupHook(void* self);

  DeviceOptions options_;
  uint32_t slotSize_ = 0;
  OpenedDevice device_;
  std::shared_ptr<JsWake> wake_;
  // Shared, so a queue thread abandoned at close can keep them for good (see shutdown()).
  std::shared_ptr<DeviceEnd<OsError>> end_ = std::make_shared<DeviceEnd<OsError>>();
  std::vector<std::shared_ptr<QueueCounters>> counters_;
  std::shared_ptr<BatchChannel> inbound_;
  std::vector<std::unique_ptr<QueueThread>> threads_;
  DevicePort* port_ = nullptr;  // one reference held, released at shutdown (kept for good if a thread was abandoned)
  uint64_t discardedAtClose_ = 0;
  uint64_t abandonedThreads_ = 0;
  int refusedQueue_ = -1;
  bool closed_ = false;
  bool cleanupHookAdded_ = false;
  napi_env env_ = nullptr;
};

}  // namespace tunkit::linux_tun
