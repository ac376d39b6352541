// UDP GRO on receive: the kernel hands over several datagrams from one sender as one message of
// `segment`-byte datagrams (the last may be shorter); here they become packets of a PacketBatch,
// laid out by its rule, each with its sender in the address form (udp_address.hh). What does not fit the
// batch waits in PendingDatagrams for the next receive. Plain C++ (no N-API, no syscalls), tested
// by native/test; udp_socket.cc does the receiving.
#pragma once

#include <cstdint>
#include <vector>

#include <tunkit/packet_batch_view.hh>

#include "udp_address.hh"

namespace tunkit::wireguard {

// The kernel stops coalescing at 64 KiB (GRO_LEGACY_MAX_SIZE) and at 64 datagrams
// (UDP_GRO_CNT_MAX). Both bound what one received message can expand into.
inline constexpr uint32_t kGroMessageBytes = 65536;
inline constexpr uint32_t kMaxGroSegments = 64;

/**
 * The datagrams of one coalesced message that did not fit the previous batch: bytes [start, end)
 * of `bytes`, `segment` bytes each (the last may be shorter), all from `from`. Delivered first by
 * the next receive, so nothing received is lost to a full batch.
 */
struct PendingDatagrams {
  std::vector<uint8_t> bytes;  // kGroMessageBytes, allocated once when GRO is on
  uint32_t start = 0;
  uint32_t end = 0;
  uint32_t segment = 0;
  uint8_t from[kAddressBytes] = {};

  bool empty() const { return start == end; }
};

/** The batch being filled, with the sender of packet i at addresses + kAddressBytes * i. */
struct BatchFill {
  PacketBatchView view;
  uint8_t* addresses = nullptr;  // room for view.capacity addresses
  uint32_t maxDatagram = 0;      // larger datagrams are dropped and counted
  uint32_t dropped = 0;          // datagrams dropped: over maxDatagram, or with nowhere to go
  uint32_t badSources = 0;       // datagrams dropped because their sender cannot be answered (source port 0)
  int64_t arrivedAt = 0;         // with timestamps on: when the kernel received the first message, CLOCK_MONOTONIC ns; 0: unknown
};

/**
 * Appends by copy the datagrams of a message held outside the batch (`size` bytes at `data`, of
 * `segment` bytes each, the last may be shorter) until the batch is full; returns the bytes taken.
 * Datagrams over maxDatagram are dropped and counted (and count as taken).
 */
uint32_t appendCopies(BatchFill& fill, const uint8_t* data, uint32_t size, uint32_t segment, const uint8_t* from);

/** Appends what fits of `pending` (appendCopies), and marks it empty once all is delivered. */
void deliverPending(BatchFill& fill, PendingDatagrams& pending);

/**
 * Splits a message the kernel wrote into the batch's own buffer (`size` bytes at offset `at`, at or
 * after the batch's next packet start) into packets in place: one memmove down to the next packet
 * start, then its datagrams are spread apart from the last one backwards, each moving up or staying
 * (with no headroom or tailroom and a size that is a multiple of 8, as WireGuard's are, nothing
 * moves), so no move overwrites a datagram not yet moved. Stops at the first datagram that does not
 * fit the batch or would end past `limit`; the rest goes to `keep` (copied out before any spreading)
 * or, without one, is dropped and counted.
 */
void placeInBatch(BatchFill& fill, uint32_t at, uint32_t size, uint32_t segment, const uint8_t* from, uint32_t limit,
                  PendingDatagrams* keep);

/**
 * Bytes of the batch one received message is given (its region): a whole 64 KiB message, which is
 * also the most its at most 64 datagrams take once laid out, each with headroom, tailroom and
 * alignment. So laying message k out from the cursor (always at or before region k) never reaches
 * region k + 1: the kernel writes straight into the batch, no scratch copy.
 */
uint32_t groRegionBytes(uint32_t headroom, uint32_t tailroom);

/** How the next receive into `view` goes: how many messages, and where they land. */
struct GroReceivePlan {
  /** Messages to ask recvmmsg for; 0 when the batch has no packet left to give. */
  uint32_t messages = 0;
  /** The batch has less room than one region: one message is received into PendingDatagrams. */
  bool intoPending = false;
  uint32_t region = 0;
};

/**
 * As many regions as the bytes allow, but only so many messages that all but the last surely fit
 * the packets left (64 datagrams each): the last one's excess is kept in PendingDatagrams, so a
 * super-datagram meeting a nearly full batch loses nothing. (Sizing the receive so that everything
 * always fits instead would take one message per syscall into a 100-packet batch.) At most
 * `maxMessages`.
 */
GroReceivePlan planGroReceive(const PacketBatchView& view, uint32_t maxMessages);

/**
 * A received message's datagrams, from its length, the UDP_GRO segment size (0 when the message
 * carried no such control message: one datagram) and whether it was truncated. A truncated
 * message (longer than 64 KiB: a kernel whose GRO limit was raised) keeps its whole datagrams and
 * counts the loss once in `dropped`.
 */
struct GroMessage {
  bool deliver = false;  // false: nothing of it can be delivered
  uint32_t size = 0;
  uint32_t segment = 0;  // at least 1
};
GroMessage groMessage(uint32_t length, uint32_t segment, bool truncated, uint32_t& dropped);

}  // namespace tunkit::wireguard
