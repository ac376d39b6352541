// DataPlane: WireGuard's transport data moved off the JS thread. Attached to a TUN's packet port
// and a UDP socket's (tun-core's packet_port.hh), it seals on the TUN queue threads what they read
// and sends it through the UDP port, and opens on the UDP receive thread what it reads and writes
// it to the TUN port, with the keys, counters, windows and routes JS handed to its SessionTable.
// What it cannot finish it leaves to JS, which then handles it as it does without a data plane:
// on the TUN side a packet without a route, an endpoint or a usable keypair (JS drops it, or
// stages it and starts a handshake); on the UDP side handshake messages and transport data on a
// responder's `next` keypair (JS opens it and confirms the keypair). Everything else that fails
// (a bad index, tag, counter, inner packet or source) it drops and counts, as the Engine would.
// Plain C++, no N-API: data_plane_object.cc is its JS face.
#pragma once

#include <atomic>
#include <cstdint>

#include <tunkit/packet_port.hh>

#include "codel.hh"
#include "session_table.hh"
#include "trace_ring.hh"
#include "transport.hh"

namespace tunkit::wireguard {

class DataPlane {
 public:
  /** Uses `tun` and `udp` (retained) with `table` and `aead`, which must outlive it. JS thread. */
  DataPlane(const tunkit_device_port* tun, const tunkit_device_port* udp, SessionTable& table, Aead& aead);
  ~DataPlane();
  DataPlane(const DataPlane&) = delete;
  DataPlane& operator=(const DataPlane&) = delete;

  /** Attaches to both ports: from now on their threads call in. JS thread. */
  void attach();
  /** Detaches from both; returns once no thread is inside. Idempotent. JS thread. */
  void detach();

  /** Records each batch into `ring` from now on (nullptr: stops); the ring must outlive the recording. JS thread. */
  void trace(TraceRing* ring) { trace_.store(ring, std::memory_order_release); }

  /** TUN queue thread `queue`: seals what it can of `packets` and sends it; marks what it took. */
  void fromTun(uint32_t queue, tunkit_packets& packets, uint8_t* taken);
  /** UDP receive thread: opens what it can of `datagrams`, writes the packets to the TUN; marks what it took. */
  void fromUdp(uint32_t thread, tunkit_packets& datagrams, uint8_t* taken);

 private:
  PortRef tun_;
  PortRef udp_;
  SessionTable& table_;
  Aead& aead_;
  tunkit_processor tunProcessor_{};
  tunkit_processor udpProcessor_{};
  bool attached_ = false;
  std::atomic<TraceRing*> trace_{nullptr};
  /** Per UDP receive thread (by its index): the standing-queue control of its socket queue. */
  static constexpr uint32_t kReceiveThreads = 16;  // as many as a UDP socket may have (udp_socket.hh)
  CoDel codel_[kReceiveThreads];
};

}  // namespace tunkit::wireguard
