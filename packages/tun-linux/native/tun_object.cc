// The N-API surface of a Linux TUN device. Hot paths are one call per batch: drain() copies up to
// a whole PacketBatch out of the channel; sendMany() queues a whole batch and wakes each queue
// thread at most once.
#include "tun_object.hh"

#include <chrono>
#include <cstdio>
#include <cstring>

#include <tunkit/napi_batch_args.hh>
#include <tunkit/os_error_js.hh>
#include <tunkit/packet_port_js.hh>

#include "flow_hash.hh"

namespace tunkit::linux_tun {

namespace {

/** How long close() waits for each queue thread before abandoning it (STYLE §5: never hang). */
constexpr std::chrono::milliseconds kJoinTimeout{2000};
constexpr size_t kQueueFields = 11;
constexpr size_t kDeviceFields = 2;

/** The baton: JS options to a plain struct, on the JS thread. Validated in TS (src/options.ts). */
DeviceOptions optionsFrom(const Napi::Object& options) {
  DeviceOptions out;
  const Napi::Value name = options.Get("name");
  if (name.IsString()) out.name = name.As<Napi::String>().Utf8Value();
  out.queues = uintOption(options, "queues", 2);
  out.mtu = uintOption(options, "mtu", 1420);
  out.inboundSlots = uintOption(options, "inboundSlots", 1024);
  out.outboundSlots = uintOption(options, "outboundSlots", 1024);
  out.offload = options.Get("offload").ToBoolean().Value();
  return out;
}

/** Keeps `object` alive for the rest of the process: for what an abandoned thread still uses. */
template <typename T>
void keepForever(const std::shared_ptr<T>& object) {
  new std::shared_ptr<T>(object);  // deliberately never deleted
}

}  // namespace

Napi::Function TunDevice::Define(Napi::Env env) {
  return DefineClass(env, "TunDevice",
                     {
                         InstanceAccessor<&TunDevice::Name>("name"),
                         InstanceAccessor<&TunDevice::Offload>("offload"),
                         InstanceAccessor<&TunDevice::MaxPacketSize>("maxPacketSize"),
                         InstanceAccessor<&TunDevice::EndedBy>("endedBy"),
                         InstanceMethod<&TunDevice::Drain>("drain"),
                         InstanceMethod<&TunDevice::Send>("send"),
                         InstanceMethod<&TunDevice::SendMany>("sendMany"),
                         InstanceMethod<&TunDevice::HasSpace>("hasSpace"),
                         InstanceMethod<&TunDevice::Stats>("stats"),
                         InstanceMethod<&TunDevice::NativePort>("nativePort"),
                         InstanceMethod<&TunDevice::Close>("close"),
                     });
}

// JS thread.
TunDevice::TunDevice(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TunDevice>(info), env_(info.Env()) {
  options_ = optionsFrom(info[0].As<Napi::Object>());
  slotSize_ = slotSizeFor(options_.mtu);
  translateOsError(info.Env(), kAddonName, [&] { device_ = openDevice(options_.name, options_.queues, options_.offload); });
  try {
    startQueues(info[1].As<Napi::Function>());
  } catch (...) {
    // Whatever failed (an eventfd, a thread, memory), leave nothing behind: the threads already
    // started, the fds (and so the interface), the wake-up that would keep the loop alive.
    Napi::Error error = currentExceptionToJs(info.Env(), kAddonName);
    shutdown();
    throw error;
  }
  napi_add_env_cleanup_hook(env_, &TunDevice::CleanupHook, this);
  cleanupHookAdded_ = true;
}

// JS thread (also from the garbage collector's finaliser).
TunDevice::~TunDevice() { shutdown(); }

// JS thread.
void TunDevice::startQueues(Napi::Function onWake) {
  wake_ = JsWake::create(Env(), onWake, "tunkit-linux-wake");
  std::shared_ptr<JsWake> wake = wake_;
  inbound_ = std::make_shared<BatchChannel>(options_.queues, options_.inboundSlots, slotSize_, [wake] { wake->wake(); });
  for (unsigned i = 0; i < options_.queues; ++i) counters_.push_back(std::make_shared<QueueCounters>());
  port_ = DevicePort::create(device_.fds, device_.offload, counters_);
  for (unsigned i = 0; i < options_.queues; ++i) {
    threads_.push_back(std::make_unique<QueueThread>(i, device_.fds[i], *inbound_, *counters_[i], options_.outboundSlots, slotSize_,
                                                     device_.offload, *end_, device_.name, [wake] { wake->wake(); },
                                                     port_->processors()));
    QueueThread* thread = threads_.back().get();
    inbound_->setSpaceHook(i, [thread] { thread->wake(); });
  }
  for (auto& thread : threads_) thread->start();
}

// JS thread (environment teardown: worker terminated or process exiting with the device open).
void TunDevice::CleanupHook(void* self) { static_cast<TunDevice*>(self)->shutdown(); }

// JS thread.
Napi::Value TunDevice::Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), device_.name); }

// JS thread.
Napi::Value TunDevice::MaxPacketSize(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), slotSize_); }

// JS thread.
Napi::Value TunDevice::EndedBy(const Napi::CallbackInfo& info) { return endedByToJs(info.Env(), *end_); }

// JS thread.
Napi::Value TunDevice::Drain(const Napi::CallbackInfo& info) {
  if (closed_) return Napi::Number::New(info.Env(), 0);
  DrainArgs args(info);
  return args.finish(inbound_->drainInto(args.view, args.room()));
}

// JS thread.
Napi::Value TunDevice::Send(const Napi::CallbackInfo& info) {
  if (closed_) throw Napi::Error::New(info.Env(), "the device is closed");
  auto packet = info[0].As<Napi::Uint8Array>();
  const uint32_t queue = flowHash(packet.Data(), packet.ByteLength()) % options_.queues;
  QueueThread& thread = *threads_[queue];
  const bool taken = thread.send(packet.Data(), static_cast<uint32_t>(packet.ByteLength()));
  if (taken) thread.flush();
  else refusedQueue_ = static_cast<int>(queue);
  return Napi::Boolean::New(info.Env(), taken);
}

// JS thread.
Napi::Value TunDevice::SendMany(const Napi::CallbackInfo& info) {
  if (closed_) throw Napi::Error::New(info.Env(), "the device is closed");
  Napi::Value taken = sendManyPackets(info, [this](const uint8_t* packet, uint32_t length) {
    const uint32_t queue = flowHash(packet, length) % options_.queues;
    if (threads_[queue]->send(packet, length)) return true;
    refusedQueue_ = static_cast<int>(queue);
    return false;
  });
  for (auto& thread : threads_) thread->flush();
  return taken;
}

// JS thread.
Napi::Value TunDevice::Offload(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("vnetHeader", device_.offload.vnetHeader);
  out.Set("tso", device_.offload.tso);
  out.Set("uso", device_.offload.uso);
  return out;
}

// JS thread.
Napi::Value TunDevice::HasSpace(const Napi::CallbackInfo& info) {
  if (closed_ || refusedQueue_ < 0) return Napi::Boolean::New(info.Env(), true);
  const bool space = threads_[static_cast<size_t>(refusedQueue_)]->hasSpaceOrNotify();
  if (space) refusedQueue_ = -1;
  return Napi::Boolean::New(info.Env(), space);
}

// JS thread.
Napi::Value TunDevice::Stats(const Napi::CallbackInfo& info) {
  auto out = Napi::Float64Array::New(info.Env(), counters_.size() * kQueueFields + kDeviceFields);
  for (size_t i = 0; i < counters_.size(); ++i) {
    const QueueCounters& c = *counters_[i];
    double* platformFields = writeQueueStats(out.Data() + i * kQueueFields, c);
    platformFields[0] = statValue(c.rxFrames);
    platformFields[1] = statValue(c.txFrames);
    platformFields[2] = statValue(c.coalesceRefused);
    platformFields[3] = statValue(c.rxErrors);
  }
  double* device = out.Data() + counters_.size() * kQueueFields;
  device[0] = static_cast<double>(discardedAtClose_);
  device[1] = static_cast<double>(abandonedThreads_);
  return out;
}

// JS thread.
Napi::Value TunDevice::NativePort(const Napi::CallbackInfo& info) {
  if (closed_ || port_ == nullptr) throw Napi::Error::New(info.Env(), "the device is closed");
  return wrapPort(info.Env(), port_->port());
}

// JS thread.
Napi::Value TunDevice::Close(const Napi::CallbackInfo& info) {
  shutdown();
  return info.Env().Undefined();
}

// JS thread. Order: stop the threads (they touch the fds and the channel), then discard what is
// queued, close the fds, close the wake-up. A thread that does not stop within kJoinTimeout
// (it can only be stuck in a system call) is abandoned rather than waited for: what it uses
// (its QueueThread, its fd, the channel, its counters) is kept for good, so it never touches
// freed memory or a reused fd number.
void TunDevice::shutdown() {
  if (closed_) return;
  closed_ = true;
  if (cleanupHookAdded_) {
    napi_remove_env_cleanup_hook(env_, &TunDevice::CleanupHook, this);
    cleanupHookAdded_ = false;
  }
  for (size_t i = 0; i < threads_.size(); ++i) {
    if (threads_[i]->stop(kJoinTimeout)) continue;
    std::fprintf(stderr, "tunkit: the thread of TUN queue %zu of %s did not stop within %lld ms: abandoned, its fd left open\n", i,
                 device_.name.c_str(), static_cast<long long>(kJoinTimeout.count()));
    ++abandonedThreads_;
    threads_[i].release();  // deliberately leaked: the detached thread still runs in it
    keepForever(counters_[i]);
    keepForever(inbound_);
    keepForever(end_);
    device_.fds[i] = -1;  // not closed: the number must not be reused under the thread
  }
  // The port next: no processor is called and no write touches the fds once close() returns. With
  // a thread abandoned, the port stays (that thread may still offer it packets).
  if (port_ != nullptr) {
    port_->close();
    if (abandonedThreads_ == 0) port_->release();
    port_ = nullptr;
  }
  if (inbound_ && abandonedThreads_ == 0) {
    inbound_->close();
    // Packets read but never delivered are dropped at close. Which queue read each one is not
    // known from the channel, so they are counted for the device (LinuxTun adds them to rxDropped).
    discardedAtClose_ += inbound_->discardQueued();
  }
  threads_.clear();
  closeDevice(device_);
  if (wake_) wake_->close();
}

}  // namespace tunkit::linux_tun
