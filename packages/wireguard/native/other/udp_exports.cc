// Off Linux the addon has no UDP socket of its own (the batch syscalls, recvmmsg/sendmmsg with
// UDP GSO/GRO, are Linux's): openBind uses node:dgram's UdpBind there, and with it no native data plane.
#include "../exports.hh"

namespace tunkit::wireguard {

void registerUdpExports(Napi::Env, Napi::Object) {}

// The data plane joins ports that only Linux's Tun and UDP socket offer so far.
void registerDataPlaneExports(Napi::Env, Napi::Object) {}

}  // namespace tunkit::wireguard
