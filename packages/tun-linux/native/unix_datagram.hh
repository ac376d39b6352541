// One datagram to an AF_UNIX datagram socket, which node:dgram cannot send: systemd's readiness
// notifications (sd_notify(3): READY=1, RELOADING=1, STOPPING=1 to $NOTIFY_SOCKET) go this way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tunkit::linux_tun {

/**
 * Sends `size` bytes as one datagram to the AF_UNIX socket at `path`; a path starting with '@'
 * names a socket in the abstract namespace (systemd's convention). Throws OsError (ENOENT,
 * ECONNREFUSED, EMSGSIZE, ...) naming the path. Any thread; it blocks only as long as sendto.
 */
void sendUnixDatagram(const std::string& path, const uint8_t* data, size_t size);

}  // namespace tunkit::linux_tun
