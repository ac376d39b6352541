// Plain C++ types shared by the tun-linux addon's files: the options baton converted from JS on
// the JS thread, and per-queue counters. No Napi types here: thread code includes this.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace tunkit::linux_tun {

/** The addon's name in error messages (tun-core's currentExceptionToJs). */
inline constexpr const char* kAddonName = "tun-linux";

/** Options for opening a device, converted from JS once, on the JS thread. */
struct DeviceOptions {
  std::string name;          // empty: the kernel picks tunN
  uint32_t queues = 2;       // 1..64
  uint32_t mtu = 1420;
  uint32_t inboundSlots = 1024;   // per queue, packets waiting for JS
  uint32_t outboundSlots = 1024;  // per queue, packets waiting for the device
  bool offload = true;            // IFF_VNET_HDR with TSO (and USO where the kernel has it)
};

/** What the kernel accepted when the device was opened. */
struct OffloadState {
  bool vnetHeader = false;  // frames carry a virtio-net header
  bool tso = false;         // TUN_F_TSO4|TSO6 accepted: TCP super-packets both ways
  bool uso = false;         // TUN_F_USO4|USO6 accepted: UDP super-packets both ways
};

/**
 * Counters of one queue, written by its thread (summed per round of reads or writes, published
 * once per round: a snapshot may trail by one round) and by the JS thread at close; read by stats().
 */
struct QueueCounters {
  std::atomic<uint64_t> rxPackets{0};   // read from the device into the inbound channel
  std::atomic<uint64_t> rxBytes{0};
  std::atomic<uint64_t> txPackets{0};   // written to the device
  std::atomic<uint64_t> txBytes{0};
  std::atomic<uint64_t> rxDropped{0};   // read but unusable: larger than a slot, or a malformed offload frame
  std::atomic<uint64_t> txDropped{0};   // write() failed, or discarded at close
  std::atomic<uint64_t> rxErrors{0};    // reads that failed (not EAGAIN): no packet lost that we know of
  std::atomic<uint64_t> rxStalls{0};    // times the reader stopped: inbound channel full
  std::atomic<uint64_t> rxFrames{0};    // reads (a super-packet is one frame, many packets)
  std::atomic<uint64_t> txFrames{0};    // writes (a coalesced run is one frame)
  std::atomic<uint64_t> coalesceRefused{0};  // 1 once the kernel refused a super-packet (coalescing off)
};

}  // namespace tunkit::linux_tun
