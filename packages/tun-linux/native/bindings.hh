// The addon's plain-function exports, one registration per concern; addon.cc calls them.
#pragma once

#include <napi.h>

namespace tunkit::linux_tun {

/** linkIndex, getLink, setLink, changeAddress, changeRoute, changeRule, listAddresses, listRoutes, enterNetworkNamespace. JS thread. */
void registerConfigExports(Napi::Env env, Napi::Object exports);

/** sendUnixDatagram (systemd's readiness notifications). JS thread. */
void registerNotifyExports(Napi::Env env, Napi::Object exports);

}  // namespace tunkit::linux_tun
