// The UDP socket's batch I/O (see udp_socket.hh).
#include "udp_socket.hh"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <tunkit/os_error.hh>
#include <tunkit/os_error_js.hh>
#include <tunkit/packet_batch_view.hh>

#include "../exports.hh"

// Older libc headers lack these; the kernel's values (include/uapi/linux/udp.h).
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace tunkit::wireguard {

namespace {

constexpr unsigned kMaxBatch = 1024;
constexpr unsigned kAddressBytes = 20;  // [family 4|6, 0, port hi, port lo, 16 address bytes]
constexpr unsigned kMaxGsoSegments = 64;
// UDP GRO: the kernel stops coalescing at 64 KiB (GRO_LEGACY_MAX_SIZE) and at 64 datagrams
// (UDP_GRO_CNT_MAX). Both bound what one received message can expand into.
constexpr uint32_t kGroMessageBytes = 65536;
constexpr uint32_t kMaxGroSegments = 64;

using tunkit::align8;

[[noreturn]] void throwOs(Napi::Env env, int error, const char* syscall, const std::string& what) {
  throw osErrorToJs(env, errnoName(error) + " " + what + ": " + std::strerror(error), errnoName(error), syscall);
}

/** Our 20-byte address form → sockaddr (IPv4 as v4-mapped on a dual-stack socket). */
socklen_t toSockaddr(const uint8_t* a, bool ipv6Socket, sockaddr_storage* out) {
  std::memset(out, 0, sizeof *out);
  const uint16_t port = static_cast<uint16_t>((a[2] << 8) | a[3]);
  if (!ipv6Socket) {
    auto* in = reinterpret_cast<sockaddr_in*>(out);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    std::memcpy(&in->sin_addr, a + 4, 4);
    return sizeof *in;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(out);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  if (a[0] == 4) {
    in6->sin6_addr.s6_addr[10] = 0xff;
    in6->sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(in6->sin6_addr.s6_addr + 12, a + 4, 4);
  } else {
    std::memcpy(in6->sin6_addr.s6_addr, a + 4, 16);
  }
  return sizeof *in6;
}

/** sockaddr → our 20-byte form (v4-mapped IPv6 becomes IPv4). */
void fromSockaddr(const sockaddr_storage& s, uint8_t* a) {
  std::memset(a, 0, kAddressBytes);
  if (s.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(s);
    a[0] = 4;
    const uint16_t port = ntohs(in.sin_port);
    a[2] = static_cast<uint8_t>(port >> 8);
    a[3] = static_cast<uint8_t>(port);
    std::memcpy(a + 4, &in.sin_addr, 4);
    return;
  }
  const auto& in6 = reinterpret_cast<const sockaddr_in6&>(s);
  const uint16_t port = ntohs(in6.sin6_port);
  a[2] = static_cast<uint8_t>(port >> 8);
  a[3] = static_cast<uint8_t>(port);
  if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
    a[0] = 4;
    std::memcpy(a + 4, in6.sin6_addr.s6_addr + 12, 4);
  } else {
    a[0] = 6;
    std::memcpy(a + 4, in6.sin6_addr.s6_addr, 16);
  }
}

}  // namespace

Napi::Function UdpSocket::Define(Napi::Env env) {
  return DefineClass(env, "UdpSocket",
                     {InstanceMethod<&UdpSocket::Port>("port"), InstanceMethod<&UdpSocket::Recv>("recv"),
                      InstanceMethod<&UdpSocket::Send>("send"), InstanceMethod<&UdpSocket::Gro>("gro"), InstanceMethod<&UdpSocket::Poll>("poll"),
                      InstanceMethod<&UdpSocket::Close>("close")});
}

// JS thread. new UdpSocket({ address: Uint8Array(4|16), port, ipv6, bufferBytes, gso }, onReady)
UdpSocket::UdpSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpSocket>(info), env_(info.Env()) {
  const Napi::Object options = info[0].As<Napi::Object>();
  auto address = options.Get("address").As<Napi::Uint8Array>();
  const uint16_t port = static_cast<uint16_t>(options.Get("port").As<Napi::Number>().Uint32Value());
  ipv6_ = options.Get("ipv6").ToBoolean().Value();
  gso_ = options.Get("gso").ToBoolean().Value();
  const bool wantGro = options.Get("gro").ToBoolean().Value();
  const int bufferBytes = options.Get("bufferBytes").As<Napi::Number>().Int32Value();
  onReady_ = Napi::Persistent(info[1].As<Napi::Function>());
  const std::string where = std::string("UDP port ") + std::to_string(port);
  try {
    fd_ = socket(ipv6_ ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throwOs(info.Env(), errno, "socket", "opening a UDP socket for " + where);
    if (ipv6_) {
      const int off = 0;
      setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    }
    // Root may exceed net.core.{r,w}mem_max; others get what the kernel allows.
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &bufferBytes, sizeof bufferBytes) != 0)
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bufferBytes, sizeof bufferBytes);
    if (setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &bufferBytes, sizeof bufferBytes) != 0)
      setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &bufferBytes, sizeof bufferBytes);
    if (wantGro) {
      // Probe, never assume: kernels before 5.0 refuse UDP_GRO (ENOPROTOOPT); then every message
      // is one datagram and recv takes the plain path.
      const int on = 1;
      gro_ = setsockopt(fd_, SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
      if (gro_) pending_.bytes.resize(kGroMessageBytes);
    }
    uint8_t raw[kAddressBytes] = {};
    raw[0] = address.ByteLength() == 16 ? 6 : 4;
    raw[2] = static_cast<uint8_t>(port >> 8);
    raw[3] = static_cast<uint8_t>(port);
    std::memcpy(raw + 4, address.Data(), address.ByteLength() == 16 ? 16 : 4);
    sockaddr_storage local;
    const socklen_t length = toSockaddr(raw, ipv6_, &local);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&local), length) != 0) throwOs(info.Env(), errno, "bind", "binding " + where);
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env_, &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    if (uv_poll_init(loop, poll_, fd_) != 0) {
      delete poll_;
      poll_ = nullptr;
      throw Napi::Error::New(info.Env(), "uv_poll_init failed for " + where);
    }
    if (napi_add_async_cleanup_hook(env_, &UdpSocket::AsyncCleanup, this, &cleanupHook_) != napi_ok) cleanupHook_ = nullptr;
  } catch (...) {
    Napi::Error error = currentExceptionToJs(info.Env(), kAddonName);
    closeNow();
    throw error;
  }
}

// JS thread (also from the garbage collector's finaliser).
UdpSocket::~UdpSocket() { closeNow(); }

// JS thread.
void UdpSocket::AsyncCleanup(napi_async_cleanup_hook_handle, void* self) { static_cast<UdpSocket*>(self)->closeNow(); }

// JS thread. The handle is freed, and the environment's teardown released, once libuv has
// closed it: a worker's loop cannot end with a handle still open.
void UdpSocket::closeNow() {
  napi_async_cleanup_hook_handle hook = cleanupHook_;
  cleanupHook_ = nullptr;
  if (poll_ != nullptr) {
    uv_poll_stop(poll_);
    poll_->data = hook;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* handle) {
      auto* pending = static_cast<napi_async_cleanup_hook_handle>(handle->data);
      delete reinterpret_cast<uv_poll_t*>(handle);
      if (pending != nullptr) napi_remove_async_cleanup_hook(pending);
    });
    poll_ = nullptr;
  } else if (hook != nullptr) {
    napi_remove_async_cleanup_hook(hook);
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

// JS thread.
Napi::Value UdpSocket::Port(const Napi::CallbackInfo& info) {
  sockaddr_storage local;
  socklen_t length = sizeof local;
  if (fd_ < 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length) != 0) return Napi::Number::New(info.Env(), 0);
  uint8_t raw[kAddressBytes];
  fromSockaddr(local, raw);
  return Napi::Number::New(info.Env(), (raw[2] << 8) | raw[3]);
}

// JS thread. recv(buffer, offsets, lengths, meta, addresses, maxDatagram) → messages received. meta as in
// TunDevice.drain: [capacity, byteCapacity, headroom, tailroom, length, bytesUsed]; the batch is
// filled from empty, one fixed-stride slot per datagram. meta[6] += datagrams dropped as truncated;
// meta[7] = UDP messages received (one per datagram without GRO). With GRO on: RecvCoalesced.
Napi::Value UdpSocket::Recv(const Napi::CallbackInfo& info) {
  if (fd_ < 0) return Napi::Number::New(info.Env(), 0);
  if (gro_) return RecvCoalesced(info);
  auto buffer = info[0].As<Napi::Uint8Array>();
  auto offsets = info[1].As<Napi::Uint32Array>();
  auto lengths = info[2].As<Napi::Uint32Array>();
  auto meta = info[3].As<Napi::Uint32Array>();
  auto addresses = info[4].As<Napi::Uint8Array>();
  const uint32_t maxDatagram = info[5].As<Napi::Number>().Uint32Value();
  const uint32_t capacity = meta[0];
  const uint32_t byteCapacity = std::min<uint32_t>(meta[1], static_cast<uint32_t>(buffer.ByteLength()));
  const uint32_t headroom = meta[2];
  const uint32_t tailroom = meta[3];
  const uint32_t stride = align8(headroom + maxDatagram + tailroom);
  unsigned slots = std::min<unsigned>({capacity, byteCapacity / stride, kMaxBatch,
                                       static_cast<unsigned>(offsets.ElementLength()), static_cast<unsigned>(lengths.ElementLength()),
                                       static_cast<unsigned>(addresses.ByteLength() / kAddressBytes)});
  if (slots == 0) throw Napi::RangeError::New(info.Env(), "recv: the batch cannot hold one datagram of maxDatagram bytes");
  thread_local std::vector<mmsghdr> messages(kMaxBatch);
  thread_local std::vector<iovec> iov(kMaxBatch);
  thread_local std::vector<sockaddr_storage> from(kMaxBatch);
  for (unsigned i = 0; i < slots; ++i) {
    iov[i].iov_base = buffer.Data() + i * stride + headroom;
    iov[i].iov_len = maxDatagram;
    std::memset(&messages[i].msg_hdr, 0, sizeof(msghdr));
    messages[i].msg_hdr.msg_iov = &iov[i];
    messages[i].msg_hdr.msg_iovlen = 1;
    messages[i].msg_hdr.msg_name = &from[i];
    messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  }
  int n;
  do {
    n = recvmmsg(fd_, messages.data(), slots, MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) n = 0;
    else throwOs(info.Env(), errno, "recvmmsg", "receiving UDP");
  }
  uint32_t kept = 0;
  for (int i = 0; i < n; ++i) {
    if (messages[i].msg_hdr.msg_flags & MSG_TRUNC) {
      meta[6] = meta[6] + 1;  // larger than maxDatagram: dropped, counted
      continue;
    }
    // Slots are filled in order; a dropped one leaves a gap, which the offsets table allows.
    offsets[kept] = static_cast<uint32_t>(i) * stride + headroom;
    lengths[kept] = messages[i].msg_len;
    fromSockaddr(from[i], addresses.Data() + kept * kAddressBytes);
    ++kept;
  }
  meta[4] = kept;
  meta[5] = static_cast<uint32_t>(n) * stride;
  meta[7] = static_cast<uint32_t>(n);
  return Napi::Number::New(info.Env(), n);
}

namespace {

/** The batch being filled by RecvCoalesced, with the sender of packet i at addresses + 20 * i. */
struct Filling {
  tunkit::PacketBatchView view;
  uint8_t* addresses = nullptr;
  uint32_t maxDatagram = 0;
  uint32_t dropped = 0;
};

/**
 * Appends by copy the datagrams of a message held outside the batch (`size` bytes at `data`, of
 * `segment` bytes each, the last may be shorter) until the batch is full; returns the bytes taken.
 * Datagrams over maxDatagram are dropped and counted. JS thread.
 */
uint32_t appendCopies(Filling& f, const uint8_t* data, uint32_t size, uint32_t segment, const uint8_t* from) {
  uint32_t taken = 0;
  while (taken < size) {
    const uint32_t length = std::min(segment, size - taken);
    if (length > f.maxDatagram) {
      ++f.dropped;
    } else {
      if (!f.view.append(data + taken, length)) break;
      std::memcpy(f.addresses + (f.view.length - 1) * kAddressBytes, from, kAddressBytes);
    }
    taken += length;
  }
  return taken;
}

/**
 * Lays out, by the PacketBatch rule, a message received into the batch itself (`size` bytes at
 * buffer offset `at`, which is at or after the cursor's packet start): one memmove down to the
 * cursor, then its datagrams are spread apart from the last one backwards, each moving up or
 * staying (when headroom and tailroom are 0 and the size is a multiple of 8, as WireGuard's are,
 * nothing moves), so no move overwrites a datagram not yet moved. Stops at the first datagram that
 * does not fit the batch or would end past `limit`; the rest goes to `keep` (copied out before any
 * spreading) or, without one, is dropped and counted. JS thread.
 */
void placeInBatch(Filling& f, uint32_t at, uint32_t size, uint32_t segment, const uint8_t* from, uint32_t limit,
                  PendingDatagrams* keep) {
  tunkit::PacketBatchView& v = f.view;
  if (segment > f.maxDatagram) {
    // All full-size datagrams are too large; only a shorter last one may be kept.
    const uint32_t rest = size % segment;
    f.dropped += size / segment;
    if (rest == 0 || rest > f.maxDatagram) {
      if (rest != 0) ++f.dropped;
      return;
    }
    at += size - rest;
    size = rest;
    segment = rest;
  }
  const uint32_t start = v.bytesUsed + v.headroom;
  if (start != at) std::memmove(v.buffer + start, v.buffer + at, size);
  const uint32_t first = v.length;
  uint32_t taken = 0;
  do {  // once even for an empty datagram
    const uint32_t length = std::min(segment, size - taken);
    if (length > v.spaceForNext() || align8(uint64_t{v.bytesUsed} + v.headroom + length + v.tailroom) > limit) break;
    v.reserve(length);
    std::memcpy(f.addresses + (v.length - 1) * kAddressBytes, from, kAddressBytes);
    taken += length;
  } while (taken < size);
  if (taken < size) {
    if (keep != nullptr) {
      std::memcpy(keep->bytes.data(), v.buffer + start + taken, size - taken);
      keep->start = 0;
      keep->end = size - taken;
      keep->segment = segment;
      std::memcpy(keep->from, from, kAddressBytes);
    } else {
      f.dropped += (size - taken + segment - 1) / segment;
    }
  }
  for (uint32_t i = v.length; i-- > first;) {
    const uint32_t source = start + (i - first) * segment;
    if (v.offsets[i] != source) std::memmove(v.buffer + v.offsets[i], v.buffer + source, v.lengths[i]);
  }
}

}  // namespace

// JS thread. recv with UDP_GRO on: same arguments and results as Recv. Each received message may
// carry several datagrams of gso_size bytes (the UDP_GRO control message; the last may be shorter)
// from one sender: each becomes its own packet of the batch, laid out by the PacketBatch rule
// (packet i at bytesUsed + headroom, then bytesUsed = align8(start + length + tailroom)).
//
// Where the kernel writes: message k lands in the batch itself, in region k of `region` bytes from
// the cursor. A region holds a whole 64 KiB message and is also the most its at most 64 datagrams
// take once laid out (each with headroom, tailroom and alignment), so laying message k out from the
// cursor (always at or before region k) never reaches region k + 1: no scratch copy, no allocation.
//
// How many messages per call: as many regions as the bytes allow, but only so many that all but the
// last surely fit the batch's packet count (64 datagrams each). The last message's datagrams that do
// not fit are kept in pending_ (one message, 64 KiB allocated once) and delivered first by the next
// call, so a super-datagram meeting a nearly full batch loses nothing. Sizing the receive so that
// everything always fits instead would take one message per syscall into a 100-packet batch. A batch
// with less room than one region receives one message into pending_ and copies its datagrams out.
Napi::Value UdpSocket::RecvCoalesced(const Napi::CallbackInfo& info) {
  auto buffer = info[0].As<Napi::Uint8Array>();
  auto offsets = info[1].As<Napi::Uint32Array>();
  auto lengths = info[2].As<Napi::Uint32Array>();
  auto meta = info[3].As<Napi::Uint32Array>();
  auto addresses = info[4].As<Napi::Uint8Array>();
  Filling f;
  f.maxDatagram = info[5].As<Napi::Number>().Uint32Value();
  f.addresses = addresses.Data();
  tunkit::PacketBatchView& v = f.view;
  v.buffer = buffer.Data();
  v.offsets = offsets.Data();
  v.lengths = lengths.Data();
  v.capacity = std::min<uint32_t>({meta[0], static_cast<uint32_t>(offsets.ElementLength()),
                                   static_cast<uint32_t>(lengths.ElementLength()),
                                   static_cast<uint32_t>(addresses.ByteLength() / kAddressBytes)});
  v.byteCapacity = std::min<uint32_t>(meta[1], static_cast<uint32_t>(buffer.ByteLength()));
  v.headroom = meta[2];
  v.tailroom = meta[3];
  if (v.spaceForNext() < f.maxDatagram)
    throw Napi::RangeError::New(info.Env(), "recv: the batch cannot hold one datagram of maxDatagram bytes");
  const auto finish = [&](int messagesReceived) {
    meta[4] = v.length;
    meta[5] = v.bytesUsed;
    meta[6] = meta[6] + f.dropped;
    meta[7] = static_cast<uint32_t>(messagesReceived);
    return Napi::Number::New(info.Env(), messagesReceived);
  };
  const auto deliverPending = [&] {
    PendingDatagrams& p = pending_;
    p.start += appendCopies(f, p.bytes.data() + p.start, p.end - p.start, p.segment, p.from);
    if (p.start == p.end) p.start = p.end = 0;
  };
  if (pending_.end > pending_.start) {
    deliverPending();
    if (pending_.end > pending_.start) return finish(0);  // the batch is full already
  }

  const uint32_t region = align8(uint64_t{kGroMessageBytes} + kMaxGroSegments * (uint64_t{v.headroom} + v.tailroom + 8));
  const uint32_t base = v.bytesUsed;
  const uint32_t room = v.byteCapacity - base;
  const uint32_t packetsLeft = v.capacity - v.length;
  const bool intoPending = room < region;
  const unsigned count = intoPending ? 1u
                                     : std::min<unsigned>({room / region, 1 + (packetsLeft - 1) / kMaxGroSegments, kMaxBatch});
  thread_local std::vector<mmsghdr> messages(kMaxBatch);
  thread_local std::vector<iovec> iov(kMaxBatch);
  thread_local std::vector<sockaddr_storage> from(kMaxBatch);
  alignas(cmsghdr) thread_local static char control[kMaxBatch][CMSG_SPACE(sizeof(int))];
  for (unsigned i = 0; i < count; ++i) {
    iov[i].iov_base = intoPending ? pending_.bytes.data() : buffer.Data() + base + i * region + v.headroom;
    iov[i].iov_len = kGroMessageBytes;
    msghdr& h = messages[i].msg_hdr;
    std::memset(&h, 0, sizeof h);
    h.msg_iov = &iov[i];
    h.msg_iovlen = 1;
    h.msg_name = &from[i];
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_control = control[i];
    h.msg_controllen = sizeof control[i];
  }
  int n;
  do {
    n = recvmmsg(fd_, messages.data(), count, MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) n = 0;
    else throwOs(info.Env(), errno, "recvmmsg", "receiving UDP");
  }
  for (int i = 0; i < n; ++i) {
    msghdr& h = messages[i].msg_hdr;
    uint32_t size = messages[i].msg_len;
    uint32_t segment = 0;  // no control message: one datagram
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int value = 0;
        std::memcpy(&value, CMSG_DATA(c), sizeof value);
        if (value > 0) segment = static_cast<uint32_t>(value);
      }
    }
    if (h.msg_flags & MSG_TRUNC) {
      // Longer than 64 KiB (a kernel whose GRO limit was raised): the whole datagrams received are
      // kept, the rest is lost and counted once.
      ++f.dropped;
      if (segment == 0 || size < segment) continue;
      size -= size % segment;
    }
    if (segment == 0 || segment > size) segment = std::max<uint32_t>(size, 1);
    uint8_t sender[kAddressBytes];
    fromSockaddr(from[i], sender);
    if (intoPending) {
      pending_.start = 0;
      pending_.end = size;
      pending_.segment = segment;
      std::memcpy(pending_.from, sender, kAddressBytes);
      if (size == 0) {  // an empty datagram is still a packet
        if (v.reserve(0) != nullptr) std::memcpy(f.addresses + (v.length - 1) * kAddressBytes, sender, kAddressBytes);
        continue;
      }
      deliverPending();
      continue;
    }
    const bool last = i == n - 1;
    const uint32_t limit = last ? v.byteCapacity : base + (i + 1) * region;
    // Only the last message can outgrow the batch (see above); a kernel coalescing more than 64
    // datagrams would have the excess of an earlier one dropped and counted, never overwritten.
    placeInBatch(f, base + i * region + v.headroom, size, segment, sender, limit, last ? &pending_ : nullptr);
  }
  return finish(n);
}

// JS thread.
Napi::Value UdpSocket::Gro(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), gro_); }

// JS thread. send(buffer, offsets, lengths, start, end, addresses) → [taken, errors, messages]: datagrams taken (sent,
// or refused by the OS and counted in errors) before the socket buffer filled. Addresses hold 20
// bytes per datagram, datagram `start` first. Runs of equal-size datagrams to one destination go
// out as one UDP GSO message (UDP_SEGMENT); the last of a run may be shorter.
Napi::Value UdpSocket::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto result = Napi::Array::New(env, 3);
  if (fd_ < 0) throw Napi::Error::New(env, "the UDP socket is closed");
  auto buffer = info[0].As<Napi::Uint8Array>();
  auto offsets = info[1].As<Napi::Uint32Array>();
  auto lengths = info[2].As<Napi::Uint32Array>();
  const uint32_t start = info[3].As<Napi::Number>().Uint32Value();
  const uint32_t end = info[4].As<Napi::Number>().Uint32Value();
  auto addresses = info[5].As<Napi::Uint8Array>();
  if (end > offsets.ElementLength() || end > lengths.ElementLength() || (end - start) * kAddressBytes > addresses.ByteLength())
    throw Napi::RangeError::New(env, "send: datagram range beyond the batch");
  thread_local std::vector<mmsghdr> messages(kMaxBatch);
  thread_local std::vector<iovec> iov(kMaxBatch);
  thread_local std::vector<sockaddr_storage> to(kMaxBatch);
  thread_local std::vector<uint32_t> datagramsIn(kMaxBatch);
  alignas(cmsghdr) thread_local static char control[kMaxBatch][CMSG_SPACE(sizeof(uint16_t))];
  uint32_t taken = 0;
  uint32_t errors = 0;
  uint32_t sentMessages = 0;
  uint32_t i = start;
  while (i < end) {
    unsigned count = 0;
    unsigned used = 0;  // iovecs
    // Up to kMaxBatch datagrams per sendmmsg; each message is one datagram, or a GSO run of
    // equal-size datagrams (the last may be shorter) to one destination, one iovec each.
    while (i < end && used < kMaxBatch) {
      const uint32_t size = lengths[i];
      const uint8_t* address = addresses.Data() + (i - start) * kAddressBytes;
      uint32_t run = 1;
      while (gso_ && i + run < end && used + run < kMaxBatch && run < kMaxGsoSegments && lengths[i + run - 1] == size &&
             lengths[i + run] <= size && (run + 1) * size <= 65000 &&
             std::memcmp(address, addresses.Data() + (i + run - start) * kAddressBytes, kAddressBytes) == 0) {
        ++run;
      }
      for (uint32_t k = 0; k < run; ++k) {
        const uint64_t offset = offsets[i + k];
        if (offset + lengths[i + k] > buffer.ByteLength()) throw Napi::RangeError::New(env, "send: datagram outside the batch buffer");
        iov[used + k].iov_base = buffer.Data() + offset;
        iov[used + k].iov_len = lengths[i + k];
      }
      msghdr& h = messages[count].msg_hdr;
      std::memset(&h, 0, sizeof h);
      h.msg_iov = &iov[used];
      h.msg_iovlen = run;
      h.msg_name = &to[count];
      h.msg_namelen = toSockaddr(address, ipv6_, &to[count]);
      if (run > 1) {
        h.msg_control = control[count];
        h.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
        cmsghdr* c = CMSG_FIRSTHDR(&h);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        const uint16_t segment = static_cast<uint16_t>(size);
        std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
      }
      datagramsIn[count] = run;
      ++count;
      used += run;
      i += run;
    }
    int sent;
    do {
      sent = sendmmsg(fd_, messages.data(), count, MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) break;
      if ((errno == EIO || errno == EINVAL) && gso_) {
        gso_ = false;  // no GSO on this path (e.g. no checksum offload): single datagrams from now on
        i = start + taken;
        continue;
      }
      // The first message failed (unreachable, refused by a firewall...): count it, go on.
      errors += datagramsIn[0];
      taken += datagramsIn[0];
      i = start + taken;
      continue;
    }
    for (int m = 0; m < sent; ++m) taken += datagramsIn[m];
    sentMessages += static_cast<uint32_t>(sent);
    i = start + taken;
    if (static_cast<unsigned>(sent) < count) break;  // the socket buffer is full
  }
  result.Set(0u, taken);
  result.Set(1u, errors);
  result.Set(2u, sentMessages);
  return result;
}

// JS thread. poll(readable, writable): arm the libuv poll for these events; onReady fires once per arming.
Napi::Value UdpSocket::Poll(const Napi::CallbackInfo& info) {
  if (poll_ == nullptr) return info.Env().Undefined();
  int events = 0;
  if (info[0].ToBoolean().Value()) events |= UV_READABLE;
  if (info[1].ToBoolean().Value()) events |= UV_WRITABLE;
  pollEvents_ = events;
  if (events == 0) uv_poll_stop(poll_);
  else uv_poll_start(poll_, events, &UdpSocket::OnPoll);
  return info.Env().Undefined();
}

// JS thread (the libuv loop). An exception must not leave a libuv callback (it would abort):
// a throwing onReady is reported as uncaught; while the environment is torn down, nothing runs.
void UdpSocket::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<UdpSocket*>(handle->data);
  if (self == nullptr || self->poll_ != handle) return;
  // One-shot: JS re-arms what it still waits for.
  const bool readable = status < 0 || (events & UV_READABLE) != 0;
  const bool writable = status < 0 || (events & UV_WRITABLE) != 0;
  self->pollEvents_ &= ~((readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0));
  if (self->pollEvents_ == 0) uv_poll_stop(self->poll_);
  else uv_poll_start(self->poll_, self->pollEvents_, &UdpSocket::OnPoll);
  try {
    Napi::HandleScope scope(self->env_);
    try {
      self->onReady_.MakeCallback(self->Value(), {Napi::Boolean::New(self->env_, readable), Napi::Boolean::New(self->env_, writable)});
    } catch (const Napi::Error& error) {
      napi_fatal_exception(self->env_, error.Value());  // as an uncaught exception, not a crash inside libuv
    }
  } catch (...) {
    // No handle scope or no JS any more: the environment is going away.
  }
}

// JS thread.
Napi::Value UdpSocket::Close(const Napi::CallbackInfo& info) {
  closeNow();
  onReady_.Reset();
  return info.Env().Undefined();
}

void registerUdpExports(Napi::Env env, Napi::Object exports) { exports.Set("UdpSocket", UdpSocket::Define(env)); }

}  // namespace tunkit::wireguard
