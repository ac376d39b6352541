// JS binding of sendUnixDatagram (unix_datagram.hh): the path and bytes converted on the JS thread,
// OS errors out as JS errors with errno and syscall.
#include <string>

#include <tunkit/os_error_js.hh>

#include "bindings.hh"
#include "tunkit_linux.hh"
#include "unix_datagram.hh"

namespace tunkit::linux_tun {

namespace {

// JS thread: sendUnixDatagram(path: string, data: Uint8Array).
void SendUnixDatagram(const Napi::CallbackInfo& info) {
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const auto data = info[1].As<Napi::Uint8Array>();
  translateOsError(info.Env(), kAddonName, [&] { sendUnixDatagram(path, data.Data(), data.ByteLength()); });
}

}  // namespace

void registerNotifyExports(Napi::Env env, Napi::Object exports) {
  exports.Set("sendUnixDatagram", Napi::Function::New<SendUnixDatagram>(env, "sendUnixDatagram"));
}

}  // namespace tunkit::linux_tun
