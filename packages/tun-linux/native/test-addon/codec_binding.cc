// JS bindings of the packet codecs, for tests: flowHash (the queue choice, checked against
// tun-core's TS flowHash) and the offload codecs (offload.hh) over plain byte arrays, so the split
// and coalesce rules are tested from JS against an independent parser. JS thread only; these copy
// freely: none is on a hot path.
#include "codec_binding.hh"

#include <vector>

#include "flow_hash.hh"
#include "offload.hh"

namespace tunkit::linux_tun {

namespace {

// JS thread: flowHash(packet) → the symmetric flow hash.
Napi::Value FlowHash(const Napi::CallbackInfo& info) {
  auto packet = info[0].As<Napi::Uint8Array>();
  return Napi::Number::New(info.Env(), flowHash(packet.Data(), packet.ByteLength()));
}

// JS thread: splitFrame(frame) → packets, or null for a malformed frame.
Napi::Value SplitFrame(const Napi::CallbackInfo& info) {
  auto input = info[0].As<Napi::Uint8Array>();
  std::vector<uint8_t> frame(input.Data(), input.Data() + input.ByteLength());  // load() edits in place
  offload::Splitter splitter;
  if (!splitter.load(frame.data(), frame.size())) return info.Env().Null();
  Napi::Array out = Napi::Array::New(info.Env());
  std::vector<uint8_t> packet(65535);
  uint32_t n = 0;
  while (splitter.pending()) {
    const uint32_t size = splitter.next(packet.data(), static_cast<uint32_t>(packet.size()));
    out.Set(n++, Napi::Buffer<uint8_t>::Copy(info.Env(), packet.data(), size));
  }
  return out;
}

// JS thread: coalesceRun(packets, udp) → [frame, packets taken].
Napi::Value CoalesceRun(const Napi::CallbackInfo& info) {
  auto list = info[0].As<Napi::Array>();
  std::vector<offload::Packet> packets;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    auto p = list.Get(i).As<Napi::Uint8Array>();
    packets.push_back({p.Data(), static_cast<uint32_t>(p.ByteLength())});
  }
  std::vector<uint8_t> frame(offload::kMaxFrame);
  size_t taken = 0;
  const size_t size = offload::coalesce(packets.data(), packets.size(), info[1].ToBoolean().Value(), frame.data(), frame.size(), taken);
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Buffer<uint8_t>::Copy(info.Env(), frame.data(), size));
  out.Set(1u, static_cast<double>(taken));
  return out;
}

}  // namespace

void registerCodecExports(Napi::Env env, Napi::Object exports) {
  exports.Set("flowHash", Napi::Function::New<FlowHash>(env, "flowHash"));
  exports.Set("splitFrame", Napi::Function::New<SplitFrame>(env, "splitFrame"));
  exports.Set("coalesceRun", Napi::Function::New<CoalesceRun>(env, "coalesceRun"));
}

}  // namespace tunkit::linux_tun
