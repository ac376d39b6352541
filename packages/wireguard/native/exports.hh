// The addon's exports, one registration per concern; addon.cc calls them.
#pragma once

#include <napi.h>

namespace tunkit::wireguard {

/** sealMany, openMany, openssl: ChaCha20-Poly1305 over a batch (aead_batch.cc). JS thread. */
void registerAeadExports(Napi::Env env, Napi::Object exports);

/** xsealInto: XChaCha20-Poly1305 into a caller's buffer, for cookie replies (xaead.cc). JS thread. */
void registerXaeadExports(Napi::Env env, Napi::Object exports);

/**
 * UdpSocket, the batch UDP socket under LinuxUdpBind (linux/udp_socket_object.cc). Elsewhere nothing
 * (other/udp_exports.cc): node:dgram's UdpBind serves there. JS thread.
 */
void registerUdpExports(Napi::Env env, Napi::Object exports);

/**
 * DataPlane, the native data plane (dataplane/data_plane_object.cc): on Linux, where the ports it
 * joins exist. Elsewhere nothing. JS thread.
 */
void registerDataPlaneExports(Napi::Env env, Napi::Object exports);

/** The addon's name in error messages (tun-core's currentExceptionToJs). */
inline constexpr const char* kAddonName = "wireguard";

}  // namespace tunkit::wireguard
