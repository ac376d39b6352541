// Registers the tun-darwin addon's exports; the work is in tun-core's fd-readiness loop
// (tunkit/fd_device_object.hh) and the other files here.
#include <napi.h>

#include <tunkit/fd_device_object.hh>
#include <tunkit/os_error_js.hh>

#include "test_support.hh"
#include "utun_exports.hh"

namespace tunkit::darwin_tun {

Napi::Object RegisterExports(Napi::Env env, Napi::Object exports) {
  exports.Set("FdDevice", FdDeviceObject::Define(env));
  registerUtunExports(env, exports);
  // Test support: see test_support.hh.
  exports.Set("openTestSocketPair", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    const SocketPair pair = translateOsError(info.Env(), [] { return openTestSocketPair(); });
    Napi::Array out = Napi::Array::New(info.Env(), 2);
    out.Set(0u, pair.device);
    out.Set(1u, pair.peer);
    return out;
  }));
  exports.Set("shutdownTestSocket", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    translateOsError(info.Env(), [&] { shutdownTestSocket(info[0].As<Napi::Number>().Int32Value()); });
    return info.Env().Undefined();
  }));
  exports.Set("setSendBuffer", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), translateOsError(info.Env(), [&] {
      return setSendBuffer(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value());
    }));
  }));
  return exports;
}

}  // namespace tunkit::darwin_tun

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return tunkit::darwin_tun::RegisterExports(env, exports); }

NODE_API_MODULE(tunkit_darwin, Init)
