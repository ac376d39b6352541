// Registration of the macOS-only utun exports. binding.gyp picks the implementation:
// utun_exports_darwin.cc on macOS, utun_exports_other.cc (registers nothing) elsewhere, so the
// addon itself has no per-OS code.
#pragma once

#include <napi.h>

namespace tunkit::darwin_tun {

/** Adds openUtun, utunName, setMtu, setUp, addAddress, addRoute to `exports` where utun exists. JS thread. */
void registerUtunExports(Napi::Env env, Napi::Object exports);

}  // namespace tunkit::darwin_tun
