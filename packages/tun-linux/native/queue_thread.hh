// QueueThread: the native thread that owns one TUN queue fd. It reads packets from the fd
// straight into its lane of the shared inbound BatchChannel, and writes the packets JS queued on
// its outbound PacketRing. While a packet processor is attached to the device's port
// (device_port.hh), it reads into a batch of its own instead, offers it to the processor, and
// passes on to the channel only what the processor did not take. It sleeps in poll() on the fd and an eventfd; JS and the channel's
// space hook wake it through the eventfd, once per batch, never per packet. EBADFD on its fd (the
// interface was removed) ends the whole device: recorded in the device's DeviceEnd, JS woken, and
// this thread stops.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <string>

#include <tunkit/batch_channel.hh>
#include <tunkit/device_end.hh>
#include <tunkit/os_error.hh>
#include <tunkit/packet_port.hh>
#include <tunkit/packet_ring.hh>

#include "offload.hh"
#include "tunkit_linux.hh"

namespace tunkit::linux_tun {

class QueueThread {
 public:
  /**
   * `wakeJs` runs on this queue thread when JS asked to hear about outbound space, and after this
   * thread recorded the device's end in `end` (`deviceName` is for that error's message). Throws
   * OsError. JS thread.
   */
  QueueThread(unsigned index, int fd, BatchChannel& inbound, QueueCounters& counters, uint32_t outboundSlots,
              uint32_t slotSize, OffloadState offload, DeviceEnd<OsError>& end, std::string deviceName,
              std::function<void()> wakeJs, ProcessorSlot& processors);
  ~QueueThread();

  QueueThread(const QueueThread&) = delete;
  QueueThread& operator=(const QueueThread&) = delete;

  /** Starts the thread (named tunkit-queue-N). Throws OsError when the OS refuses a thread. JS thread. */
  void start();

  /** Queues one packet for the device; false when the outbound ring is full. JS thread. */
  bool send(const uint8_t* data, uint32_t size);

  /** Wakes the thread if it sleeps, after a batch of send() calls. JS thread. */
  void flush();

  /** True when send() can take a packet now; if not, asks the thread to call wakeJs once it can. JS thread. */
  bool hasSpaceOrNotify();

  /** Wakes the thread from its space hook (inbound channel freed space). Consumer (JS) thread. */
  void wake();

  /**
   * Stops the thread: wakes it, waits up to `timeout` for it to finish, joins it, and discards
   * (counting them as txDropped) the packets still queued. Returns false when the thread did not
   * finish in time: it is then detached, and this object, its fd and everything it was given must
   * stay alive for good (the owner leaks them on purpose). JS thread. Idempotent.
   */
  bool stop(std::chrono::milliseconds timeout);

 private:
  /** What one batch of reads or writes did, published to the shared counters once per batch. */
  struct Tally {
    uint64_t packets = 0;
    uint64_t bytes = 0;
    uint64_t frames = 0;
    uint64_t dropped = 0;
  };

  void run();
  void loop();
  void readBatch();
  void readPackets(Tally& tally);
  void readFrames(Tally& tally);
  void readForProcessor(Tally& tally);
  uint32_t fillProcessBatch(Tally& tally, int& reads);
  uint32_t readOnePacket(uint8_t* slot, uint32_t slotSize, Tally& tally);
  uint32_t readOneFrame(Tally& tally);
  void readFailed(int error);
  void endDevice(int error, const char* syscall);
  void noteStall();
  void writeBatch();
  bool writePackets(Tally& tally);
  bool writeFrames(Tally& tally);

  const unsigned index_;
  const int fd_;
  const int eventFd_;
  BatchChannel& inbound_;
  QueueCounters& counters_;
  PacketRing outbound_;
  DeviceEnd<OsError>& end_;
  const std::string deviceName_;
  std::function<void()> wakeJs_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> jsWantsSpace_{false};
  bool pendingWake_ = false;  // JS thread only: send() queued something since the last flush()
  // The thread's end, for a stop() that waits with a timeout (std::thread::join has none).
  std::mutex exitMutex_;
  std::condition_variable exitCondition_;
  bool exited_ = false;
  // Thread-only state.
  bool readable_ = true;
  bool stalled_ = false;
  bool retryingAfterStall_ = false;  // a stall already counted: a failed retry is the same stall
  bool writeBlocked_ = false;
  bool ended_ = false;  // this queue saw EBADFD: the interface was removed, the device ended
  std::chrono::steady_clock::time_point retryReadAt_{};  // after an unexpected read error: back off until then
  bool backingOff_ = false;
  int64_t wokeAt_ = 0;  // CLOCK_MONOTONIC ns when poll() last returned, until a batch takes it (packet_port.hh's readyAt)
  // With a virtio-net header on the fd (offload): frames go through these buffers.
  const OffloadState offload_;
  bool coalescing_ = true;  // off for good once the kernel refuses a super-packet
  std::unique_ptr<uint8_t[]> readFrame_;
  std::unique_ptr<uint8_t[]> writeFrame_;
  offload::Splitter splitter_;
  // With a processor attached: its batch (kProcessBatch packets, each with the processor's room
  // around a slot), reused; reshaped only when the processor's room changes.
  ProcessorSlot& processors_;
  struct ProcessBatch {
    std::unique_ptr<uint8_t[]> bytes;
    std::unique_ptr<uint32_t[]> offsets;
    std::unique_ptr<uint32_t[]> lengths;
    std::unique_ptr<uint8_t[]> taken;
    uint32_t headroom = 0;
    uint32_t tailroom = 0;
    uint32_t stride = 0;
  } process_;
};

}  // namespace tunkit::linux_tun
