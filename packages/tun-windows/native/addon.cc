// Registers the tun-windows addon's exports; the work is in the other files.
#include <napi.h>

#include "device.hh"
#include "platform.hh"

namespace tunkit::windows_tun {

Napi::Object RegisterExports(Napi::Env env, Napi::Object exports) {
  exports.Set("WintunDevice", WintunDevice::Define(env));
  exports.Set("backend", Napi::String::New(env, isFakeBackend() ? "fake" : "wintun"));
  registerPlatformExports(env, exports);
  return exports;
}

}  // namespace tunkit::windows_tun

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return tunkit::windows_tun::RegisterExports(env, exports); }

NODE_API_MODULE(tunkit_windows, Init)
