// QueueThread: the native thread that owns one TUN queue fd. It reads packets from the fd
// straight into its lane of the shared inbound BatchChannel, and writes the packets JS queued on
// its outbound PacketRing. It sleeps in poll() on the fd and an eventfd; JS and the channel's
// space hook wake it through the eventfd, once per batch, never per packet.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>

#include <memory>

#include <tunkit/batch_channel.hh>
#include <tunkit/packet_ring.hh>

#include "offload.hh"

#include "tunkit_linux.hh"

namespace tunkit::linux_tun {

class QueueThread {
 public:
  /** `wakeJs` runs on this queue thread when JS asked to hear about outbound space. */
  QueueThread(unsigned index, int fd, BatchChannel& inbound, QueueCounters& counters, uint32_t outboundSlots,
              uint32_t slotSize, OffloadState offload, std::function<void()> wakeJs);
  ~QueueThread();

  QueueThread(const QueueThread&) = delete;
  QueueThread& operator=(const QueueThread&) = delete;

  /** Starts the thread. JS thread. */
  void start();

  /** Queues one packet for the device; false when the outbound ring is full. JS thread. */
  bool send(const uint8_t* data, uint32_t size);

  /** Wakes the thread if it sleeps, after a batch of send() calls. JS thread. */
  void flush();

  /** True when send() can take a packet now; if not, asks the thread to call wakeJs once it can. JS thread. */
  bool hasSpaceOrNotify();

  /** Wakes the thread from its space hook (inbound channel freed space). Consumer (JS) thread. */
  void wake();

  /** Stops and joins the thread; returns the packets still queued (discarded). JS thread. Idempotent. */
  uint64_t stop();

 private:
  void run();
  bool readBatch();
  bool readFrames();
  void writeBatch();
  void writeFrames();
  void afterWrite(bool freed);

  const unsigned index_;
  const int fd_;
  const int eventFd_;
  BatchChannel& inbound_;
  QueueCounters& counters_;
  PacketRing outbound_;
  std::function<void()> wakeJs_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> jsWantsSpace_{false};
  bool pendingWake_ = false;  // JS thread only: send() queued something since the last flush()
  // Thread-only state.
  bool readable_ = true;
  bool stalled_ = false;
  bool retryingAfterStall_ = false;  // a stall already counted: a failed retry is the same stall
  bool writeBlocked_ = false;
  bool readFailed_ = false;  // the fd reports an error (device removed): stop polling it
  // With a virtio-net header on the fd (offload): frames go through these buffers.
  const OffloadState offload_;
  bool coalescing_ = true;  // off for good once the kernel refuses a super-packet
  std::unique_ptr<uint8_t[]> readFrame_;
  std::unique_ptr<uint8_t[]> writeFrame_;
  offload::Splitter splitter_;
};

}  // namespace tunkit::linux_tun
