// The fake backend's extra export `fake`: the OS side of the fake WinTun, for tests on Linux
// (inject packets, take what the adapter sent, delay or terminate, fail a call, inspect rings).
#include <napi.h>

#include <atomic>

#include "../platform.hh"
#include "fake_kernel.hh"
#include "fake_wintun.hh"

namespace tunkit::windows_tun {

namespace fake {
extern std::atomic<bool> dllPresent;
}  // namespace fake

namespace {

std::u16string nameArg(const Napi::CallbackInfo& info) { return info[0].As<Napi::String>().Utf16Value(); }

Napi::Value stateToJs(Napi::Env env, const fake::SessionState& s) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("exists", s.exists);
  out.Set("adapterOpen", s.adapterOpen);
  out.Set("sessionActive", s.sessionActive);
  out.Set("created", s.created);
  out.Set("guid", s.hasGuid ? Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(&s.guid), 16).As<Napi::Value>()
                            : env.Null());
  out.Set("luid", std::to_string(s.luid));
  out.Set("capacity", s.capacity);
  out.Set("receiveRingPackets", static_cast<double>(s.receiveRingPackets));
  out.Set("receiveRingBytes", static_cast<double>(s.receiveRingBytes));
  out.Set("receiveHeld", static_cast<double>(s.receiveHeld));
  out.Set("sendRingPackets", static_cast<double>(s.sendRingPackets));
  out.Set("injectDropped", static_cast<double>(s.injectDropped));
  out.Set("receiveCalls", static_cast<double>(s.receiveCalls));
  out.Set("emptyReceives", static_cast<double>(s.emptyReceives));
  out.Set("overflows", static_cast<double>(s.overflows));
  out.Set("callsAfterEnd", static_cast<double>(s.callsAfterEnd));
  out.Set("sessionsStarted", static_cast<double>(s.sessionsStarted));
  Napi::Array config = Napi::Array::New(env, s.config.size());
  for (size_t i = 0; i < s.config.size(); ++i) config.Set(static_cast<uint32_t>(i), s.config[i]);
  out.Set("config", config);
  return out;
}

}  // namespace

void registerPlatformExports(Napi::Env env, Napi::Object exports) {
  Napi::Object hooks = Napi::Object::New(env);
  hooks.Set("inject", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    auto packet = info[1].As<Napi::Uint8Array>();
    return Napi::Boolean::New(info.Env(), fake::inject(nameArg(info), packet.Data(), static_cast<uint32_t>(packet.ByteLength())));
  }));
  hooks.Set("takeSent", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    const auto packets = fake::takeSent(nameArg(info), info[1].As<Napi::Number>().Uint32Value());
    Napi::Array out = Napi::Array::New(info.Env(), packets.size());
    for (size_t i = 0; i < packets.size(); ++i) {
      out.Set(static_cast<uint32_t>(i), Napi::Buffer<uint8_t>::Copy(info.Env(), packets[i].data(), packets[i].size()));
    }
    return out;
  }));
  hooks.Set("deferUntilEmptyPolls", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    auto packet = info[1].As<Napi::Uint8Array>();
    return Napi::Boolean::New(info.Env(), fake::deferUntilEmptyPolls(nameArg(info), packet.Data(), static_cast<uint32_t>(packet.ByteLength()),
                                                                     info[2].As<Napi::Number>().Uint32Value()));
  }));
  hooks.Set("delayNextReceive", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), fake::delayNextReceive(nameArg(info), info[1].As<Napi::Number>().Uint32Value()));
  }));
  hooks.Set("terminate", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), fake::terminate(nameArg(info)));
  }));
  hooks.Set("failNext", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    fake::failNext(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Number>().Uint32Value());
  }));
  hooks.Set("setDllPresent", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    fake::dllPresent.store(info[0].ToBoolean().Value());
  }));
  hooks.Set("state", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return stateToJs(info.Env(), fake::state(nameArg(info))); }));
  hooks.Set("openCounts", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    uint64_t adapters = 0;
    uint64_t sessions = 0;
    fake::openCounts(adapters, sessions);
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("adapters", static_cast<double>(adapters));
    out.Set("sessions", static_cast<double>(sessions));
    out.Set("kernelObjects", static_cast<double>(fake::liveObjects()));
    return out;
  }));
  exports.Set("fake", hooks);
}

}  // namespace tunkit::windows_tun
