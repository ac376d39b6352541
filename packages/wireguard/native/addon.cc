// Registers the wireguard addon's exports; the work is in the other files (STYLE §2).
#include <napi.h>

#include "exports.hh"

namespace {

// JS thread, once per environment (the main thread and each worker that loads the addon).
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tunkit::wireguard::registerAeadExports(env, exports);
  tunkit::wireguard::registerXaeadExports(env, exports);
  tunkit::wireguard::registerUdpExports(env, exports);
  tunkit::wireguard::registerDataPlaneExports(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(tunkit_wireguard, Init)
