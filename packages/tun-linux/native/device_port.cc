// The TUN's packet port (see device_port.hh). Why write on the caller's thread rather than through
// a queue thread's ring: a packet a processor opened is then in the kernel without another thread
// waking up, which on a 2-core VM costs tens of microseconds per wake-up; and the ring is the JS
// thread's alone (single producer). Writes from this port and from a queue thread may share an
// fd: each write() is one frame, and one flow always goes through one of them at a time.
#include "device_port.hh"

#include <unistd.h>

#include <cerrno>
#include <vector>

#include "flow_hash.hh"
#include "offload.hh"

namespace tunkit::linux_tun {

namespace {

/** Per calling thread: a frame buffer for coalescing and the packets sorted by queue. */
struct WriteScratch {
  std::unique_ptr<uint8_t[]> frame{new uint8_t[offload::kMaxFrame]};
  std::vector<std::vector<uint32_t>> byQueue;
};

WriteScratch& scratch() {
  thread_local WriteScratch s;
  return s;
}

}  // namespace

DevicePort* DevicePort::create(std::vector<int> fds, OffloadState offload, std::vector<std::shared_ptr<QueueCounters>> counters) {
  return new DevicePort(std::move(fds), offload, std::move(counters));
}

DevicePort::DevicePort(std::vector<int> fds, OffloadState offload, std::vector<std::shared_ptr<QueueCounters>> counters)
    : fds_(std::move(fds)), offload_(offload), counters_(std::move(counters)) {
  port_.abi = TUNKIT_PORT_ABI;
  port_.kind = TUNKIT_PORT_TUN;
  port_.device = this;
  port_.write = [](void* self, const tunkit_packets* packets) { return static_cast<DevicePort*>(self)->write(*packets); };
  port_.attach = [](void* self, const tunkit_processor* processor) { static_cast<DevicePort*>(self)->processors_.attach(processor); };
  port_.retain = [](void* self) { static_cast<DevicePort*>(self)->retain(); };
  port_.release = [](void* self) { static_cast<DevicePort*>(self)->release(); };
}

void DevicePort::release() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

// JS thread.
void DevicePort::close() {
  processors_.attach(nullptr);
  lock_.lock();
  closed_ = true;
  lock_.unlock();
}

// Any thread.
uint32_t DevicePort::write(const tunkit_packets& packets) {
  lock_.lock_shared();
  if (closed_ || fds_.empty()) {
    lock_.unlock_shared();
    return 0;
  }
  WriteScratch& s = scratch();
  const auto queues = static_cast<uint32_t>(fds_.size());
  if (s.byQueue.size() < queues) s.byQueue.resize(queues);
  for (auto& list : s.byQueue) list.clear();
  for (uint32_t i = 0; i < packets.count; ++i) {
    const uint8_t* data = packets.buffer + packets.offsets[i];
    s.byQueue[queues == 1 ? 0 : flowHash(data, packets.lengths[i]) % queues].push_back(i);
  }
  uint32_t taken = 0;
  for (uint32_t q = 0; q < queues; ++q) {
    if (!s.byQueue[q].empty()) taken += writeQueue(q, packets, s.byQueue[q].data(), static_cast<uint32_t>(s.byQueue[q].size()));
  }
  lock_.unlock_shared();
  return taken;
}

// Any thread, holding lock_ shared: the packets `indices` of `packets`, in order, to queue `queue`.
uint32_t DevicePort::writeQueue(uint32_t queue, const tunkit_packets& packets, const uint32_t* indices, uint32_t count) {
  const int fd = fds_[queue];
  QueueCounters& counters = *counters_[queue];
  uint64_t written = 0;
  uint64_t bytes = 0;
  uint64_t frames = 0;
  uint64_t dropped = 0;
  if (!offload_.vnetHeader) {
    for (uint32_t k = 0; k < count; ++k) {
      const uint32_t i = indices[k];
      ssize_t n;
      do {
        n = ::write(fd, packets.buffer + packets.offsets[i], packets.lengths[i]);
      } while (n < 0 && errno == EINTR);
      if (n < 0) {
        ++dropped;
        continue;
      }
      ++written;
      ++frames;
      bytes += packets.lengths[i];
    }
  } else {
    constexpr size_t kRun = 64;
    offload::Packet run[kRun];
    uint8_t* frame = scratch().frame.get();
    uint32_t k = 0;
    while (k < count) {
      const bool coalesce = coalescing_.load(std::memory_order_relaxed) && offload_.tso;
      size_t runLength = 0;
      while (runLength < (coalesce ? kRun : 1) && k + runLength < count) {
        const uint32_t i = indices[k + runLength];
        run[runLength] = {packets.buffer + packets.offsets[i], packets.lengths[i]};
        ++runLength;
      }
      size_t used = 0;
      const size_t size = offload::coalesce(run, runLength, offload_.uso && coalesce, frame, offload::kMaxFrame, used);
      if (size == 0) {  // a packet larger than a frame: cannot happen within an MTU; dropped, counted
        ++dropped;
        ++k;
        continue;
      }
      ssize_t n;
      do {
        n = ::write(fd, frame, size);
      } while (n < 0 && errno == EINTR);
      if (n < 0 && errno == EINVAL && used > 1) {
        coalescing_.store(false, std::memory_order_relaxed);  // the kernel refuses super-packets here
        counters.coalesceRefused.store(1, std::memory_order_relaxed);
        continue;
      }
      if (n < 0) {
        dropped += used;
      } else {
        written += used;
        ++frames;
        for (size_t r = 0; r < used; ++r) bytes += run[r].size;
      }
      k += static_cast<uint32_t>(used);
    }
  }
  if (written != 0) {
    counters.txPackets.fetch_add(written, std::memory_order_relaxed);
    counters.txBytes.fetch_add(bytes, std::memory_order_relaxed);
    counters.txFrames.fetch_add(frames, std::memory_order_relaxed);
  }
  if (dropped != 0) counters.txDropped.fetch_add(dropped, std::memory_order_relaxed);
  return static_cast<uint32_t>(written);
}

}  // namespace tunkit::linux_tun
