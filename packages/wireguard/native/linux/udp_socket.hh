// UdpSocket: a non-blocking UDP socket that moves whole batches: recv() fills a PacketBatch with
// one recvmmsg (with UDP GRO, a message may carry several datagrams, split back into packets of
// the batch by gro_split), send() sends a batch with sendmmsg (runs of equal-size datagrams to one
// destination as one UDP GSO message, grouped by gso_runs). Datagrams land straight in the batch's
// memory: no copy through a ring. Plain C++ (no N-API): failed system calls throw
// tunkit::OsError; udp_socket_object.cc is the JS face and owns readiness. send() may run on
// several threads at once (the JS thread, TUN queue threads through the UDP port); recv() on one
// thread at a time (the JS thread, or the receive thread once there is one).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <tunkit/packet_batch_view.hh>

#include "gro_split.hh"

namespace tunkit::wireguard {

/** The options of a socket, converted from JS once (the baton). */
struct UdpSocketOptions {
  uint8_t address[16] = {};
  uint32_t addressLength = 16;  // 4 or 16
  uint16_t port = 0;            // 0: an ephemeral port
  bool ipv6 = true;             // a dual-stack IPv6 socket, else IPv4 only
  int bufferBytes = 8 << 20;    // SO_RCVBUF and SO_SNDBUF (forced past the sysctl limits where allowed)
  bool gso = true;              // send runs as UDP GSO messages (turned off by itself where refused)
  bool gro = true;              // ask for UDP GRO (probed: kernels before 5.0 refuse it)
  /**
   * Receive threads the socket will have once its packet port is handed out (1..16). Above 1 the
   * socket joins an SO_REUSEPORT group, and each further thread reads a socket of its own bound
   * to the same port: the kernel spreads senders over them by address, one sender always to one.
   */
  uint32_t receiveThreads = 1;
};

struct SendResult {
  uint32_t taken = 0;         // datagrams sent, or refused and counted in errors or badEndpoints
  uint32_t errors = 0;        // datagrams the OS refused (unreachable, a firewall...)
  uint32_t badEndpoints = 0;  // datagrams never sent: port 0, an IPv6 address from an IPv4 socket, family 0
  uint32_t messages = 0;      // UDP messages sent (a GSO run is one)
};

/** Messages per recvmmsg/sendmmsg: bounds the per-call arrays (kMaxBatch × a few hundred bytes, static). */
inline constexpr uint32_t kMaxBatch = 1024;

class UdpSocket {
 public:
  /** Opens and binds the socket. Throws OsError ("socket", "bind") naming the port; leaks nothing. */
  explicit UdpSocket(const UdpSocketOptions& options);
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  /**
   * Another socket bound to the same address and port in the same SO_REUSEPORT group (this one
   * was opened with receiveThreads above 1), to receive only. Throws OsError.
   */
  std::shared_ptr<UdpSocket> sibling() const;

  /** The fd, for readiness polling; -1 once closed. */
  int fd() const { return fd_; }
  /** The bound port (0 once closed). */
  uint16_t port() const;
  /** Receive threads it was opened for (UdpSocketOptions::receiveThreads). */
  uint32_t receiveThreads() const { return options_.receiveThreads; }
  /** Whether the kernel accepted UDP_GRO: received messages may then carry several datagrams. */
  bool gro() const { return gro_; }
  /**
   * Asks the kernel for each message's receive time (SO_TIMESTAMPNS): recv() then sets
   * BatchFill::arrivedAt. Before the receiving thread starts. Throws OsError when refused.
   */
  void enableTimestamps();
  /** Closes the fd. Idempotent. */
  void close();
  /**
   * Marks every packet the socket sends with `mark` (SO_MARK; 0 clears it), for policy routing by
   * mark as wg-quick's FwMark. Needs CAP_NET_ADMIN: throws OsError (EPERM) without it.
   */
  void setMark(uint32_t mark);
  /** The socket's SO_MARK, read back from the kernel (0 once closed). */
  uint32_t mark() const;

  /** Whether recv() can put at least one datagram of `maxDatagram` bytes into an empty `batch`. */
  bool canHold(const PacketBatchView& batch, uint32_t maxDatagram) const;

  /**
   * Fills `fill.view`, from empty, with what one recvmmsg brings (datagrams a previous call could
   * not fit come first); the sender of packet i goes to fill.addresses + kAddressBytes * i. Datagrams over
   * fill.maxDatagram are dropped and counted in fill.dropped. Returns the messages received (0
   * when none was waiting). Without GRO, packets take fixed-stride slots (a dropped one leaves a
   * gap, which the offsets table allows). Precondition: canHold(fill.view, fill.maxDatagram).
   */
  uint32_t recv(BatchFill& fill);

  /**
   * Sends `count` datagrams (datagram i: lengths[i] bytes at buffer + offsets[i], to the
   * address at addresses + kAddressBytes * i) until the socket buffer is full. Precondition: every datagram
   * lies inside the buffer. Any thread.
   */
  SendResult send(const uint8_t* buffer, const uint32_t* offsets, const uint32_t* lengths, uint32_t count,
                  const uint8_t* addresses);

 private:
  uint32_t recvSingle(BatchFill& fill);
  uint32_t recvCoalesced(BatchFill& fill);

  UdpSocketOptions options_;
  int fd_ = -1;
  bool ipv6_ = false;
  std::atomic<bool> gso_{true};  // off for good, by whichever sending thread sees it refused
  bool gro_ = false;
  bool timestamps_ = false;
  PendingDatagrams pending_;
};

}  // namespace tunkit::wireguard
