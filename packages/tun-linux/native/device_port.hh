// DevicePort: the TUN's packet port (tun-core's packet_port.hh). Another addon's threads write IP
// packets straight to the device through it (`write`, on the calling thread: flow-hashed to a
// queue fd as JS's sends are, with offload coalesced into super-packets), and a processor
// attached through it is offered every batch the queue threads read (QueueThread). Refcounted:
// the TunDevice holds one reference and each holder of the port another; after the device
// closes, writes drop (counted) and the struct stays valid until the last release.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include <tunkit/packet_port.hh>

#include "tunkit_linux.hh"

namespace tunkit::linux_tun {

class DevicePort {
 public:
  /** With one reference, the TunDevice's. `fds` stay the device's: close() must come before they are closed. JS thread. */
  static DevicePort* create(std::vector<int> fds, OffloadState offload, std::vector<std::shared_ptr<QueueCounters>> counters);

  const tunkit_device_port* port() const { return &port_; }
  ProcessorSlot& processors() { return processors_; }

  /** Writes the packets to the device; returns how many it took. Any thread. */
  uint32_t write(const tunkit_packets& packets);

  /** Later writes drop; returns after the last write in progress. Detaches the processor. JS thread. */
  void close();

  void retain() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release();

 private:
  DevicePort(std::vector<int> fds, OffloadState offload, std::vector<std::shared_ptr<QueueCounters>> counters);
  uint32_t writeQueue(uint32_t queue, const tunkit_packets& packets, const uint32_t* indices, uint32_t count);

  tunkit_device_port port_{};
  const std::vector<int> fds_;
  const OffloadState offload_;
  const std::vector<std::shared_ptr<QueueCounters>> counters_;
  ProcessorSlot processors_;
  WriterPreferringLock lock_;  // write() holds it shared, close() exclusive
  bool closed_ = false;        // guarded by lock_
  std::atomic<bool> coalescing_{true};  // off for good once the kernel refuses a super-packet
  std::atomic<uint32_t> refs_{1};
};

}  // namespace tunkit::linux_tun
