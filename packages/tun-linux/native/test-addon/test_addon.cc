// The tun-linux test addon: the packet codecs of the runtime addon (offload.cc, flow_hash.cc)
// over plain byte arrays, so tests can check them from JS against independent TypeScript. Built
// by the package's build for its tests (native/test-addon, its own binding.gyp); never shipped, and
// not part of the runtime addon. Registers exports only.
#include <napi.h>

#include "codec_binding.hh"

namespace {

// JS thread, once per environment.
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tunkit::linux_tun::registerCodecExports(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(tunkit_linux_test, Init)
