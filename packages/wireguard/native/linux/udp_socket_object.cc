// The JS face of UdpSocket (see udp_socket_object.hh).
#include "udp_socket_object.hh"

#include <algorithm>
#include <cstring>
#include <string>

#include <tunkit/napi_batch_args.hh>
#include <tunkit/os_error_js.hh>
#include <tunkit/packet_port_js.hh>

#include "../exports.hh"

namespace tunkit::wireguard {

namespace {

/** The options baton: converted and checked once, on the JS thread (validated in TS before). */
UdpSocketOptions optionsFrom(const Napi::Object& options) {
  UdpSocketOptions o;
  auto address = options.Get("address").As<Napi::Uint8Array>();
  if (address.ByteLength() != 4 && address.ByteLength() != 16)
    throw Napi::TypeError::New(options.Env(), "UdpSocket: address must be 4 or 16 bytes");
  o.addressLength = static_cast<uint32_t>(address.ByteLength());
  std::memcpy(o.address, address.Data(), o.addressLength);
  o.port = static_cast<uint16_t>(options.Get("port").As<Napi::Number>().Uint32Value());
  o.ipv6 = options.Get("ipv6").ToBoolean().Value();
  o.gso = options.Get("gso").ToBoolean().Value();
  o.gro = options.Get("gro").ToBoolean().Value();
  o.bufferBytes = options.Get("bufferBytes").As<Napi::Number>().Int32Value();
  const Napi::Value threads = options.Get("receiveThreads");
  o.receiveThreads = threads.IsNumber() ? std::max<uint32_t>(1, std::min<uint32_t>(16, threads.As<Napi::Number>().Uint32Value())) : 1;
  return o;
}

}  // namespace

Napi::Function UdpSocketObject::Define(Napi::Env env) {
  return DefineClass(env, "UdpSocket",
                     {InstanceMethod<&UdpSocketObject::Port>("port"), InstanceMethod<&UdpSocketObject::Recv>("recv"),
                      InstanceMethod<&UdpSocketObject::Send>("send"), InstanceMethod<&UdpSocketObject::Gro>("gro"),
                      InstanceMethod<&UdpSocketObject::SetMark>("setMark"), InstanceMethod<&UdpSocketObject::Mark>("mark"),
                      InstanceMethod<&UdpSocketObject::Poll>("poll"), InstanceMethod<&UdpSocketObject::Close>("close"),
                      InstanceMethod<&UdpSocketObject::NativePort>("nativePort"),
                      InstanceMethod<&UdpSocketObject::DrainPunted>("drainPunted"),
                      InstanceMethod<&UdpSocketObject::PortStats>("portStats")});
}

// JS thread.
UdpSocketObject::UdpSocketObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpSocketObject>(info), env_(info.Env()) {
  const UdpSocketOptions options = optionsFrom(info[0].As<Napi::Object>());
  onReady_ = Napi::Persistent(info[1].As<Napi::Function>());
  try {
    socket_ = std::make_shared<UdpSocket>(options);
    port_ = UdpPort::create(socket_);
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env_, &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    if (uv_poll_init(loop, poll_, socket_->fd()) != 0) {
      delete poll_;
      poll_ = nullptr;
      throw Napi::Error::New(info.Env(), "uv_poll_init failed for UDP port " + std::to_string(options.port));
    }
    if (napi_add_async_cleanup_hook(env_, &UdpSocketObject::AsyncCleanup, this, &cleanupHook_) != napi_ok) cleanupHook_ = nullptr;
  } catch (...) {
    Napi::Error error = currentExceptionToJs(info.Env(), kAddonName);
    closeNow();
    throw error;
  }
}

// JS thread (also from the garbage collector's finaliser).
UdpSocketObject::~UdpSocketObject() { closeNow(); }

// JS thread.
void UdpSocketObject::AsyncCleanup(napi_async_cleanup_hook_handle, void* self) { static_cast<UdpSocketObject*>(self)->closeNow(); }

// JS thread. The receive thread and the port go first (nothing reads or sends after that), then
// the poll handle: freed, and the environment's teardown released, once libuv has closed it (a
// worker's loop cannot end with a handle still open); the fd last.
void UdpSocketObject::closeNow() {
  for (auto& receiver : receivers_) receiver->stop();
  receivers_.clear();
  if (port_ != nullptr) {
    port_->close();
    port_->release();
    port_ = nullptr;
  }
  if (punted_) punted_->close();
  if (puntedWake_) puntedWake_->close();
  napi_async_cleanup_hook_handle hook = cleanupHook_;
  cleanupHook_ = nullptr;
  if (poll_ != nullptr) {
    uv_poll_stop(poll_);
    poll_->data = hook;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* handle) {
      auto* pending = static_cast<napi_async_cleanup_hook_handle>(handle->data);
      delete reinterpret_cast<uv_poll_t*>(handle);
      if (pending != nullptr) napi_remove_async_cleanup_hook(pending);
    });
    poll_ = nullptr;
  } else if (hook != nullptr) {
    napi_remove_async_cleanup_hook(hook);
  }
  if (socket_) socket_->close();
}

// JS thread.
Napi::Value UdpSocketObject::Port(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), socket_ ? socket_->port() : 0);
}

// JS thread.
Napi::Value UdpSocketObject::Gro(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), socket_ && socket_->gro());
}

// JS thread. recv(buffer, offsets, lengths, meta, addresses, maxDatagram) → messages received.
// meta as in TunDevice.drain: [capacity, byteCapacity, headroom, tailroom, length, bytesUsed]; the
// batch is filled from empty and meta[4], meta[5] are set. meta[6] += datagrams dropped (larger
// than maxDatagram, or with nowhere to go); meta[7] = UDP messages received; meta[8] += datagrams
// dropped because their sender cannot be answered (source port 0).
Napi::Value UdpSocketObject::Recv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // Once the receive thread reads the socket, JS reads through drainPunted only.
  if (!socket_ || socket_->fd() < 0 || !receivers_.empty()) return Napi::Number::New(env, 0);
  auto buffer = info[0].As<Napi::Uint8Array>();
  auto offsets = info[1].As<Napi::Uint32Array>();
  auto lengths = info[2].As<Napi::Uint32Array>();
  auto meta = info[3].As<Napi::Uint32Array>();
  auto addresses = info[4].As<Napi::Uint8Array>();
  if (meta.ElementLength() < 9) throw Napi::RangeError::New(env, "recv: meta needs 9 numbers");
  BatchFill fill;
  fill.maxDatagram = info[5].As<Napi::Number>().Uint32Value();
  fill.addresses = addresses.Data();
  PacketBatchView& v = fill.view;
  v.buffer = buffer.Data();
  v.offsets = offsets.Data();
  v.lengths = lengths.Data();
  // Nothing from JS is trusted: the capacities are cut to what the arrays really hold.
  v.capacity = std::min<uint32_t>({meta[0], static_cast<uint32_t>(offsets.ElementLength()),
                                   static_cast<uint32_t>(lengths.ElementLength()),
                                   static_cast<uint32_t>(addresses.ByteLength() / kAddressBytes)});
  v.byteCapacity = std::min<uint32_t>(meta[1], static_cast<uint32_t>(buffer.ByteLength()));
  v.headroom = meta[2];
  v.tailroom = meta[3];
  if (!socket_->canHold(v, fill.maxDatagram))
    throw Napi::RangeError::New(env, "recv: the batch cannot hold one datagram of maxDatagram bytes");
  const uint32_t messages = translateOsError(env, kAddonName, [&] { return socket_->recv(fill); });
  meta[4] = v.length;
  meta[5] = v.bytesUsed;
  meta[6] = meta[6] + fill.dropped;
  meta[7] = messages;
  meta[8] = meta[8] + fill.badSources;
  return Napi::Number::New(env, messages);
}

// JS thread. send(buffer, offsets, lengths, start, end, addresses) → [taken, errors, messages,
// badEndpoints]: datagrams start..end-1 (sent, refused by the OS and counted in errors, or never
// sent to an address this socket cannot send to, counted in badEndpoints) until the socket buffer
// filled. Addresses hold kAddressBytes (24) per datagram, datagram `start` first.
Napi::Value UdpSocketObject::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!socket_ || socket_->fd() < 0) throw Napi::Error::New(env, "the UDP socket is closed");
  auto buffer = info[0].As<Napi::Uint8Array>();
  auto offsets = info[1].As<Napi::Uint32Array>();
  auto lengths = info[2].As<Napi::Uint32Array>();
  const uint32_t start = info[3].As<Napi::Number>().Uint32Value();
  const uint32_t end = info[4].As<Napi::Number>().Uint32Value();
  auto addresses = info[5].As<Napi::Uint8Array>();
  if (start > end || end > offsets.ElementLength() || end > lengths.ElementLength() ||
      uint64_t{end - start} * kAddressBytes > addresses.ByteLength())
    throw Napi::RangeError::New(env, "send: datagram range beyond the batch");
  for (uint32_t i = start; i < end; ++i) {
    if (uint64_t{offsets[i]} + lengths[i] > buffer.ByteLength()) throw Napi::RangeError::New(env, "send: datagram outside the batch buffer");
  }
  const SendResult r = socket_->send(buffer.Data(), offsets.Data() + start, lengths.Data() + start, end - start, addresses.Data());
  auto result = Napi::Array::New(env, 4);
  result.Set(0u, r.taken);
  result.Set(1u, r.errors);
  result.Set(2u, r.messages);
  result.Set(3u, r.badEndpoints);
  return result;
}

// JS thread.
Napi::Value UdpSocketObject::SetMark(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!socket_ || socket_->fd() < 0) throw Napi::Error::New(env, "the UDP socket is closed");
  const uint32_t mark = info[0].As<Napi::Number>().Uint32Value();
  translateOsError(env, kAddonName, [&] { socket_->setMark(mark); });
  return env.Undefined();
}

// JS thread.
Napi::Value UdpSocketObject::Mark(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), socket_ ? socket_->mark() : 0);
}

// JS thread. poll(readable, writable): arm the libuv poll for these events; onReady fires once per arming.
Napi::Value UdpSocketObject::Poll(const Napi::CallbackInfo& info) {
  if (poll_ == nullptr) return info.Env().Undefined();
  int events = 0;
  if (info[0].ToBoolean().Value() && receivers_.empty()) events |= UV_READABLE;
  if (info[1].ToBoolean().Value()) events |= UV_WRITABLE;
  pollEvents_ = events;
  if (events == 0) uv_poll_stop(poll_);
  else uv_poll_start(poll_, events, &UdpSocketObject::OnPoll);
  return info.Env().Undefined();
}

// JS thread (the libuv loop). An exception must not leave a libuv callback (it would abort):
// a throwing onReady is reported as uncaught; while the environment is torn down, nothing runs.
void UdpSocketObject::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<UdpSocketObject*>(handle->data);
  if (self == nullptr || self->poll_ != handle) return;
  // One-shot: JS re-arms what it still waits for.
  const bool readable = status < 0 || (events & UV_READABLE) != 0;
  const bool writable = status < 0 || (events & UV_WRITABLE) != 0;
  self->pollEvents_ &= ~((readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0));
  if (self->pollEvents_ == 0) uv_poll_stop(self->poll_);
  else uv_poll_start(self->poll_, self->pollEvents_, &UdpSocketObject::OnPoll);
  try {
    Napi::HandleScope scope(self->env_);
    try {
      self->onReady_.MakeCallback(self->Value(), {Napi::Boolean::New(self->env_, readable), Napi::Boolean::New(self->env_, writable)});
    } catch (const Napi::Error& error) {
      napi_fatal_exception(self->env_, error.Value());  // as an uncaught exception, not a crash inside libuv
    }
  } catch (...) {
    // No handle scope or no JS any more: the environment is going away.
  }
}

// JS thread.
Napi::Value UdpSocketObject::NativePort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!socket_ || socket_->fd() < 0 || port_ == nullptr) throw Napi::Error::New(env, "the UDP socket is closed");
  if (receivers_.empty()) {
    const uint32_t maxDatagram = info[0].As<Napi::Number>().Uint32Value();
    // Room for what JS handles itself (handshakes, and transport the processor leaves): a
    // burst of handshakes beyond this is dropped and counted, as a full socket buffer would.
    constexpr uint32_t kPuntSlots = 512;
    const uint32_t threads = socket_->receiveThreads();
    puntedWake_ = JsWake::create(env, info[1].As<Napi::Function>(), "tunkit-udp-punted");
    std::shared_ptr<JsWake> wake = puntedWake_;
    punted_ = std::make_shared<BatchChannel>(threads, kPuntSlots, maxDatagram + kAddressBytes, [wake] { wake->wake(); });
    if (poll_ != nullptr) {
      pollEvents_ &= ~UV_READABLE;  // the threads read from now on
      if (pollEvents_ == 0) uv_poll_stop(poll_);
      else uv_poll_start(poll_, pollEvents_, &UdpSocketObject::OnPoll);
    }
    translateOsError(env, kAddonName, [&] {
      // Thread 0 reads the socket JS sends on; each further one a sibling in its SO_REUSEPORT group.
      for (uint32_t i = 0; i < threads; ++i) {
        std::shared_ptr<UdpSocket> socket = i == 0 ? socket_ : socket_->sibling();
        receivers_.push_back(std::make_unique<UdpReceiveThread>(socket, *port_, *punted_, maxDatagram, i));
      }
    });
  }
  return wrapPort(env, port_->port());
}

// JS thread.
Napi::Value UdpSocketObject::DrainPunted(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!punted_) return Napi::Number::New(env, 0);
  DrainArgs args(info);
  auto addresses = info[4].As<Napi::Uint8Array>();
  const auto addressRoom = static_cast<uint32_t>(addresses.ByteLength() / kAddressBytes);
  const uint32_t room = std::min<uint32_t>(args.room(), addressRoom > args.view.length ? addressRoom - args.view.length : 0);
  const uint32_t first = args.view.length;
  const uint32_t moved = punted_->drainInto(args.view, room);
  // Each slot holds the datagram and then its sender: the sender moves to `addresses`.
  for (uint32_t i = first; i < first + moved; ++i) {
    const uint32_t length = args.view.lengths[i] - kAddressBytes;
    std::memcpy(addresses.Data() + size_t{i} * kAddressBytes, args.view.buffer + args.view.offsets[i] + length, kAddressBytes);
    args.view.lengths[i] = length;
  }
  return args.finish(moved);
}

// JS thread.
Napi::Value UdpSocketObject::PortStats(const Napi::CallbackInfo& info) {
  const UdpPortCounters* c = port_ == nullptr ? nullptr : &port_->counters();
  const std::atomic<uint64_t>* fields[] = {c ? &c->txDatagrams : nullptr,    c ? &c->txBytes : nullptr,    c ? &c->txMessages : nullptr,
                                           c ? &c->txErrors : nullptr,       c ? &c->txDropped : nullptr,  c ? &c->txBadEndpoints : nullptr,
                                           c ? &c->rxDatagrams : nullptr,    c ? &c->rxBytes : nullptr,    c ? &c->rxMessages : nullptr,
                                           c ? &c->rxDropped : nullptr,      c ? &c->rxBadSources : nullptr};
  constexpr size_t kFields = sizeof fields / sizeof fields[0];
  auto out = Napi::Float64Array::New(info.Env(), kFields);
  if (c == nullptr) return out;
  for (size_t i = 0; i < kFields; ++i) out[i] = static_cast<double>(fields[i]->load(std::memory_order_relaxed));
  return out;
}

// JS thread.
Napi::Value UdpSocketObject::Close(const Napi::CallbackInfo& info) {
  closeNow();
  onReady_.Reset();
  return info.Env().Undefined();
}

void registerUdpExports(Napi::Env env, Napi::Object exports) { exports.Set("UdpSocket", UdpSocketObject::Define(env)); }

}  // namespace tunkit::wireguard
