// errnoName: the symbolic name of an errno value ("EPERM", "EBUSY"...), for error messages and
// the `errno` field of TunOsError. Falls back to "E<number>".
#pragma once

#include <cerrno>
#include <string>

namespace tunkit {

/**
 * Not an errno: the other side closed the connection (a utun socket the kernel disconnected), for
 * which no errno exists. The value and the name "EOF" are libuv's UV_EOF, as Node reports it.
 */
inline constexpr int kEndOfFile = -4095;

inline std::string errnoName(int error) {
  switch (error) {
    case kEndOfFile:
      return "EOF";
#define TUNKIT_ERRNO(name) \
  case name:               \
    return #name;
    TUNKIT_ERRNO(EPERM)
    TUNKIT_ERRNO(ENOENT)
    TUNKIT_ERRNO(ESRCH)
    TUNKIT_ERRNO(EINTR)
    TUNKIT_ERRNO(EIO)
    TUNKIT_ERRNO(ENXIO)
    TUNKIT_ERRNO(E2BIG)
    TUNKIT_ERRNO(EBADF)
    TUNKIT_ERRNO(EAGAIN)
    TUNKIT_ERRNO(ENOMEM)
    TUNKIT_ERRNO(EACCES)
    TUNKIT_ERRNO(EFAULT)
    TUNKIT_ERRNO(EBUSY)
    TUNKIT_ERRNO(EEXIST)
    TUNKIT_ERRNO(ENODEV)
    TUNKIT_ERRNO(ENOTDIR)
    TUNKIT_ERRNO(EINVAL)
    TUNKIT_ERRNO(ENFILE)
    TUNKIT_ERRNO(EMFILE)
    TUNKIT_ERRNO(ENOTTY)
    TUNKIT_ERRNO(ENOSPC)
    TUNKIT_ERRNO(EPIPE)
    TUNKIT_ERRNO(ERANGE)
    TUNKIT_ERRNO(ENOSYS)
    TUNKIT_ERRNO(ENOBUFS)
    TUNKIT_ERRNO(EADDRINUSE)
    TUNKIT_ERRNO(EADDRNOTAVAIL)
    TUNKIT_ERRNO(ENETDOWN)
    TUNKIT_ERRNO(ENETUNREACH)
    TUNKIT_ERRNO(EHOSTUNREACH)
    TUNKIT_ERRNO(ECONNREFUSED)
    TUNKIT_ERRNO(ECONNRESET)
    TUNKIT_ERRNO(ENOTCONN)
    TUNKIT_ERRNO(EMSGSIZE)
    TUNKIT_ERRNO(EOPNOTSUPP)
    TUNKIT_ERRNO(EAFNOSUPPORT)
    TUNKIT_ERRNO(EPROTONOSUPPORT)
    TUNKIT_ERRNO(ETIMEDOUT)
#ifdef EBADFD  // Linux only: a TUN fd whose interface was removed
    TUNKIT_ERRNO(EBADFD)
#endif
#undef TUNKIT_ERRNO
    default:
      return "E" + std::to_string(error);
  }
}

}  // namespace tunkit
