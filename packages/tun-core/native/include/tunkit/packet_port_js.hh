// Packet ports (packet_port.hh) between addons, through JS: a device addon wraps its port in an
// external that holds one reference (released when the external is collected), tagged so that
// the processor's addon refuses anything else. JS thread only.
#pragma once

#include <napi.h>

#include "packet_port.hh"

namespace tunkit {

/** Tags the JS external that carries a tunkit_device_port between addons ("tunkit_port_abi1"). */
inline constexpr napi_type_tag kPortTypeTag = {0x74756e6b69745f70ull, 0x6f72745f61626931ull};

/** A tagged external for `port`, holding one reference to it until collected. JS thread. */
inline Napi::Value wrapPort(Napi::Env env, const tunkit_device_port* port) {
  port->retain(port->device);
  auto external = Napi::External<tunkit_device_port>::New(env, const_cast<tunkit_device_port*>(port),
                                                          [](Napi::Env, tunkit_device_port* p) { p->release(p->device); });
  if (napi_type_tag_object(env, external, &kPortTypeTag) != napi_ok) throw Napi::Error::New(env, "cannot tag a packet port");
  return external;
}

/**
 * The port inside an external made by wrapPort, of `kind` (TUNKIT_PORT_TUN or _UDP); throws a
 * TypeError naming `what` for anything else. The caller retains it (PortRef) to keep it. JS thread.
 */
inline const tunkit_device_port* unwrapPort(const Napi::Value& value, uint32_t kind, const char* what) {
  Napi::Env env = value.Env();
  bool tagged = false;
  if (value.IsExternal()) napi_check_object_type_tag(env, value, &kPortTypeTag, &tagged);
  if (!tagged) throw Napi::TypeError::New(env, std::string(what) + " is not a tunkit packet port");
  const tunkit_device_port* port = value.As<Napi::External<tunkit_device_port>>().Data();
  if (port->abi != TUNKIT_PORT_ABI) throw Napi::TypeError::New(env, std::string(what) + " speaks another packet port ABI");
  if (port->kind != kind) throw Napi::TypeError::New(env, std::string(what) + " is a port of the wrong kind");
  return port;
}

}  // namespace tunkit
