// The JS face of the native data plane (data_plane.hh), exported as `DataPlane` on Linux, for
// src/device/data-plane.ts, its only user. It converts JS's hand-overs (the baton: plain C++
// structs, checked here) into SessionTable calls, and owns the DataPlane and its table. Every
// method runs on the JS thread; the data plane's own work runs on the ports' threads.
#include <napi.h>

#include <cstring>
#include <memory>
#include <vector>

#include <tunkit/packet_port_js.hh>

#include "../exports.hh"
#include "../openssl_aead.hh"
#include "data_plane.hh"
#include "session_table.hh"

namespace tunkit::wireguard {

namespace {

/** Bytes per route in setRoutes: [family 4|6, prefix length, 0, 0, slot u32 LE, 16 address bytes]. */
constexpr size_t kRouteBytes = 24;

class DataPlaneObject : public Napi::ObjectWrap<DataPlaneObject> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DataPlane",
                       {InstanceMethod<&DataPlaneObject::SetSettings>("setSettings"),
                        InstanceMethod<&DataPlaneObject::SetPeer>("setPeer"),
                        InstanceMethod<&DataPlaneObject::RemovePeer>("removePeer"),
                        InstanceMethod<&DataPlaneObject::SetKeypairs>("setKeypairs"),
                        InstanceMethod<&DataPlaneObject::SetRoutes>("setRoutes"),
                        InstanceMethod<&DataPlaneObject::TakeCounter>("takeCounter"),
                        InstanceMethod<&DataPlaneObject::AcceptCounter>("acceptCounter"),
                        InstanceMethod<&DataPlaneObject::Activity>("activity"),
                        InstanceMethod<&DataPlaneObject::EndpointOf>("endpointOf"),
                        InstanceMethod<&DataPlaneObject::ResetUnanswered>("resetUnanswered"),
                        InstanceMethod<&DataPlaneObject::ExportKeypair>("exportKeypair"),
                        InstanceMethod<&DataPlaneObject::Drops>("drops"),
                        InstanceMethod<&DataPlaneObject::Attach>("attach"),
                        InstanceMethod<&DataPlaneObject::Trace>("trace"),
                        InstanceMethod<&DataPlaneObject::TraceEvents>("traceEvents"),
                        InstanceMethod<&DataPlaneObject::Close>("close")});
  }

  /** new DataPlane(tunPort, udpPort): ports from Tun.nativePort() and the bind's nativePort(). JS thread. */
  explicit DataPlaneObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DataPlaneObject>(info), env_(info.Env()) {
    const tunkit_device_port* tun = unwrapPort(info[0], TUNKIT_PORT_TUN, "the Tun's port");
    const tunkit_device_port* udp = unwrapPort(info[1], TUNKIT_PORT_UDP, "the Bind's port");
    try {
      plane_ = std::make_unique<DataPlane>(tun, udp, table_, openSslAead());
    } catch (const std::exception& error) {
      throw Napi::Error::New(info.Env(), std::string("cannot start the native data plane: ") + error.what());
    }
    napi_add_env_cleanup_hook(env_, &DataPlaneObject::CleanupHook, this);
  }

  ~DataPlaneObject() override {
    napi_remove_env_cleanup_hook(env_, &DataPlaneObject::CleanupHook, this);
    plane_.reset();  // detaches
  }

 private:
  static void CleanupHook(void* self) { static_cast<DataPlaneObject*>(self)->plane_.reset(); }

  // setSettings(mtu, allowPeerToPeer, rejectAfterMessages)
  Napi::Value SetSettings(const Napi::CallbackInfo& info) {
    table_.setSettings(info[0].As<Napi::Number>().Uint32Value(), info[1].ToBoolean().Value(),
                       static_cast<uint64_t>(info[2].As<Napi::Number>().DoubleValue()));
    return info.Env().Undefined();
  }

  // setPeer(slot, endpoint: 24 bytes (the UDP port's address form) | null)
  Napi::Value SetPeer(const Napi::CallbackInfo& info) {
    const uint32_t slot = info[0].As<Napi::Number>().Uint32Value();
    if (info[1].IsTypedArray()) {
      auto endpoint = info[1].As<Napi::Uint8Array>();
      if (endpoint.ByteLength() != TUNKIT_ADDRESS_BYTES) throw Napi::RangeError::New(info.Env(), "setPeer: an endpoint is 24 bytes");
      table_.setPeer(slot, endpoint.Data());
    } else {
      table_.setPeer(slot, nullptr);
    }
    return info.Env().Undefined();
  }

  Napi::Value RemovePeer(const Napi::CallbackInfo& info) {
    table_.removePeer(info[0].As<Napi::Number>().Uint32Value());
    return info.Env().Undefined();
  }

  // setKeypairs(slot, [{ localIndex, remoteIndex, sendKey, receiveKey, remainingMs, role, counter, replayBitmap, replayLast }])
  Napi::Value SetKeypairs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t slot = info[0].As<Napi::Number>().Uint32Value();
    auto list = info[1].As<Napi::Array>();
    std::vector<KeypairSpec> specs(list.Length());
    for (uint32_t i = 0; i < list.Length(); ++i) {
      Napi::Object o = list.Get(i).As<Napi::Object>();
      KeypairSpec& spec = specs[i];
      spec.localIndex = o.Get("localIndex").As<Napi::Number>().Uint32Value();
      spec.remoteIndex = o.Get("remoteIndex").As<Napi::Number>().Uint32Value();
      const auto copyKey = [&](const char* name, uint8_t* out) {
        auto key = o.Get(name).As<Napi::Uint8Array>();
        if (key.ByteLength() != 32) throw Napi::RangeError::New(env, std::string("setKeypairs: ") + name + " is not 32 bytes");
        std::memcpy(out, key.Data(), 32);
      };
      copyKey("sendKey", spec.sendKey);
      copyKey("receiveKey", spec.receiveKey);
      spec.remainingMs = o.Get("remainingMs").As<Napi::Number>().DoubleValue();
      const uint32_t role = o.Get("role").As<Napi::Number>().Uint32Value();
      if (role > 2) throw Napi::RangeError::New(env, "setKeypairs: role is 0, 1 or 2");
      spec.role = static_cast<KeypairSpec::Role>(role);
      spec.counter = static_cast<uint64_t>(o.Get("counter").As<Napi::Number>().DoubleValue());
      auto bitmap = o.Get("replayBitmap").As<Napi::Uint32Array>();
      if (bitmap.ElementLength() != ReplayWindow::kBlocks) throw Napi::RangeError::New(env, "setKeypairs: replayBitmap has the JS window's 256 words");
      std::memcpy(spec.replayBitmap, bitmap.Data(), sizeof spec.replayBitmap);
      spec.replayLast = o.Get("replayLast").As<Napi::Number>().DoubleValue();
    }
    table_.setKeypairs(slot, specs.data(), static_cast<uint32_t>(specs.size()));
    return env.Undefined();
  }

  // setRoutes(entries: Uint8Array of 24-byte routes)
  Napi::Value SetRoutes(const Napi::CallbackInfo& info) {
    auto entries = info[0].As<Napi::Uint8Array>();
    if (entries.ByteLength() % kRouteBytes != 0) throw Napi::RangeError::New(info.Env(), "setRoutes: 24 bytes per route");
    auto routes = std::make_shared<RouteTable>();
    for (size_t at = 0; at < entries.ByteLength(); at += kRouteBytes) {
      const uint8_t* e = entries.Data() + at;
      routes->insert(e + 8, e[0] == 4 ? 4 : 16, e[1], readU32(e + 4));
    }
    table_.setRoutes(std::move(routes));
    return info.Env().Undefined();
  }

  Napi::Value TakeCounter(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(table_.takeCounter(info[0].As<Napi::Number>().Uint32Value())));
  }

  Napi::Value AcceptCounter(const Napi::CallbackInfo& info) {
    const double counter = info[1].As<Napi::Number>().DoubleValue();
    const bool ok = counter >= 0 && table_.acceptCounter(info[0].As<Napi::Number>().Uint32Value(), static_cast<uint64_t>(counter));
    return Napi::Boolean::New(info.Env(), ok);
  }

  // activity(out: Float64Array) → slots written (SessionTable::kActivityFields numbers each)
  Napi::Value Activity(const Napi::CallbackInfo& info) {
    auto out = info[0].As<Napi::Float64Array>();
    const auto capacity = static_cast<uint32_t>(out.ElementLength() / SessionTable::kActivityFields);
    return Napi::Number::New(info.Env(), table_.activity(out.Data(), capacity, monotonicNs()));
  }

  // exportKeypair(localIndex, bitmapOut: Uint32Array(256)) → [counter, replayLast] | null
  Napi::Value ExportKeypair(const Napi::CallbackInfo& info) {
    auto bitmap = info[1].As<Napi::Uint32Array>();
    if (bitmap.ElementLength() != ReplayWindow::kBlocks) throw Napi::RangeError::New(info.Env(), "exportKeypair: 256 words of room");
    uint64_t counter = 0;
    double last = -1;
    if (!table_.exportKeypair(info[0].As<Napi::Number>().Uint32Value(), counter, bitmap.Data(), last)) return info.Env().Null();
    auto out = Napi::Array::New(info.Env(), 2);
    out.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(counter)));
    out.Set(1u, Napi::Number::New(info.Env(), last));
    return out;
  }

  Napi::Value ResetUnanswered(const Napi::CallbackInfo& info) {
    table_.resetUnanswered(info[0].As<Napi::Number>().Uint32Value());
    return info.Env().Undefined();
  }

  Napi::Value EndpointOf(const Napi::CallbackInfo& info) {
    auto out = info[1].As<Napi::Uint8Array>();
    if (out.ByteLength() < TUNKIT_ADDRESS_BYTES) throw Napi::RangeError::New(info.Env(), "endpointOf: 24 bytes of room");
    return Napi::Boolean::New(info.Env(), table_.endpointOf(info[0].As<Napi::Number>().Uint32Value(), out.Data()));
  }

  // drops(out: Float64Array): per DataPlaneDrop, in its order
  Napi::Value Drops(const Napi::CallbackInfo& info) {
    auto out = info[0].As<Napi::Float64Array>();
    for (uint32_t i = 0; i < static_cast<uint32_t>(DataPlaneDrop::Count) && i < out.ElementLength(); ++i)
      out[i] = static_cast<double>(table_.drops(static_cast<DataPlaneDrop>(i)));
    return info.Env().Undefined();
  }

  // trace(on): record each batch's times from now on (trace_ring.hh), or stop.
  Napi::Value Trace(const Napi::CallbackInfo& info) {
    const bool on = info[0].ToBoolean().Value();
    if (on && !traceRing_) traceRing_ = std::make_unique<TraceRing>();
    if (plane_) plane_->trace(on ? traceRing_.get() : nullptr);
    return info.Env().Undefined();
  }

  // traceEvents(out: Float64Array) → events copied (TraceRing::kFields numbers each)
  Napi::Value TraceEvents(const Napi::CallbackInfo& info) {
    auto out = info[0].As<Napi::Float64Array>();
    if (!traceRing_) return Napi::Number::New(info.Env(), 0);
    const auto capacity = static_cast<uint32_t>(out.ElementLength() / TraceRing::kFields);
    return Napi::Number::New(info.Env(), traceRing_->snapshot(out.Data(), capacity));
  }

  Napi::Value Attach(const Napi::CallbackInfo& info) {
    if (!plane_) throw Napi::Error::New(info.Env(), "the data plane is closed");
    plane_->attach();
    return info.Env().Undefined();
  }

  /** Detaches from both ports (returns once no thread is inside) and lets them go. Idempotent. */
  Napi::Value Close(const Napi::CallbackInfo& info) {
    plane_.reset();
    return info.Env().Undefined();
  }

  SessionTable table_;
  std::unique_ptr<TraceRing> traceRing_;  // before plane_: it outlives the recording threads
  std::unique_ptr<DataPlane> plane_;
  napi_env env_;
};

}  // namespace

void registerDataPlaneExports(Napi::Env env, Napi::Object exports) {
  exports.Set("DataPlane", DataPlaneObject::Define(env));
  // The replay window's shape, for JS to check against its own (keypairs move between the two).
  Napi::Object replay = Napi::Object::New(env);
  replay.Set("window", Napi::Number::New(env, static_cast<double>(ReplayWindow::kWindow)));
  replay.Set("words", Napi::Number::New(env, ReplayWindow::kBlocks));
  replay.Set("maxCounter", Napi::Number::New(env, static_cast<double>(ReplayWindow::kMaxCounter)));
  exports.Set("dataPlaneReplay", replay);
  exports.Set("dataPlaneTraceFields", Napi::Number::New(env, TraceRing::kFields));
}

}  // namespace tunkit::wireguard
