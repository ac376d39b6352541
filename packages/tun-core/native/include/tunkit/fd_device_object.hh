// FdDeviceObject: the N-API object over an FdReadinessLoop, shaped as tun-core's
// NativeBatchDevice (src/native-tun.ts): drain / send / sendMany / hasSpace / stats / close, one
// N-API call per batch, plus `endedBy` once the device ended by itself (the loop's "End"). tun-darwin
// and tun-android both register it (as "FdDevice"); the difference between them is only the
// framing option. Every method runs on the JS thread.
//
//   new FdDevice(fd, { mtu, framing: 'none' | 'darwin', pendingPackets, retryIntervalMs,
//                      stallBudgetMs, duplicate }, onWake)
//
// `duplicate: true` works on a dup of `fd` and leaves `fd` to its owner (a Network Extension's
// utun fd); otherwise the device adopts `fd` and closes it at close(). Options are validated in
// TS; this only converts them (the baton). Shutdown is deterministic: close() is idempotent, and
// an async environment cleanup hook closes the device when a worker or the process ends, keeping
// the environment alive until libuv has released the handles.
#pragma once

#include <fcntl.h>
#include <napi.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <memory>
#include <string>

#include "fd_readiness_loop.hh"
#include "napi_batch_args.hh"
#include "os_error_js.hh"

namespace tunkit {

class FdDeviceObject : public Napi::ObjectWrap<FdDeviceObject> {
 public:
  /** Numbers per row of stats(): the 7 TunQueueStats counters, txDeferred, rxInvalid. */
  static constexpr size_t kStatsFields = 9;

  /** The FdDevice class for an addon's exports. JS thread. */
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FdDevice",
                       {
                           InstanceMethod<&FdDeviceObject::Drain>("drain"),
                           InstanceMethod<&FdDeviceObject::Send>("send"),
                           InstanceMethod<&FdDeviceObject::SendMany>("sendMany"),
                           InstanceMethod<&FdDeviceObject::HasSpace>("hasSpace"),
                           InstanceMethod<&FdDeviceObject::Stats>("stats"),
                           InstanceMethod<&FdDeviceObject::Close>("close"),
                           InstanceAccessor<&FdDeviceObject::EndedBy>("endedBy"),
                       });
  }

  // JS thread.
  explicit FdDeviceObject(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<FdDeviceObject>(info), context_(info.Env(), "tunkit:fd-device") {
    Napi::Env env = info.Env();
    const int givenFd = info[0].As<Napi::Number>().Int32Value();
    const Napi::Object options = info[1].As<Napi::Object>();
    FdLoopOptions loopOptions;
    loopOptions.mtu = uintOption(options, "mtu", loopOptions.mtu);
    loopOptions.pendingPackets = uintOption(options, "pendingPackets", loopOptions.pendingPackets);
    loopOptions.retryIntervalMs = uintOption(options, "retryIntervalMs", loopOptions.retryIntervalMs);
    loopOptions.stallBudgetMs = uintOption(options, "stallBudgetMs", loopOptions.stallBudgetMs);
    const Napi::Value framing = options.Get("framing");
    if (framing.IsString() && framing.As<Napi::String>().Utf8Value() == "darwin") loopOptions.framing = FdFraming::DarwinAddressFamily;
    const bool duplicate = options.Get("duplicate").ToBoolean().Value();
    onWake_ = Napi::Persistent(info[2].As<Napi::Function>());

    uv_loop_t* uvLoop = nullptr;
    if (napi_get_uv_event_loop(env, &uvLoop) != napi_ok || uvLoop == nullptr) {
      throw Napi::Error::New(env, "FdDevice: this Node.js environment has no libuv loop");
    }
    int fd = givenFd;
    if (duplicate) {
      fd = ::fcntl(givenFd, F_DUPFD_CLOEXEC, 3);
      if (fd < 0) {
        const int error = errno;
        throw osErrorToJs(env, OsError(error, "fcntl",
                                       "cannot duplicate fd " + std::to_string(givenFd) + " (" + errnoName(error) +
                                           "): pass an open utun file descriptor"));
      }
    }
    try {
      loop_ = std::make_unique<FdReadinessLoop>(uvLoop, fd, loopOptions, [this] { wakeJs(); }, "adopting fd " + std::to_string(givenFd));
    } catch (const OsError& error) {
      if (duplicate) ::close(fd);
      throw osErrorToJs(env, error);
    }

    // The hook's state outlives this object until libuv has released the handles.
    cleanup_ = new CleanupLink{loop_.get(), nullptr};
    CleanupLink* link = cleanup_;
    napi_add_async_cleanup_hook(env, &FdDeviceObject::OnEnvironmentCleanup, link, &link->hook);
    loop_->onReleased([link] {
      if (link->hook != nullptr) napi_remove_async_cleanup_hook(link->hook);
      delete link;
    });
  }

  // JS thread (also from a GC finalizer when the device was dropped without close()).
  ~FdDeviceObject() override { shutdown(); }

 private:
  /** What the environment cleanup hook needs; freed when the loop's handles are released. */
  struct CleanupLink {
    FdReadinessLoop* loop;
    napi_async_cleanup_hook_handle hook;
  };

  // JS thread: the environment is going away (worker terminated, process exiting). Starts the
  // close; the release callback then removes the hook, which lets the teardown finish.
  static void OnEnvironmentCleanup(napi_async_cleanup_hook_handle, void* data) {
    CleanupLink* link = static_cast<CleanupLink*>(data);
    FdReadinessLoop* loop = link->loop;
    link->loop = nullptr;
    if (loop != nullptr) loop->close();
  }

  // JS thread: called by the loop from a libuv callback, once per batch of events.
  void wakeJs() {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      // napi_make_callback needs an object receiver; onWake ignores `this`.
      onWake_.MakeCallback(env.Global(), {}, context_);
    } catch (const Napi::Error& error) {
      // As an uncaught exception in JS, not a C++ exception unwinding through libuv.
      napi_fatal_exception(env, error.Value());
    }
  }

  /** Closes the loop and hands the cleanup link to the release callback. Idempotent. JS thread. */
  void shutdown() {
    if (!loop_ || loop_->closed()) return;
    if (cleanup_ != nullptr) cleanup_->loop = nullptr;
    cleanup_ = nullptr;  // owned by the release callback from here on
    loop_->close();
  }

  /** drain(buffer, offsets, lengths, meta[capacity, byteCapacity, headroom, tailroom, length, bytesUsed]) → packets moved. JS thread. */
  Napi::Value Drain(const Napi::CallbackInfo& info) {
    if (loop_->closed()) return Napi::Number::New(info.Env(), 0);
    DrainArgs args(info);
    return args.finish(translateOsError(info.Env(), [&] { return loop_->drain(args.view); }));
  }

  /** send(packet) → bool (packet validated in TS). JS thread. */
  Napi::Value Send(const Napi::CallbackInfo& info) {
    if (loop_->closed()) throw Napi::Error::New(info.Env(), "the device is closed");
    auto packet = info[0].As<Napi::Uint8Array>();
    if (packet.ByteLength() == 0 || packet.ByteLength() > loop_->options().mtu) {
      throw Napi::RangeError::New(info.Env(), "send: packet size outside 1..mtu");
    }
    return Napi::Boolean::New(info.Env(), loop_->send(packet.Data(), static_cast<uint32_t>(packet.ByteLength())));
  }

  /** sendMany(buffer, offsets, lengths, start, end) → packets taken, stopping at the first refusal. JS thread. */
  Napi::Value SendMany(const Napi::CallbackInfo& info) {
    if (loop_->closed()) throw Napi::Error::New(info.Env(), "the device is closed");
    return sendManyPackets(
        info, [this](const uint8_t* packet, uint32_t length) { return loop_->send(packet, length); }, loop_->options().mtu);
  }

  /** hasSpace() → bool; when false, onWake runs once space frees. JS thread. */
  Napi::Value HasSpace(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), loop_->hasSpace()); }

  /** stats() → Float64Array of kStatsFields numbers (one queue). JS thread. */
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    const FdLoopCounters& c = loop_->counters();
    auto out = Napi::Float64Array::New(info.Env(), kStatsFields);
    double* platformFields = writeQueueStats(out.Data(), c);
    platformFields[0] = static_cast<double>(c.txDeferred);
    platformFields[1] = static_cast<double>(c.rxInvalid);
    return out;
  }

  /** endedBy: undefined, or the error (errno, syscall) with which the device ended by itself. JS thread. */
  Napi::Value EndedBy(const Napi::CallbackInfo& info) { return endedByToJs(info.Env(), loop_->end()); }

  /** close(): stop watching, close the fd, count what was queued. Idempotent. JS thread. */
  Napi::Value Close(const Napi::CallbackInfo& info) {
    shutdown();
    return info.Env().Undefined();
  }

  std::unique_ptr<FdReadinessLoop> loop_;
  Napi::FunctionReference onWake_;
  Napi::AsyncContext context_;
  CleanupLink* cleanup_ = nullptr;
};

}  // namespace tunkit
