// The N-API surface of a Linux TUN device. Hot paths are one call per batch: drain() copies up to
// a whole PacketBatch out of the channel; sendMany() queues a whole batch and wakes each queue
// thread at most once.
#include "tun_object.hh"

#include <cstring>

#include "flow_hash.hh"
#include "os_error.hh"

namespace tunkit::linux_tun {

namespace {

/** Slot size of the channels: a full 64 KiB packet fits, whatever the MTU. */
uint32_t slotSizeFor(uint32_t mtu) { return mtu < 2048 ? 2048 : (mtu > 65535 ? 65535 : mtu); }

uint32_t uintOption(const Napi::Object& object, const char* key, uint32_t fallback) {
  const Napi::Value value = object.Get(key);
  return value.IsNumber() ? value.As<Napi::Number>().Uint32Value() : fallback;
}

}  // namespace

Napi::Function TunDevice::Define(Napi::Env env) {
  return DefineClass(env, "TunDevice",
                     {
                         InstanceAccessor<&TunDevice::Name>("name"),
                         InstanceAccessor<&TunDevice::Offload>("offload"),
                         InstanceMethod<&TunDevice::Drain>("drain"),
                         InstanceMethod<&TunDevice::Send>("send"),
                         InstanceMethod<&TunDevice::SendMany>("sendMany"),
                         InstanceMethod<&TunDevice::HasSpace>("hasSpace"),
                         InstanceMethod<&TunDevice::Stats>("stats"),
                         InstanceMethod<&TunDevice::Close>("close"),
                     });
}

// JS thread. Options were validated in TS (src/options.ts); this only converts them (the baton).
TunDevice::TunDevice(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TunDevice>(info), env_(info.Env()) {
  const Napi::Object options = info[0].As<Napi::Object>();
  const Napi::Value name = options.Get("name");
  if (name.IsString()) options_.name = name.As<Napi::String>().Utf8Value();
  options_.queues = uintOption(options, "queues", 2);
  options_.mtu = uintOption(options, "mtu", 1420);
  options_.inboundSlots = uintOption(options, "inboundSlots", 1024);
  options_.outboundSlots = uintOption(options, "outboundSlots", 1024);
  options_.offload = options.Get("offload").ToBoolean().Value();
  const uint32_t slotSize = slotSizeFor(options_.mtu);

  try {
    device_ = openDevice(options_.name, options_.queues, options_.offload);
  } catch (const OsError& error) {
    Napi::Error e = Napi::Error::New(info.Env(), error.what());
    e.Set("errno", Napi::String::New(info.Env(), error.errnoName()));
    e.Set("syscall", Napi::String::New(info.Env(), error.syscall()));
    throw e;
  }

  wake_ = Napi::ThreadSafeFunction::New(info.Env(), info[1].As<Napi::Function>(), "tunkit-linux-wake", 0, 1);
  inbound_ = std::make_unique<BatchChannel>(options_.queues, options_.inboundSlots, slotSize, [this] { wakeJs(); });
  for (unsigned i = 0; i < options_.queues; ++i) {
    counters_.push_back(std::make_unique<QueueCounters>());
    threads_.push_back(std::make_unique<QueueThread>(i, device_.fds[i], *inbound_, *counters_[i], options_.outboundSlots,
                                                     slotSize, device_.offload, [this] { wakeJs(); }));
    QueueThread* thread = threads_.back().get();
    inbound_->setSpaceHook(i, [thread] { thread->wake(); });
  }
  for (auto& thread : threads_) thread->start();
  napi_add_env_cleanup_hook(env_, &TunDevice::CleanupHook, this);
}

TunDevice::~TunDevice() { shutdown(); }

// JS thread (environment teardown: worker terminated or process exiting with the device open).
void TunDevice::CleanupHook(void* self) { static_cast<TunDevice*>(self)->shutdown(); }

// Any thread. The flag keeps at most one call queued on the thread-safe function.
void TunDevice::wakeJs() {
  if (!wakePending_.exchange(true, std::memory_order_acq_rel)) {
    if (wake_.NonBlockingCall([this](Napi::Env, Napi::Function callback) {
          wakePending_.store(false, std::memory_order_release);
          callback.Call({});
        }) != napi_ok) {
      wakePending_.store(false, std::memory_order_release);  // closing: the function is released
    }
  }
}

Napi::Value TunDevice::Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), device_.name); }

Napi::Value TunDevice::Drain(const Napi::CallbackInfo& info) {
  if (closed_) return Napi::Number::New(info.Env(), 0);
  auto buffer = info[0].As<Napi::Uint8Array>();
  auto offsets = info[1].As<Napi::Uint32Array>();
  auto lengths = info[2].As<Napi::Uint32Array>();
  auto meta = info[3].As<Napi::Uint32Array>();
  PacketBatchView view{buffer.Data(), offsets.Data(), lengths.Data(), meta[0], meta[1], meta[2], meta[3], meta[4], meta[5]};
  // Trust nothing from JS that would let native code write out of bounds.
  if (view.byteCapacity > buffer.ByteLength() || view.capacity > offsets.ElementLength() || view.capacity > lengths.ElementLength() ||
      view.length > view.capacity || view.bytesUsed > view.byteCapacity) {
    throw Napi::RangeError::New(info.Env(), "drain: PacketBatch metadata does not match its buffers");
  }
  const uint32_t moved = inbound_->drainInto(view, view.capacity - view.length);
  meta[4] = view.length;
  meta[5] = view.bytesUsed;
  return Napi::Number::New(info.Env(), moved);
}

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

Napi::Value TunDevice::SendMany(const Napi::CallbackInfo& info) {
  if (closed_) throw Napi::Error::New(info.Env(), "the device is closed");
  auto buffer = info[0].As<Napi::Uint8Array>();
  auto offsets = info[1].As<Napi::Uint32Array>();
  auto lengths = info[2].As<Napi::Uint32Array>();
  const uint32_t start = info[3].As<Napi::Number>().Uint32Value();
  const uint32_t end = info[4].As<Napi::Number>().Uint32Value();
  if (end > offsets.ElementLength() || end > lengths.ElementLength()) throw Napi::RangeError::New(info.Env(), "sendMany: end beyond the batch");
  uint32_t taken = 0;
  for (uint32_t i = start; i < end; ++i) {
    const uint64_t offset = offsets[i];
    const uint32_t length = lengths[i];
    if (offset + length > buffer.ByteLength()) throw Napi::RangeError::New(info.Env(), "sendMany: packet outside the batch buffer");
    const uint8_t* packet = buffer.Data() + offset;
    const uint32_t queue = flowHash(packet, length) % options_.queues;
    // Stop at the first refusal: packets after it must not overtake it.
    if (!threads_[queue]->send(packet, length)) {
      refusedQueue_ = static_cast<int>(queue);
      break;
    }
    ++taken;
  }
  for (auto& thread : threads_) thread->flush();
  return Napi::Number::New(info.Env(), taken);
}

Napi::Value TunDevice::Offload(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("vnetHeader", device_.offload.vnetHeader);
  out.Set("tso", device_.offload.tso);
  out.Set("uso", device_.offload.uso);
  return out;
}

Napi::Value TunDevice::HasSpace(const Napi::CallbackInfo& info) {
  if (closed_ || refusedQueue_ < 0) return Napi::Boolean::New(info.Env(), true);
  const bool space = threads_[static_cast<size_t>(refusedQueue_)]->hasSpaceOrNotify();
  if (space) refusedQueue_ = -1;
  return Napi::Boolean::New(info.Env(), space);
}

Napi::Value TunDevice::Stats(const Napi::CallbackInfo& info) {
  constexpr size_t kFields = 10;
  auto out = Napi::Float64Array::New(info.Env(), counters_.size() * kFields);
  for (size_t i = 0; i < counters_.size(); ++i) {
    const QueueCounters& c = *counters_[i];
    double* row = out.Data() + i * kFields;
    row[0] = static_cast<double>(c.rxPackets.load());
    row[1] = static_cast<double>(c.rxBytes.load());
    row[2] = static_cast<double>(c.txPackets.load());
    row[3] = static_cast<double>(c.txBytes.load());
    row[4] = static_cast<double>(c.rxDropped.load());
    row[5] = static_cast<double>(c.txDropped.load());
    row[6] = static_cast<double>(c.rxStalls.load());
    row[7] = static_cast<double>(c.rxFrames.load());
    row[8] = static_cast<double>(c.txFrames.load());
    row[9] = static_cast<double>(c.coalesceRefused.load());
  }
  return out;
}

Napi::Value TunDevice::Close(const Napi::CallbackInfo& info) {
  shutdown();
  return info.Env().Undefined();
}

// JS thread. Order: stop the threads (they touch the fds and the channel), then discard what is
// queued, close the fds, release the wake function.
void TunDevice::shutdown() {
  if (closed_) return;
  closed_ = true;
  napi_remove_env_cleanup_hook(env_, &TunDevice::CleanupHook, this);
  for (auto& thread : threads_) thread->stop();
  if (inbound_) {
    inbound_->close();
    // Packets read but never delivered are dropped at close: count them per queue.
    std::vector<uint8_t> scratch(inbound_->slotSize());
    uint32_t offset = 0;
    uint32_t length = 0;
    for (;;) {
      PacketBatchView view{scratch.data(), &offset, &length, 1, static_cast<uint32_t>(scratch.size()), 0, 0, 0, 0};
      if (inbound_->drainInto(view, 1) == 0) break;
      if (!counters_.empty()) counters_[0]->rxDropped.fetch_add(1);
    }
  }
  threads_.clear();
  closeDevice(device_);
  if (wake_) wake_.Release();
}

}  // namespace tunkit::linux_tun
