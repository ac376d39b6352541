// UdpReceiveThread: the native thread that reads the UDP socket once a packet processor may want
// its datagrams (the socket's port was handed out). It sleeps in poll() on the socket and an
// eventfd, reads whole batches with recvmmsg (UDP GRO split as on the JS path), offers each batch
// to the attached processor, and passes what the processor did not take (or everything, with none
// attached) to JS through a bounded channel, each datagram followed by its sender's address. JS
// is woken once per batch. Named tunkit-udp-rx; started and joined by its owner (the socket object).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include <tunkit/batch_channel.hh>

#include "udp_port.hh"
#include "udp_socket.hh"

namespace tunkit::wireguard {

class UdpReceiveThread {
 public:
  /**
   * Reads `socket` for `port`'s processor; hands the rest to `toJs` (slots of at least maxDatagram
   * + kAddressBytes). Throws OsError when the OS refuses the eventfd or the thread. JS thread.
   */
  UdpReceiveThread(std::shared_ptr<UdpSocket> socket, UdpPort& port, BatchChannel& toJs, uint32_t maxDatagram, uint32_t index);
  ~UdpReceiveThread();
  UdpReceiveThread(const UdpReceiveThread&) = delete;
  UdpReceiveThread& operator=(const UdpReceiveThread&) = delete;

  /** Wakes the thread and joins it. Idempotent. JS thread. */
  void stop();

 private:
  void run();
  void loop();
  /** One recvmmsg, offered and handed on; false when nothing was waiting. Receive thread. */
  bool receiveBatch();

  const std::shared_ptr<UdpSocket> socket_;
  UdpPort& port_;
  BatchChannel& toJs_;
  const uint32_t maxDatagram_;
  const uint32_t index_;  // this thread's number: its lane of toJs_, the processor's `thread`
  const int eventFd_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  int64_t wokeAt_ = 0;  // CLOCK_MONOTONIC ns when poll() last returned (readyAt when the kernel gave no timestamp)
  // Receive-thread state: the batch recvmmsg fills (reshaped when the processor's room changes).
  struct Batch {
    std::unique_ptr<uint8_t[]> bytes;
    std::unique_ptr<uint32_t[]> offsets;
    std::unique_ptr<uint32_t[]> lengths;
    std::unique_ptr<uint8_t[]> addresses;
    std::unique_ptr<uint8_t[]> taken;
    uint32_t headroom = UINT32_MAX;
    uint32_t tailroom = UINT32_MAX;
    uint32_t byteCapacity = 0;
  } batch_;
};

}  // namespace tunkit::wireguard
