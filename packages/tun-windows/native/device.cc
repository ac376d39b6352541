// The N-API surface of a WinTun device. Hot paths are one call per batch: drain() copies up to a
// whole PacketBatch out of the channel; sendMany() sends a whole batch into WinTun's ring.
#include "device.hh"

#include <cstring>
#include <string>
#include <vector>

#include <tunkit/napi_batch_args.hh>

#include "js_error.hh"
#include "platform.hh"

namespace tunkit::windows_tun {

namespace {

constexpr size_t kStatsFields = 12;
/** How long close() waits for each thread; ReceivePacket and the waits return in microseconds. */
constexpr uint32_t kJoinTimeoutMs = 5000;

IpPrefix prefixFrom(const Napi::CallbackInfo& info, size_t at) {
  IpPrefix prefix;
  auto bytes = info[at].As<Napi::Uint8Array>();
  const bool v6 = bytes.ByteLength() == 16;
  if (!v6 && bytes.ByteLength() != 4) throw Napi::TypeError::New(info.Env(), "an address must be 4 or 16 bytes");
  prefix.family = v6 ? 6 : 4;
  std::memcpy(prefix.address, bytes.Data(), v6 ? 16 : 4);
  prefix.length = static_cast<uint8_t>(info[at + 1].As<Napi::Number>().Uint32Value());
  return prefix;
}

}  // namespace

// JS thread.
Napi::Function WintunDevice::Define(Napi::Env env) {
  return DefineClass(env, "WintunDevice",
                     {
                         InstanceAccessor<&WintunDevice::Luid>("luid"),
                         InstanceAccessor<&WintunDevice::Created>("created"),
                         InstanceAccessor<&WintunDevice::EndedBy>("endedBy"),
                         InstanceAccessor<&WintunDevice::ClosedCleanly>("closedCleanly"),
                         InstanceMethod<&WintunDevice::Drain>("drain"),
                         InstanceMethod<&WintunDevice::Send>("send"),
                         InstanceMethod<&WintunDevice::SendMany>("sendMany"),
                         InstanceMethod<&WintunDevice::HasSpace>("hasSpace"),
                         InstanceMethod<&WintunDevice::Stats>("stats"),
                         InstanceMethod<&WintunDevice::Close>("close"),
                         InstanceMethod<&WintunDevice::SetMtu>("setMtu"),
                         InstanceMethod<&WintunDevice::AddAddress>("addAddress"),
                         InstanceMethod<&WintunDevice::AddRoute>("addRoute"),
                         InstanceMethod<&WintunDevice::DeleteRoute>("deleteRoute"),
                     });
}

// JS thread. Options were validated in TS (src/options.ts); this only converts them (the baton).
WintunDevice::WintunDevice(const Napi::CallbackInfo& info) : Napi::ObjectWrap<WintunDevice>(info), env_(info.Env()) {
  const Napi::Object options = info[0].As<Napi::Object>();
  AdapterOptions adapter;
  adapter.name = options.Get("name").As<Napi::String>().Utf16Value();
  const Napi::Value guid = options.Get("guid");
  if (guid.IsTypedArray()) {
    auto bytes = guid.As<Napi::Uint8Array>();
    if (bytes.ByteLength() != sizeof(WinGuid)) throw Napi::TypeError::New(info.Env(), "guid must be 16 bytes");
    std::memcpy(&adapter.guid, bytes.Data(), sizeof(WinGuid));
    adapter.hasGuid = true;
  }
  adapter.ringCapacity = uintOption(options, "ringCapacity", 8u << 20);
  const uint32_t slotSize = slotSizeFor(uintOption(options, "mtu", 1420));
  const uint32_t inboundSlots = uintOption(options, "inboundSlots", 1024);
  const uint32_t pendingSlots = uintOption(options, "pendingSlots", 256);
  const uint32_t retryMicros = uintOption(options, "sendRetryMicros", 20000);
  std::vector<std::u16string> dllPaths;
  const Napi::Value paths = options.Get("dllPaths");
  if (paths.IsArray()) {
    auto list = paths.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) dllPaths.push_back(list.Get(i).As<Napi::String>().Utf16Value());
  }

  try {
    api_ = &loadWinApi(dllPaths);
    session_ = std::make_unique<WintunSession>(*api_, adapter);
    // Manual-reset: once set, every wait of both threads sees it until the device is gone.
    quitEvent_ = api_->createEventW(nullptr, 1, 0, nullptr);
    if (quitEvent_ == nullptr) throw WinError(api_->getLastError(), "CreateEventW", "cannot create the quit event");
  } catch (const LoadError& error) {
    throw toJsError(info.Env(), error);
  } catch (const WinError& error) {
    session_.reset();
    throw toJsError(info.Env(), error);
  }

  Shared* shared = shared_.get();
  std::shared_ptr<JsWake> wake;
  try {
    wake = JsWake::create(info.Env(), info[1].As<Napi::Function>(), "tunkit-wintun-wake");
  } catch (...) {
    shutdown();
    throw;
  }
  wake_ = wake;
  inbound_ = std::make_unique<BatchChannel>(1, inboundSlots, slotSize, [wake] { wake->wake(); });
  try {
    receiver_ = std::make_unique<ReceiveThread>(*api_, session_->session(), session_->readEvent(), quitEvent_, shared->stopping,
                                                *inbound_, counters_, end_, [wake] { wake->wake(); });
    sender_ = std::make_unique<SendQueue>(*api_, session_->session(), quitEvent_, shared->stopping, counters_, end_, pendingSlots,
                                          slotSize, retryMicros, [wake] { wake->wake(); });
    ReceiveThread* receiver = receiver_.get();
    inbound_->setSpaceHook(0, [receiver] { receiver->wakeForSpace(); });
    receiver_->start();
    sender_->start();
  } catch (const WinError& error) {
    shutdown();
    throw toJsError(info.Env(), error);
  }
  napi_add_env_cleanup_hook(env_, &WintunDevice::CleanupHook, this);
}

WintunDevice::~WintunDevice() { shutdown(); }

// JS thread (environment teardown: worker terminated or process exiting with the device open).
void WintunDevice::CleanupHook(void* self) { static_cast<WintunDevice*>(self)->shutdown(); }

// JS thread.
void WintunDevice::requireOpen(const Napi::CallbackInfo& info) const {
  if (closed_ || !session_) throw Napi::Error::New(info.Env(), "the device is closed");
}

// JS thread.
Napi::Value WintunDevice::Luid(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), session_ ? std::to_string(session_->luid()) : "0");
}

// JS thread.
Napi::Value WintunDevice::Created(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), session_ && session_->created());
}

// JS thread.
Napi::Value WintunDevice::EndedBy(const Napi::CallbackInfo& info) {
  if (!end_.ended()) return info.Env().Undefined();
  return toJsError(info.Env(), *end_.endedBy()).Value();
}

// JS thread.
Napi::Value WintunDevice::ClosedCleanly(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), closedCleanly_); }

// JS thread.
Napi::Value WintunDevice::Drain(const Napi::CallbackInfo& info) {
  if (closed_) return Napi::Number::New(info.Env(), 0);
  DrainArgs args(info);
  return args.finish(inbound_->drainInto(args.view, args.room()));
}

// JS thread.
Napi::Value WintunDevice::Send(const Napi::CallbackInfo& info) {
  if (closed_) throw Napi::Error::New(info.Env(), "the device is closed");
  auto packet = info[0].As<Napi::Uint8Array>();
  return Napi::Boolean::New(info.Env(), sender_->send(packet.Data(), static_cast<uint32_t>(packet.ByteLength())));
}

// JS thread.
Napi::Value WintunDevice::SendMany(const Napi::CallbackInfo& info) {
  if (closed_) throw Napi::Error::New(info.Env(), "the device is closed");
  // Later packets must not overtake a refused one: sendManyPackets stops at the first refusal.
  return sendManyPackets(info, [this](const uint8_t* packet, uint32_t length) { return sender_->send(packet, length); });
}

// JS thread.
Napi::Value WintunDevice::HasSpace(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), closed_ || sender_->hasSpaceOrNotify());
}

// JS thread.
Napi::Value WintunDevice::Stats(const Napi::CallbackInfo& info) {
  auto out = Napi::Float64Array::New(info.Env(), kStatsFields);
  const Counters& c = counters_;
  double* platformFields = writeQueueStats(out.Data(), c);
  platformFields[0] = statValue(c.rxWaits);
  platformFields[1] = statValue(c.rxSpinHits);
  platformFields[2] = statValue(c.txOverflows);
  platformFields[3] = statValue(c.txQueued);
  platformFields[4] = static_cast<double>(sender_ ? sender_->pending() : 0);
  return out;
}

// JS thread.
Napi::Value WintunDevice::Close(const Napi::CallbackInfo& info) {
  shutdown();
  return info.Env().Undefined();
}

// JS thread. Order: set the quit event (both threads wake from any wait; a ReceivePacket in
// progress returns on its own), join each with a timeout, then discard what is queued, and only
// then EndSession and CloseAdapter, so no thread can be inside WinTun when the session ends.
void WintunDevice::shutdown() {
  if (closed_) return;
  closed_ = true;
  napi_remove_env_cleanup_hook(env_, &WintunDevice::CleanupHook, this);
  shared_->stopping.store(true, std::memory_order_seq_cst);
  if (quitEvent_ != nullptr) api_->setEvent(quitEvent_);
  bool joined = true;
  if (receiver_ && !receiver_->join(kJoinTimeoutMs)) joined = false;
  if (sender_ && !sender_->join(kJoinTimeoutMs)) joined = false;
  if (sender_) sender_->discardPending();
  if (inbound_) {
    inbound_->close();
    // Packets received but never delivered are dropped at close: count them.
    bump(counters_.rxDropped, inbound_->discardQueued());
  }
  if (joined) {
    receiver_.reset();
    sender_.reset();
    session_.reset();  // EndSession, CloseAdapter
    if (quitEvent_ != nullptr) api_->closeHandle(quitEvent_);
  } else {
    // A thread is stuck inside WinTun: never end the session under it. Leak the session, the
    // threads' objects and the events on purpose; closedCleanly tells JS to warn.
    closedCleanly_ = false;
    if (session_) session_->abandon();
    (void)receiver_.release();
    (void)sender_.release();
    (void)session_.release();
    (void)inbound_.release();
    // The stuck thread's callback keeps the JsWake object alive; closing it drops its wakes and
    // stops holding the event loop open.
    if (wake_) wake_->close();
    (void)shared_.release();
    quitEvent_ = nullptr;
    return;
  }
  quitEvent_ = nullptr;
  if (wake_) wake_->close();
}

// JS thread.
Napi::Value WintunDevice::SetMtu(const Napi::CallbackInfo& info) {
  requireOpen(info);
  const int family = info[0].As<Napi::Number>().Int32Value();
  const uint32_t mtu = info[1].As<Napi::Number>().Uint32Value();
  const uint32_t error = api_->setInterfaceMtu(session_->luid(), family, mtu);
  // No IPv6 interface row: IPv6 is disabled on the adapter, so there is no IPv6 MTU to set.
  if (error == win32_error::kNotFound && family == 6) return Napi::Boolean::New(info.Env(), false);
  if (error != 0) {
    throw toJsError(info.Env(), WinError(error, "SetIpInterfaceEntry", "cannot set the IPv" + std::to_string(family) + " MTU to " + std::to_string(mtu)));
  }
  return Napi::Boolean::New(info.Env(), true);
}

// JS thread.
Napi::Value WintunDevice::AddAddress(const Napi::CallbackInfo& info) {
  requireOpen(info);
  const IpPrefix prefix = prefixFrom(info, 0);
  const uint32_t error = api_->addUnicastAddress(session_->luid(), prefix);
  // Already there (a reopened adapter with a fixed GUID keeps its addresses): the goal is met.
  if (error != 0 && error != win32_error::kObjectAlreadyExists) {
    throw toJsError(info.Env(), WinError(error, "CreateUnicastIpAddressEntry", "cannot add the address"));
  }
  return info.Env().Undefined();
}

// JS thread.
Napi::Value WintunDevice::AddRoute(const Napi::CallbackInfo& info) {
  requireOpen(info);
  const IpPrefix prefix = prefixFrom(info, 0);
  const uint32_t error = api_->addRoute(session_->luid(), prefix, info[2].As<Napi::Number>().Uint32Value());
  if (error != 0 && error != win32_error::kObjectAlreadyExists) {
    throw toJsError(info.Env(), WinError(error, "CreateIpForwardEntry2", "cannot add the route"));
  }
  return info.Env().Undefined();
}

// JS thread.
Napi::Value WintunDevice::DeleteRoute(const Napi::CallbackInfo& info) {
  requireOpen(info);
  const IpPrefix prefix = prefixFrom(info, 0);
  const uint32_t error = api_->deleteRoute(session_->luid(), prefix);
  if (error != 0 && error != win32_error::kNotFound) {
    throw toJsError(info.Env(), WinError(error, "DeleteIpForwardEntry2", "cannot delete the route"));
  }
  return info.Env().Undefined();
}

}  // namespace tunkit::windows_tun
