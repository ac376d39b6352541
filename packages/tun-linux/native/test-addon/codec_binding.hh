// The test addon's exports (codec_binding.cc).
#pragma once

#include <napi.h>

namespace tunkit::linux_tun {

/** flowHash, splitFrame, coalesceRun: the packet codecs for tests. JS thread. */
void registerCodecExports(Napi::Env env, Napi::Object exports);

}  // namespace tunkit::linux_tun
