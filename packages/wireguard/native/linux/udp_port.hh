// UdpPort: the UDP socket's packet port (tun-core's packet_port.hh). Another addon's threads (or
// this addon's data plane on a TUN queue thread) send datagrams through it (`write`: sendmmsg on
// the calling thread, with GSO runs), and a processor attached through it is offered every batch
// the receive thread (udp_receive_thread.hh) reads. Refcounted like tun-linux's DevicePort: the
// socket object holds one reference, each holder of the port another; once closed, writes drop
// (counted) and the struct stays valid until the last release. Plain C++, no N-API.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <tunkit/packet_port.hh>

#include "udp_socket.hh"

namespace tunkit::wireguard {

/** Counters of what went through the port and the receive thread, read by the bind's stats(). */
struct UdpPortCounters {
  std::atomic<uint64_t> txDatagrams{0};  // sent through the port
  std::atomic<uint64_t> txBytes{0};
  std::atomic<uint64_t> txMessages{0};   // sendmmsg messages (a GSO run is one)
  std::atomic<uint64_t> txErrors{0};     // refused by the OS (unreachable, firewall)
  std::atomic<uint64_t> txDropped{0};    // the socket buffer stayed full past the wait, or the port was closed
  std::atomic<uint64_t> txBadEndpoints{0};  // never sent: an address the socket cannot send to
  std::atomic<uint64_t> rxDatagrams{0};  // read by the receive thread
  std::atomic<uint64_t> rxBytes{0};
  std::atomic<uint64_t> rxMessages{0};
  std::atomic<uint64_t> rxDropped{0};    // over maxDatagram, or no room for JS (the punt channel full)
  std::atomic<uint64_t> rxBadSources{0}; // from a sender that cannot be answered (source port 0)
};

class UdpPort {
 public:
  /** With one reference, the socket object's. JS thread. */
  static UdpPort* create(std::shared_ptr<UdpSocket> socket);

  const tunkit_device_port* port() const { return &port_; }
  ProcessorSlot& processors() { return processors_; }
  UdpPortCounters& counters() { return counters_; }

  /**
   * Sends the datagrams to their addresses; returns how many were taken (sent, or refused by the
   * OS and counted). A full socket buffer is waited for, at most kSendWait in all, then what is
   * left is dropped and counted: a native thread has no promise to wait on. Any thread.
   */
  uint32_t write(const tunkit_packets& packets);

  /** Detaches the processor; later writes drop; returns after the last write in progress. JS thread. */
  void close();

  void retain() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release();

 private:
  explicit UdpPort(std::shared_ptr<UdpSocket> socket);

  tunkit_device_port port_{};
  const std::shared_ptr<UdpSocket> socket_;
  ProcessorSlot processors_;
  UdpPortCounters counters_;
  WriterPreferringLock lock_;  // write() holds it shared, close() exclusive
  bool closed_ = false;        // guarded by lock_
  std::atomic<uint32_t> refs_{1};
};

}  // namespace tunkit::wireguard
