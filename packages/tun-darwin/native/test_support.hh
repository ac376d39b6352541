// Test support (used by test/ only): a socketpair(AF_UNIX, SOCK_DGRAM) stands in for a utun
// socket, so the Darwin framing and the fd-readiness loop run on any POSIX machine.
#pragma once

namespace tunkit::darwin_tun {

struct SocketPair {
  int device;
  int peer;
};

/** A connected AF_UNIX datagram pair, both ends non-blocking and close-on-exec. Throws OsError. */
SocketPair openTestSocketPair();

/**
 * shutdown(SHUT_RDWR) on `fd`'s socket, as XNU does to a utun control socket whose interface is
 * torn down (soisdisconnected): every fd of that socket (the device's dup too) polls as
 * disconnected, and writes fail with EPIPE. Throws OsError.
 */
void shutdownTestSocket(int fd);

/** Sets SO_SNDBUF on `fd` (how much it may have queued unread at the peer); returns what the kernel granted. Throws OsError. */
int setSendBuffer(int fd, int bytes);

}  // namespace tunkit::darwin_tun
