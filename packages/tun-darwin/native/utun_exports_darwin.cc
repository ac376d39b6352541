// Registers the macOS-only utun exports (utun.hh) on the addon. Darwin-only (binding.gyp).
#include <cstring>

#include <tunkit/os_error_js.hh>

#include "utun.hh"
#include "utun_exports.hh"

namespace tunkit::darwin_tun {

namespace {

/** (addressBytes, prefixLength) from JS as a Prefix; the bytes were parsed and checked in TS. */
Prefix prefixFrom(const Napi::CallbackInfo& info, size_t at) {
  Prefix prefix;
  auto bytes = info[at].As<Napi::Uint8Array>();
  prefix.family = bytes.ByteLength() == 16 ? 6 : 4;
  std::memcpy(prefix.address, bytes.Data(), prefix.family == 6 ? 16 : 4);
  prefix.length = info[at + 1].As<Napi::Number>().Uint32Value();
  return prefix;
}

}  // namespace

void registerUtunExports(Napi::Env env, Napi::Object exports) {
  exports.Set("openUtun", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    const OpenedUtun opened = translateOsError(info.Env(), [&] { return openUtun(info[0].As<Napi::Number>().Int32Value()); });
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("fd", opened.fd);
    out.Set("name", opened.name);
    return out;
  }));
  exports.Set("utunName", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), translateOsError(info.Env(), [&] { return utunName(info[0].As<Napi::Number>().Int32Value()); }));
  }));
  exports.Set("setMtu", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    translateOsError(info.Env(), [&] { setMtu(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Number>().Uint32Value()); });
  }));
  exports.Set("setUp", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    translateOsError(info.Env(), [&] { setUp(info[0].As<Napi::String>().Utf8Value()); });
  }));
  exports.Set("addAddress", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    // addAddress(name, addressBytes, prefixLength)
    translateOsError(info.Env(), [&] { addAddress(info[0].As<Napi::String>().Utf8Value(), prefixFrom(info, 1)); });
  }));
  exports.Set("addRoute", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    // addRoute(name, networkBytes, prefixLength, existingIsFine)
    translateOsError(info.Env(), [&] {
      addRoute(info[0].As<Napi::String>().Utf8Value(), prefixFrom(info, 1), info[3].ToBoolean().Value());
    });
  }));
}

}  // namespace tunkit::darwin_tun
