// The UDP socket's batch I/O (see udp_socket.hh).
#include "udp_socket.hh"

#include <netinet/udp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <tunkit/os_error.hh>

#include "gso_runs.hh"
#include "udp_address.hh"

// Older libc headers lack these; the kernel's values (include/uapi/linux/udp.h).
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace tunkit::wireguard {

namespace {

/** "EADDRINUSE binding UDP port 51820: Address already in use", as an OsError. */
OsError osError(int error, const char* syscall, const std::string& what) {
  return OsError(error, syscall, errnoName(error) + " " + what + ": " + std::strerror(error));
}

/** recvmmsg, retried on EINTR; 0 when nothing is waiting. */
int receiveMessages(int fd, mmsghdr* messages, unsigned count) {
  int n;
  do {
    n = recvmmsg(fd, messages, count, MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n >= 0) return n;
  if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
  throw osError(errno, "recvmmsg", "receiving UDP");
}

/** Per-thread scratch for one recvmmsg/sendmmsg: allocated once per thread, never per call. */
struct Scratch {
  std::vector<mmsghdr> messages = std::vector<mmsghdr>(kMaxBatch);
  std::vector<iovec> iov = std::vector<iovec>(kMaxBatch);
  std::vector<sockaddr_storage> names = std::vector<sockaddr_storage>(kMaxBatch);
  std::vector<uint32_t> datagramsIn = std::vector<uint32_t>(kMaxBatch);
  // Room for one int (UDP_GRO, received) and a timespec (SO_TIMESTAMPNS), or one uint16_t
  // (UDP_SEGMENT, sent), per message.
  struct alignas(cmsghdr) Control {
    char bytes[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(timespec))];
  };
  std::vector<Control> control = std::vector<Control>(kMaxBatch);
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

/** Message i of `s` receiving into `data` (`size` bytes), with room for the sender and, with `control`, a cmsg. */
void prepareReceive(Scratch& s, unsigned i, uint8_t* data, uint32_t size, bool control) {
  s.iov[i].iov_base = data;
  s.iov[i].iov_len = size;
  msghdr& h = s.messages[i].msg_hdr;
  std::memset(&h, 0, sizeof h);
  h.msg_iov = &s.iov[i];
  h.msg_iovlen = 1;
  h.msg_name = &s.names[i];
  h.msg_namelen = sizeof(sockaddr_storage);
  if (control) {
    h.msg_control = s.control[i].bytes;
    h.msg_controllen = sizeof s.control[i].bytes;
  }
}

/**
 * The kernel's receive time of a message (SO_TIMESTAMPNS, CLOCK_REALTIME) as CLOCK_MONOTONIC
 * nanoseconds, or 0 when it carries none. The two clocks' offset is read now: a wall-clock step
 * between receiving and reading would skew it, which a trace can live with.
 */
int64_t arrivalOf(msghdr& h) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec at;
      std::memcpy(&at, CMSG_DATA(c), sizeof at);
      timespec realtime;
      timespec monotonic;
      clock_gettime(CLOCK_REALTIME, &realtime);
      clock_gettime(CLOCK_MONOTONIC, &monotonic);
      const auto ns = [](const timespec& t) { return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec; };
      return ns(at) - (ns(realtime) - ns(monotonic));
    }
  }
  return 0;
}

/** The UDP_GRO segment size a received message carries, or 0 (one datagram). */
uint32_t groSegment(msghdr& h) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int value = 0;
      std::memcpy(&value, CMSG_DATA(c), sizeof value);
      if (value > 0) return static_cast<uint32_t>(value);
    }
  }
  return 0;
}

}  // namespace

UdpSocket::UdpSocket(const UdpSocketOptions& options) : options_(options), ipv6_(options.ipv6), gso_(options.gso) {
  const std::string where = "UDP port " + std::to_string(options.port);
  fd_ = socket(ipv6_ ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw osError(errno, "socket", "opening a UDP socket for " + where);
  try {
    if (ipv6_) {
      const int off = 0;
      setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    }
    // Root may exceed net.core.{r,w}mem_max; others get what the kernel allows.
    const int bytes = options.bufferBytes;
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    if (setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0)
      setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    if (options.gro) {
      // Probe, never assume: kernels before 5.0 refuse UDP_GRO (ENOPROTOOPT); then every message
      // is one datagram and recv takes the plain path.
      const int on = 1;
      gro_ = setsockopt(fd_, SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
      if (gro_) pending_.bytes.resize(kGroMessageBytes);
    }
    if (options.receiveThreads > 1) {
      // Before bind: the sockets of the receive threads join this one's group (sibling()).
      const int on = 1;
      if (setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
        throw osError(errno, "setsockopt", "sharing " + where + " between receive threads (SO_REUSEPORT)");
    }
    uint8_t local[kAddressBytes];
    makeAddress(options.address, options.addressLength, options.port, local);
    sockaddr_storage name;
    const socklen_t length = toSockaddr(local, ipv6_, &name);
    if (length == 0) throw osError(EAFNOSUPPORT, "bind", "binding " + where + " (an IPv6 address on an IPv4 socket)");
    if (bind(fd_, reinterpret_cast<sockaddr*>(&name), length) != 0) throw osError(errno, "bind", "binding " + where);
  } catch (...) {
    close();
    throw;
  }
}

UdpSocket::~UdpSocket() { close(); }

void UdpSocket::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void UdpSocket::setMark(uint32_t mark) {
  if (fd_ < 0) throw osError(EBADF, "setsockopt", "setting SO_MARK on a closed UDP socket");
  if (setsockopt(fd_, SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0)
    throw osError(errno, "setsockopt", "setting SO_MARK " + std::to_string(mark) + " on UDP port " + std::to_string(port()));
}

uint32_t UdpSocket::mark() const {
  uint32_t mark = 0;
  socklen_t length = sizeof mark;
  if (fd_ < 0 || getsockopt(fd_, SOL_SOCKET, SO_MARK, &mark, &length) != 0) return 0;
  return mark;
}

uint16_t UdpSocket::port() const {
  sockaddr_storage local;
  socklen_t length = sizeof local;
  if (fd_ < 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length) != 0) return 0;
  uint8_t address[kAddressBytes];
  fromSockaddr(local, address);
  return addressPort(address);
}

bool UdpSocket::canHold(const PacketBatchView& batch, uint32_t maxDatagram) const {
  if (gro_) return batch.spaceForNext() >= maxDatagram;
  const uint32_t stride = align8(uint64_t{batch.headroom} + maxDatagram + batch.tailroom);
  return batch.capacity > 0 && batch.byteCapacity / stride > 0;
}

std::shared_ptr<UdpSocket> UdpSocket::sibling() const {
  UdpSocketOptions options = options_;
  options.port = port();  // the port this one got (an ephemeral one too)
  return std::make_shared<UdpSocket>(options);
}

void UdpSocket::enableTimestamps() {
  const int on = 1;
  if (fd_ >= 0 && setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0)
    throw osError(errno, "setsockopt", "asking for receive timestamps (SO_TIMESTAMPNS)");
  timestamps_ = true;
}

uint32_t UdpSocket::recv(BatchFill& fill) {
  fill.view.length = 0;
  fill.view.bytesUsed = 0;
  fill.arrivedAt = 0;
  if (fd_ < 0) return 0;
  const uint32_t n = gro_ ? recvCoalesced(fill) : recvSingle(fill);
  if (timestamps_ && n > 0) fill.arrivedAt = arrivalOf(scratch().messages[0].msg_hdr);
  return n;
}

// One datagram per message, each in its own fixed-stride slot of the batch.
uint32_t UdpSocket::recvSingle(BatchFill& fill) {
  PacketBatchView& v = fill.view;
  const uint32_t stride = align8(uint64_t{v.headroom} + fill.maxDatagram + v.tailroom);
  const unsigned slots = std::min<unsigned>({v.capacity, v.byteCapacity / stride, kMaxBatch});
  Scratch& s = scratch();
  for (unsigned i = 0; i < slots; ++i) prepareReceive(s, i, v.buffer + size_t{i} * stride + v.headroom, fill.maxDatagram, timestamps_);
  const int n = receiveMessages(fd_, s.messages.data(), slots);
  for (int i = 0; i < n; ++i) {
    if (s.messages[i].msg_hdr.msg_flags & MSG_TRUNC) {
      ++fill.dropped;  // larger than maxDatagram: dropped, counted
      continue;
    }
    uint8_t* sender = fill.addresses + size_t{v.length} * kAddressBytes;
    fromSockaddr(s.names[i], sender);
    if (addressPort(sender) == 0) {
      ++fill.badSources;  // cannot be answered: dropped, counted (the slot is written over next)
      continue;
    }
    v.offsets[v.length] = static_cast<uint32_t>(i) * stride + v.headroom;
    v.lengths[v.length] = s.messages[i].msg_len;
    ++v.length;
  }
  v.bytesUsed = static_cast<uint32_t>(n) * stride;
  return static_cast<uint32_t>(n);
}

// With UDP_GRO: messages land in the batch itself, message k in region k from the cursor, and are
// split in place (gro_split.hh says why that never overlaps). A batch with less room than one
// region receives one message into pending_ and copies its datagrams out. What the last message
// brings beyond the batch waits in pending_, delivered first by the next call.
uint32_t UdpSocket::recvCoalesced(BatchFill& fill) {
  PacketBatchView& v = fill.view;
  if (!pending_.empty()) {
    deliverPending(fill, pending_);
    if (!pending_.empty()) return 0;  // the batch is full already
  }
  const GroReceivePlan plan = planGroReceive(v, kMaxBatch);
  if (plan.messages == 0) return 0;
  const uint32_t base = v.bytesUsed;
  Scratch& s = scratch();
  for (unsigned i = 0; i < plan.messages; ++i) {
    uint8_t* data = plan.intoPending ? pending_.bytes.data() : v.buffer + base + size_t{i} * plan.region + v.headroom;
    prepareReceive(s, i, data, kGroMessageBytes, true);
  }
  const int n = receiveMessages(fd_, s.messages.data(), plan.messages);
  for (int i = 0; i < n; ++i) {
    msghdr& h = s.messages[i].msg_hdr;
    const GroMessage m = groMessage(s.messages[i].msg_len, groSegment(h), (h.msg_flags & MSG_TRUNC) != 0, fill.dropped);
    if (!m.deliver) continue;
    uint8_t sender[kAddressBytes];
    fromSockaddr(s.names[i], sender);
    if (addressPort(sender) == 0) {
      // A sender that cannot be answered: every datagram of the message is dropped, counted.
      fill.badSources += m.size == 0 ? 1 : (m.size + m.segment - 1) / m.segment;
      continue;
    }
    if (plan.intoPending) {
      if (m.size == 0) {  // an empty datagram is still a packet (checked by count: reserve(0) does not refuse a full batch)
        if (v.length < v.capacity && v.reserve(0) != nullptr)
          std::memcpy(fill.addresses + size_t{v.length - 1} * kAddressBytes, sender, kAddressBytes);
        else
          ++fill.dropped;
        continue;
      }
      pending_.start = 0;
      pending_.end = m.size;
      pending_.segment = m.segment;
      std::memcpy(pending_.from, sender, kAddressBytes);
      deliverPending(fill, pending_);
      continue;
    }
    const bool last = i == n - 1;
    const uint32_t limit = last ? v.byteCapacity : base + (i + 1) * plan.region;
    // Only the last message can outgrow the batch (see planGroReceive); a kernel coalescing more
    // than 64 datagrams would have the excess of an earlier one dropped and counted, never overwritten.
    placeInBatch(fill, base + i * plan.region + v.headroom, m.size, m.segment, sender, limit, last ? &pending_ : nullptr);
  }
  return static_cast<uint32_t>(n);
}

SendResult UdpSocket::send(const uint8_t* buffer, const uint32_t* offsets, const uint32_t* lengths, uint32_t count,
                           const uint8_t* addresses) {
  SendResult result;
  if (fd_ < 0) return result;
  Scratch& s = scratch();
  uint32_t i = 0;
  // Datagrams before this index go one per message: a GSO message failed, and its datagrams are
  // retried alone to tell a path that cannot segment from one bad destination (see below).
  uint32_t singlesUntil = 0;
  while (i < count) {
    unsigned messages = 0;
    unsigned used = 0;  // iovecs
    // Up to kMaxBatch datagrams per sendmmsg; each message is one datagram, or a GSO run of
    // equal-size datagrams (the last may be shorter) to one destination, one iovec each.
    while (i < count && used < kMaxBatch) {
      const uint8_t* address = addresses + size_t{i} * kAddressBytes;
      sockaddr_storage& to = s.names[messages];
      // Port 0 cannot be sent to (the kernel answers EINVAL).
      const socklen_t toLength = addressPort(address) == 0 ? 0 : toSockaddr(address, ipv6_, &to);
      if (toLength == 0) {
        // Nowhere this socket can send to (port 0, an IPv6 peer of an IPv4-only socket, an
        // endpoint JS could not encode): refused for this datagram alone, before any system call,
        // and never sent to some other address made of its bytes.
        if (messages > 0) break;  // the messages before it go first, so counts stay in order
        ++result.badEndpoints;
        ++result.taken;
        ++i;
        continue;
      }
      const uint32_t maxRun = gso_.load(std::memory_order_relaxed) && i >= singlesUntil ? std::min<uint32_t>(count - i, kMaxBatch - used) : 1;
      const uint32_t run = gsoRunLength(lengths + i, address, maxRun);
      for (uint32_t k = 0; k < run; ++k) {
        s.iov[used + k].iov_base = const_cast<uint8_t*>(buffer) + offsets[i + k];
        s.iov[used + k].iov_len = lengths[i + k];
      }
      msghdr& h = s.messages[messages].msg_hdr;
      std::memset(&h, 0, sizeof h);
      h.msg_iov = &s.iov[used];
      h.msg_iovlen = run;
      h.msg_name = &to;
      h.msg_namelen = toLength;
      if (run > 1) {
        h.msg_control = s.control[messages].bytes;
        h.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
        cmsghdr* c = CMSG_FIRSTHDR(&h);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        const uint16_t segment = static_cast<uint16_t>(lengths[i]);
        std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
      }
      s.datagramsIn[messages] = run;
      ++messages;
      used += run;
      i += run;
    }
    if (messages == 0) continue;
    int sent;
    do {
      sent = sendmmsg(fd_, s.messages.data(), messages, MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) break;
      if (s.datagramsIn[0] > 1 && (errno == EIO || errno == EINVAL)) {
        // The first message was a GSO run. EIO: the path cannot segment (no checksum offload), as
        // wireguard-go reads it: single datagrams from now on. EINVAL: this destination refused it
        // (a segment over its path MTU, or an address the kernel will not take): GSO stays on for
        // the rest; either way the run's datagrams are retried one by one, so each one's own fate
        // is counted and one bad destination costs no other datagram anything.
        if (errno == EIO) gso_.store(false, std::memory_order_relaxed);
        singlesUntil = result.taken + s.datagramsIn[0];
        i = result.taken;
        continue;
      }
      // The first message failed (unreachable, refused by a firewall...): count it, go on.
      result.errors += s.datagramsIn[0];
      result.taken += s.datagramsIn[0];
      i = result.taken;
      continue;
    }
    for (int m = 0; m < sent; ++m) result.taken += s.datagramsIn[m];
    result.messages += static_cast<uint32_t>(sent);
    i = result.taken;
    // Fewer sent than asked: the socket buffer filled, or message `sent` failed (sendmmsg reports
    // an error only for the first message). The next call tells which: EAGAIN ends the send,
    // an error is counted for that message alone.
  }
  return result;
}

}  // namespace tunkit::wireguard
