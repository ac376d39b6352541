// Off Linux the addon has no UDP socket of its own (the batch syscalls, recvmmsg/sendmmsg with
// UDP GSO/GRO, are Linux's): openBind uses node:dgram's UdpBind there.
#include "../exports.hh"

namespace tunkit::wireguard {

void registerUdpExports(Napi::Env, Napi::Object) {}

}  // namespace tunkit::wireguard
