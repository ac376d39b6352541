// Plain C++ types shared by the tun-linux addon's files: the options baton converted from JS on
// the JS thread, and per-queue counters. No Napi types here: thread code includes this.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace tunkit::linux_tun {

/** Options for opening a device, converted from JS once, on the JS thread. */
struct DeviceOptions {
  std::string name;          // empty: the kernel picks tunN
  uint32_t queues = 2;       // 1..64
  uint32_t mtu = 1420;
  uint32_t inboundSlots = 1024;   // per queue, packets waiting for JS
  uint32_t outboundSlots = 1024;  // per queue, packets waiting for the device
};

/** Counters of one queue, written by its thread and the JS thread, read by stats(). */
struct QueueCounters {
  std::atomic<uint64_t> rxPackets{0};   // read from the device into the inbound channel
  std::atomic<uint64_t> rxBytes{0};
  std::atomic<uint64_t> txPackets{0};   // written to the device
  std::atomic<uint64_t> txBytes{0};
  std::atomic<uint64_t> rxDropped{0};   // read but unusable (e.g. larger than a slot)
  std::atomic<uint64_t> txDropped{0};   // write() failed, or discarded at close
  std::atomic<uint64_t> rxStalls{0};    // times the reader stopped: inbound channel full
};

}  // namespace tunkit::linux_tun
