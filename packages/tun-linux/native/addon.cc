// Registers the tun-linux addon's exports; the work is in the other files.
#include <napi.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "flow_hash.hh"
#include "netlink.hh"
#include "netns.hh"
#include "offload.hh"
#include "os_error.hh"
#include "tun_object.hh"
#include "udp_socket.hh"

namespace tunkit::linux_tun {

namespace {

/** Turns an OsError into a JS Error with errno and syscall, for TS to wrap in TunOsError. */
template <typename F>
auto translate(Napi::Env env, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const OsError& error) {
    Napi::Error e = Napi::Error::New(env, error.what());
    e.Set("errno", Napi::String::New(env, error.errnoName()));
    e.Set("syscall", Napi::String::New(env, error.syscall()));
    throw e;
  }
}

netlink::Prefix prefixFrom(const Napi::CallbackInfo& info, size_t at) {
  netlink::Prefix prefix;
  auto bytes = info[at].As<Napi::Uint8Array>();
  prefix.family = bytes.ByteLength() == 16 ? AF_INET6 : AF_INET;
  std::memcpy(prefix.address, bytes.Data(), bytes.ByteLength() == 16 ? 16 : 4);
  prefix.length = info[at + 1].As<Napi::Number>().Uint32Value();
  return prefix;
}

Napi::Array prefixesToJs(Napi::Env env, const std::vector<netlink::Prefix>& prefixes) {
  Napi::Array out = Napi::Array::New(env, prefixes.size());
  for (size_t i = 0; i < prefixes.size(); ++i) {
    const size_t size = prefixes[i].family == AF_INET6 ? 16 : 4;
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("address", Napi::Buffer<uint8_t>::Copy(env, prefixes[i].address, size));
    entry.Set("prefix", prefixes[i].length);
    out.Set(static_cast<uint32_t>(i), entry);
  }
  return out;
}

}  // namespace

Napi::Object RegisterExports(Napi::Env env, Napi::Object exports) {
  exports.Set("TunDevice", TunDevice::Define(env));
  exports.Set("UdpSocket", UdpSocket::Define(env));
  exports.Set("flowHash", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    auto packet = info[0].As<Napi::Uint8Array>();
    return Napi::Number::New(info.Env(), flowHash(packet.Data(), packet.ByteLength()));
  }));
  // Offload codecs, for tests: splitFrame(frame) → packets; coalesceRun(packets, udp) → [frame, taken].
  exports.Set("splitFrame", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    auto input = info[0].As<Napi::Uint8Array>();
    std::vector<uint8_t> frame(input.Data(), input.Data() + input.ByteLength());
    offload::Splitter splitter;
    Napi::Array out = Napi::Array::New(info.Env());
    if (!splitter.load(frame.data(), frame.size())) return info.Env().Null();
    std::vector<uint8_t> packet(65535);
    uint32_t n = 0;
    while (splitter.pending()) {
      const uint32_t size = splitter.next(packet.data(), static_cast<uint32_t>(packet.size()));
      out.Set(n++, Napi::Buffer<uint8_t>::Copy(info.Env(), packet.data(), size));
    }
    return static_cast<Napi::Value>(out);
  }));
  exports.Set("coalesceRun", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
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
  }));
  exports.Set("enterNetworkNamespace", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    translate(info.Env(), [&] { enterNetworkNamespace(info[0].As<Napi::String>().Utf8Value()); });
  }));
  exports.Set("linkIndex", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), translate(info.Env(), [&] { return netlink::linkIndex(info[0].As<Napi::String>().Utf8Value()); }));
  }));
  exports.Set("getLink", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    const netlink::Link link = translate(info.Env(), [&] { return netlink::getLink(info[0].As<Napi::Number>().Int32Value()); });
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("index", link.index);
    out.Set("name", link.name);
    out.Set("mtu", link.mtu);
    out.Set("txQueueLen", link.txQueueLen);
    out.Set("up", link.up);
    out.Set("txDropped", static_cast<double>(link.txDropped));
    out.Set("rxDropped", static_cast<double>(link.rxDropped));
    return out;
  }));
  exports.Set("setLink", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    // setLink(index, field, value, what) with field "mtu" | "txQueueLen" | "up"
    const int index = info[0].As<Napi::Number>().Int32Value();
    const std::string field = info[1].As<Napi::String>().Utf8Value();
    const std::string what = info[3].As<Napi::String>().Utf8Value();
    translate(info.Env(), [&] {
      if (field == "mtu") netlink::setMtu(index, info[2].As<Napi::Number>().Uint32Value(), what);
      else if (field == "txQueueLen") netlink::setTxQueueLen(index, info[2].As<Napi::Number>().Uint32Value(), what);
      else netlink::setUp(index, info[2].ToBoolean().Value(), what);
    });
  }));
  exports.Set("changeAddress", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    // changeAddress(add, index, addressBytes, prefixLength, what)
    translate(info.Env(), [&] {
      netlink::changeAddress(info[0].ToBoolean().Value(), info[1].As<Napi::Number>().Int32Value(), prefixFrom(info, 2),
                             info[4].As<Napi::String>().Utf8Value());
    });
  }));
  exports.Set("changeRoute", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    // changeRoute(add, index, addressBytes, prefixLength, table, what)
    translate(info.Env(), [&] {
      netlink::changeRoute(info[0].ToBoolean().Value(), info[1].As<Napi::Number>().Int32Value(), prefixFrom(info, 2),
                           info[4].As<Napi::Number>().Uint32Value(), info[5].As<Napi::String>().Utf8Value());
    });
  }));
  exports.Set("changeRule", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    // changeRule(add, { family: 4 | 6, priority, table, ipProtocol, sourcePort, suppressPrefixLength }, what)
    const Napi::Object spec = info[1].As<Napi::Object>();
    netlink::Rule rule;
    rule.family = spec.Get("family").As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET;
    rule.priority = spec.Get("priority").As<Napi::Number>().Uint32Value();
    rule.table = spec.Get("table").As<Napi::Number>().Uint32Value();
    rule.ipProtocol = static_cast<uint8_t>(spec.Get("ipProtocol").As<Napi::Number>().Uint32Value());
    rule.sourcePort = static_cast<uint16_t>(spec.Get("sourcePort").As<Napi::Number>().Uint32Value());
    rule.suppressPrefixLength = spec.Get("suppressPrefixLength").As<Napi::Number>().Int32Value();
    translate(info.Env(), [&] { netlink::changeRule(info[0].ToBoolean().Value(), rule, info[2].As<Napi::String>().Utf8Value()); });
  }));
  exports.Set("listAddresses", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return prefixesToJs(info.Env(), translate(info.Env(), [&] { return netlink::listAddresses(info[0].As<Napi::Number>().Int32Value()); }));
  }));
  exports.Set("listRoutes", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return prefixesToJs(info.Env(), translate(info.Env(), [&] {
      return netlink::listRoutes(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Uint32Value());
    }));
  }));
  return exports;
}

}  // namespace tunkit::linux_tun

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return tunkit::linux_tun::RegisterExports(env, exports); }

NODE_API_MODULE(tunkit_linux, Init)
