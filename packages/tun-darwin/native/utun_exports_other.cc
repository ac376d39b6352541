// Off macOS there is no utun: the addon registers no utun exports, and src/index.ts says so with
// a TunConfigError before it would call one. The fd-readiness loop, the framing and fromFd are
// still built and tested here (binding.gyp compiles the *_darwin.cc files on macOS only).
#include "utun_exports.hh"

namespace tunkit::darwin_tun {

void registerUtunExports(Napi::Env, Napi::Object) {}

}  // namespace tunkit::darwin_tun
