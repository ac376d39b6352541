// Registers the tun-android addon's exports; the work is in tun-core's fd-readiness loop
// (tunkit/fd_device_object.hh) and the other files here.
#include <napi.h>

#include <tunkit/fd_device_object.hh>
#include <tunkit/os_error_js.hh>

#include "test_support.hh"
#include "tun_interface.hh"

namespace tunkit::android_tun {

Napi::Object RegisterExports(Napi::Env env, Napi::Object exports) {
  exports.Set("FdDevice", FdDeviceObject::Define(env));
  exports.Set("tunInterfaceName", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), tunInterfaceName(info[0].As<Napi::Number>().Int32Value()));
  }));
  // Test support: see test_support.hh.
  exports.Set("openTestTun", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), translateOsError(info.Env(), [&] { return openTestTun(info[0].As<Napi::String>().Utf8Value()); }));
  }));
  exports.Set("enterNetworkNamespace", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    translateOsError(info.Env(), [&] { enterNetworkNamespace(info[0].As<Napi::String>().Utf8Value()); });
  }));
  return exports;
}

}  // namespace tunkit::android_tun

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return tunkit::android_tun::RegisterExports(env, exports); }

NODE_API_MODULE(tunkit_android, Init)
