// Registers the tun-linux addon's exports; the work is in the other files (STYLE §2).
#include <napi.h>

#include "bindings.hh"
#include "tun_object.hh"

namespace {

// JS thread, once per environment (the main thread and each worker that loads the addon).
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("TunDevice", tunkit::linux_tun::TunDevice::Define(env));
  tunkit::linux_tun::registerConfigExports(env, exports);
  tunkit::linux_tun::registerNotifyExports(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(tunkit_linux, Init)
