// Test support: the socketpair standing in for utun, shrinking its send buffer so a stopped reader
// makes writes fail with EAGAIN after a few packets, and shutting it down as the kernel does when
// the interface goes. Plain POSIX: builds on macOS and Linux.
#include "test_support.hh"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <tunkit/os_error.hh>

namespace tunkit::darwin_tun {

namespace {

void makeNonBlocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) throw OsError(errno, "fcntl", "making a test socket non-blocking failed");
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

}  // namespace

SocketPair openTestSocketPair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) != 0) {
    const int error = errno;
    throw OsError(error, "socketpair", "socketpair(AF_UNIX, SOCK_DGRAM) failed (" + errnoName(error) + ")");
  }
  try {
    makeNonBlocking(fds[0]);
    makeNonBlocking(fds[1]);
  } catch (...) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw;
  }
  return {fds[0], fds[1]};
}

void shutdownTestSocket(int fd) {
  if (::shutdown(fd, SHUT_RDWR) != 0) {
    const int error = errno;
    throw OsError(error, "shutdown", "shutdown(SHUT_RDWR) on fd " + std::to_string(fd) + " failed (" + errnoName(error) + ")");
  }
}

int setSendBuffer(int fd, int bytes) {
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) != 0) {
    const int error = errno;
    throw OsError(error, "setsockopt", "SO_SNDBUF on fd " + std::to_string(fd) + " failed (" + errnoName(error) + ")");
  }
  int granted = 0;
  socklen_t size = sizeof granted;
  ::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &granted, &size);
  return granted;
}

}  // namespace tunkit::darwin_tun
