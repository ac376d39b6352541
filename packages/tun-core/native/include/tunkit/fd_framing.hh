// FdFraming: how packets sit in the datagrams of a packet fd. Android's TUN fd (and Linux's with
// IFF_NO_PI) carries bare IP packets; a Darwin utun socket puts a 4-byte big-endian address family
// before each packet. Reads and writes use readv/writev with the header in its own iovec, so the
// packet goes straight between the kernel and its final place: the header is never added or
// stripped by copying. Plain C++, any thread that owns the fd.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace tunkit {

enum class FdFraming : uint8_t {
  /** Each datagram is one IP packet (Android, Linux IFF_NO_PI). */
  None,
  /** Each datagram is a 4-byte big-endian address family, then one IP packet (Darwin utun). */
  DarwinAddressFamily,
};

/**
 * Darwin's address-family numbers as utun reads and writes them. These are Darwin's values, not
 * this host's: AF_INET6 is 30 on Darwin but 10 on Linux, and the framing is built and tested on
 * Linux too.
 */
constexpr uint32_t kDarwinAfInet = 2;
constexpr uint32_t kDarwinAfInet6 = 30;
constexpr uint32_t kDarwinFamilyHeaderBytes = 4;

/** What one read of a frame gave. */
struct FrameRead {
  enum class Status : uint8_t {
    /** A packet of `size` bytes now sits at the destination. */
    Packet,
    /** A datagram was consumed but is not a packet (too short, unknown family): drop and count it. */
    Invalid,
    /** read failed with `error` (EAGAIN when nothing is there). Nothing was consumed. */
    Failed,
  };
  Status status;
  uint32_t size;
  int error;
};

namespace framing_detail {

inline uint32_t readBigEndian32(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) | uint32_t{bytes[3]};
}

inline void writeBigEndian32(uint8_t* bytes, uint32_t value) {
  bytes[0] = static_cast<uint8_t>(value >> 24);
  bytes[1] = static_cast<uint8_t>(value >> 16);
  bytes[2] = static_cast<uint8_t>(value >> 8);
  bytes[3] = static_cast<uint8_t>(value);
}

}  // namespace framing_detail

/**
 * Reads one datagram from `fd`; its packet lands at `into` (at most `room` bytes; a longer
 * datagram is truncated by the kernel, so callers pass room for a whole MTU-sized packet and
 * check `size`). Retries EINTR. Caller's thread.
 */
inline FrameRead readFrame(int fd, FdFraming framing, uint8_t* into, uint32_t room) {
  if (framing == FdFraming::None) {
    for (;;) {
      const ssize_t n = ::read(fd, into, room);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return {FrameRead::Status::Failed, 0, errno};
      if (n == 0) return {FrameRead::Status::Invalid, 0, 0};
      return {FrameRead::Status::Packet, static_cast<uint32_t>(n), 0};
    }
  }
  uint8_t header[kDarwinFamilyHeaderBytes];
  iovec parts[2] = {{header, sizeof header}, {into, room}};
  for (;;) {
    const ssize_t n = ::readv(fd, parts, 2);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return {FrameRead::Status::Failed, 0, errno};
    if (n <= static_cast<ssize_t>(kDarwinFamilyHeaderBytes)) return {FrameRead::Status::Invalid, 0, 0};
    const uint32_t family = framing_detail::readBigEndian32(header);
    if (family != kDarwinAfInet && family != kDarwinAfInet6) return {FrameRead::Status::Invalid, 0, 0};
    return {FrameRead::Status::Packet, static_cast<uint32_t>(n) - kDarwinFamilyHeaderBytes, 0};
  }
}

/**
 * Writes one IP packet (already validated: version nibble 4 or 6) as one datagram. Returns 0, or
 * the errno (EAGAIN, ENOBUFS, ENOSPC when the kernel cannot take it now). Retries EINTR. Caller's thread.
 */
inline int writeFrame(int fd, FdFraming framing, const uint8_t* packet, uint32_t size) {
  if (framing == FdFraming::None) {
    for (;;) {
      const ssize_t n = ::write(fd, packet, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno;
      return static_cast<uint32_t>(n) == size ? 0 : EMSGSIZE;
    }
  }
  uint8_t header[kDarwinFamilyHeaderBytes];
  framing_detail::writeBigEndian32(header, (packet[0] >> 4) == 6 ? kDarwinAfInet6 : kDarwinAfInet);
  // iovec's base is not const-qualified; writev does not write through it.
  iovec parts[2] = {{header, sizeof header}, {const_cast<uint8_t*>(packet), size}};
  for (;;) {
    const ssize_t n = ::writev(fd, parts, 2);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    return static_cast<uint32_t>(n) == size + kDarwinFamilyHeaderBytes ? 0 : EMSGSIZE;
  }
}

}  // namespace tunkit
