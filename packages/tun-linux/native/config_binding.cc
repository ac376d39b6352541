// JS bindings of interface configuration (rtnetlink, netlink.hh) and of entering a network
// namespace (netns.hh): JS arguments in, plain C++ values to the code that does the work, OS
// errors out as JS errors with errno and syscall. Every function runs on the JS thread.
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include <tunkit/os_error_js.hh>

#include "bindings.hh"
#include "netlink.hh"
#include "netns.hh"
#include "tunkit_linux.hh"

namespace tunkit::linux_tun {

namespace {

// JS thread: (addressBytes: Uint8Array(4|16), prefixLength) at info[at], info[at + 1].
netlink::Prefix prefixFrom(const Napi::CallbackInfo& info, size_t at) {
  netlink::Prefix prefix;
  auto bytes = info[at].As<Napi::Uint8Array>();
  const size_t size = bytes.ByteLength() == 16 ? 16 : 4;
  if (bytes.ByteLength() < size) throw Napi::RangeError::New(info.Env(), "an address needs 4 or 16 bytes");
  prefix.family = size == 16 ? AF_INET6 : AF_INET;
  std::memcpy(prefix.address, bytes.Data(), size);
  prefix.length = info[at + 1].As<Napi::Number>().Uint32Value();
  return prefix;
}

// JS thread.
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

// JS thread: enterNetworkNamespace(path).
void EnterNetworkNamespace(const Napi::CallbackInfo& info) {
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  translateOsError(info.Env(), kAddonName, [&] { enterNetworkNamespace(path); });
}

// JS thread: linkIndex(name) → index.
Napi::Value LinkIndex(const Napi::CallbackInfo& info) {
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  return Napi::Number::New(info.Env(), translateOsError(info.Env(), kAddonName, [&] { return netlink::linkIndex(name); }));
}

// JS thread: getLink(index) → { index, name, mtu, txQueueLen, up, txDropped, rxDropped }.
Napi::Value GetLink(const Napi::CallbackInfo& info) {
  const int index = info[0].As<Napi::Number>().Int32Value();
  const netlink::Link link = translateOsError(info.Env(), kAddonName, [&] { return netlink::getLink(index); });
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("index", link.index);
  out.Set("name", link.name);
  out.Set("mtu", link.mtu);
  out.Set("txQueueLen", link.txQueueLen);
  out.Set("up", link.up);
  out.Set("txDropped", static_cast<double>(link.txDropped));
  out.Set("rxDropped", static_cast<double>(link.rxDropped));
  return out;
}

// JS thread: setLink(index, field: "mtu" | "txQueueLen" | "up", value, what).
void SetLink(const Napi::CallbackInfo& info) {
  const int index = info[0].As<Napi::Number>().Int32Value();
  const std::string field = info[1].As<Napi::String>().Utf8Value();
  const std::string what = info[3].As<Napi::String>().Utf8Value();
  if (field == "up") {
    const bool up = info[2].ToBoolean().Value();
    translateOsError(info.Env(), kAddonName, [&] { netlink::setUp(index, up, what); });
    return;
  }
  const uint32_t value = info[2].As<Napi::Number>().Uint32Value();
  if (field == "mtu") translateOsError(info.Env(), kAddonName, [&] { netlink::setMtu(index, value, what); });
  else if (field == "txQueueLen") translateOsError(info.Env(), kAddonName, [&] { netlink::setTxQueueLen(index, value, what); });
  else throw Napi::TypeError::New(info.Env(), "setLink: unknown field " + field);
}

// JS thread: changeAddress(add, index, addressBytes, prefixLength, what).
void ChangeAddress(const Napi::CallbackInfo& info) {
  const bool add = info[0].ToBoolean().Value();
  const int index = info[1].As<Napi::Number>().Int32Value();
  const netlink::Prefix prefix = prefixFrom(info, 2);
  const std::string what = info[4].As<Napi::String>().Utf8Value();
  translateOsError(info.Env(), kAddonName, [&] { netlink::changeAddress(add, index, prefix, what); });
}

// JS thread: changeRoute(add, index, addressBytes, prefixLength, table, what).
void ChangeRoute(const Napi::CallbackInfo& info) {
  const bool add = info[0].ToBoolean().Value();
  const int index = info[1].As<Napi::Number>().Int32Value();
  const netlink::Prefix prefix = prefixFrom(info, 2);
  const uint32_t table = info[4].As<Napi::Number>().Uint32Value();
  const std::string what = info[5].As<Napi::String>().Utf8Value();
  translateOsError(info.Env(), kAddonName, [&] { netlink::changeRoute(add, index, prefix, table, what); });
}

// JS thread: changeUnreachableRoute(add, addressBytes, prefixLength, table, metric, what).
void ChangeUnreachableRoute(const Napi::CallbackInfo& info) {
  const bool add = info[0].ToBoolean().Value();
  const netlink::Prefix prefix = prefixFrom(info, 1);
  const uint32_t table = info[3].As<Napi::Number>().Uint32Value();
  const uint32_t metric = info[4].As<Napi::Number>().Uint32Value();
  const std::string what = info[5].As<Napi::String>().Utf8Value();
  translateOsError(info.Env(), kAddonName, [&] { netlink::changeUnreachableRoute(add, prefix, table, metric, what); });
}

// JS thread: changeRule(add, { family: 4 | 6, priority, table, ipProtocol, sourcePort, suppressPrefixLength }, what).
void ChangeRule(const Napi::CallbackInfo& info) {
  const bool add = info[0].ToBoolean().Value();
  const Napi::Object spec = info[1].As<Napi::Object>();
  netlink::Rule rule;
  rule.family = spec.Get("family").As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET;
  rule.priority = spec.Get("priority").As<Napi::Number>().Uint32Value();
  rule.table = spec.Get("table").As<Napi::Number>().Uint32Value();
  rule.ipProtocol = static_cast<uint8_t>(spec.Get("ipProtocol").As<Napi::Number>().Uint32Value());
  rule.sourcePort = static_cast<uint16_t>(spec.Get("sourcePort").As<Napi::Number>().Uint32Value());
  rule.suppressPrefixLength = spec.Get("suppressPrefixLength").As<Napi::Number>().Int32Value();
  const std::string what = info[2].As<Napi::String>().Utf8Value();
  translateOsError(info.Env(), kAddonName, [&] { netlink::changeRule(add, rule, what); });
}

// JS thread: listAddresses(index) → [{ address, prefix }].
Napi::Value ListAddresses(const Napi::CallbackInfo& info) {
  const int index = info[0].As<Napi::Number>().Int32Value();
  return prefixesToJs(info.Env(), translateOsError(info.Env(), kAddonName, [&] { return netlink::listAddresses(index); }));
}

// JS thread: listRoutes(index, table) → [{ address, prefix }].
Napi::Value ListRoutes(const Napi::CallbackInfo& info) {
  const int index = info[0].As<Napi::Number>().Int32Value();
  const uint32_t table = info[1].As<Napi::Number>().Uint32Value();
  return prefixesToJs(info.Env(), translateOsError(info.Env(), kAddonName, [&] { return netlink::listRoutes(index, table); }));
}

}  // namespace

void registerConfigExports(Napi::Env env, Napi::Object exports) {
  exports.Set("enterNetworkNamespace", Napi::Function::New<EnterNetworkNamespace>(env, "enterNetworkNamespace"));
  exports.Set("linkIndex", Napi::Function::New<LinkIndex>(env, "linkIndex"));
  exports.Set("getLink", Napi::Function::New<GetLink>(env, "getLink"));
  exports.Set("setLink", Napi::Function::New<SetLink>(env, "setLink"));
  exports.Set("changeAddress", Napi::Function::New<ChangeAddress>(env, "changeAddress"));
  exports.Set("changeRoute", Napi::Function::New<ChangeRoute>(env, "changeRoute"));
  exports.Set("changeUnreachableRoute", Napi::Function::New<ChangeUnreachableRoute>(env, "changeUnreachableRoute"));
  exports.Set("changeRule", Napi::Function::New<ChangeRule>(env, "changeRule"));
  exports.Set("listAddresses", Napi::Function::New<ListAddresses>(env, "listAddresses"));
  exports.Set("listRoutes", Napi::Function::New<ListRoutes>(env, "listRoutes"));
}

}  // namespace tunkit::linux_tun
