// sendUnixDatagram: a short-lived SOCK_DGRAM socket per message (readiness is sent a handful of
// times per run, so nothing is kept open), as sd_notify does.
#include "unix_datagram.hh"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include <tunkit/os_error.hh>

namespace tunkit::linux_tun {

void sendUnixDatagram(const std::string& path, const uint8_t* data, size_t size) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const bool abstract = !path.empty() && path[0] == '@';
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    throw OsError(EINVAL, "sendto", "EINVAL sending to the unix socket '" + path + "': the path is empty or too long");
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  if (abstract) address.sun_path[0] = '\0';  // "@name": the abstract namespace, no trailing NUL
  const socklen_t length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw OsError(errno, "socket", errnoName(errno) + " opening a unix datagram socket");
  const ssize_t sent = sendto(fd, data, size, MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address), length);
  const int error = errno;
  close(fd);
  if (sent < 0) {
    throw OsError(error, "sendto", errnoName(error) + " sending to the unix socket " + path + ": " + std::strerror(error));
  }
}

}  // namespace tunkit::linux_tun
