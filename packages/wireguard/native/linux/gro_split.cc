// UDP GRO messages into PacketBatch packets (see gro_split.hh).
#include "gro_split.hh"

#include <algorithm>
#include <cstring>

namespace tunkit::wireguard {

uint32_t appendCopies(BatchFill& fill, const uint8_t* data, uint32_t size, uint32_t segment, const uint8_t* from) {
  uint32_t taken = 0;
  while (taken < size) {
    const uint32_t length = std::min(segment, size - taken);
    if (length > fill.maxDatagram) {
      ++fill.dropped;
    } else {
      if (!fill.view.append(data + taken, length)) break;
      std::memcpy(fill.addresses + size_t{fill.view.length - 1} * kAddressBytes, from, kAddressBytes);
    }
    taken += length;
  }
  return taken;
}

void deliverPending(BatchFill& fill, PendingDatagrams& pending) {
  pending.start += appendCopies(fill, pending.bytes.data() + pending.start, pending.end - pending.start, pending.segment, pending.from);
  if (pending.start == pending.end) pending.start = pending.end = 0;
}

void placeInBatch(BatchFill& fill, uint32_t at, uint32_t size, uint32_t segment, const uint8_t* from, uint32_t limit,
                  PendingDatagrams* keep) {
  PacketBatchView& v = fill.view;
  if (segment > fill.maxDatagram) {
    // All full-size datagrams are too large; only a shorter last one may be kept.
    const uint32_t rest = size % segment;
    fill.dropped += size / segment;
    if (rest == 0 || rest > fill.maxDatagram) {
      if (rest != 0) ++fill.dropped;
      return;
    }
    at += size - rest;
    size = rest;
    segment = rest;
  }
  const uint32_t start = v.bytesUsed + v.headroom;
  if (start != at) std::memmove(v.buffer + start, v.buffer + at, size);
  const uint32_t first = v.length;
  uint32_t taken = 0;
  bool full = false;
  do {  // once even for an empty datagram
    const uint32_t length = std::min(segment, size - taken);
    // The count is checked on its own: PacketBatchView::reserve(0) does not refuse a full batch.
    if (v.length >= v.capacity || length > v.spaceForNext() ||
        align8(uint64_t{v.bytesUsed} + v.headroom + length + v.tailroom) > limit) {
      full = true;
      break;
    }
    v.reserve(length);
    std::memcpy(fill.addresses + size_t{v.length - 1} * kAddressBytes, from, kAddressBytes);
    taken += length;
  } while (taken < size);
  if (full) {
    if (keep != nullptr && taken < size) {
      std::memcpy(keep->bytes.data(), v.buffer + start + taken, size - taken);
      keep->start = 0;
      keep->end = size - taken;
      keep->segment = segment;
      std::memcpy(keep->from, from, kAddressBytes);
    } else {
      // Nowhere to go (an empty datagram cannot wait in PendingDatagrams): counted.
      fill.dropped += size == taken ? 1 : (size - taken + segment - 1) / segment;
    }
  }
  for (uint32_t i = v.length; i-- > first;) {
    const uint32_t source = start + (i - first) * segment;
    if (v.offsets[i] != source) std::memmove(v.buffer + v.offsets[i], v.buffer + source, v.lengths[i]);
  }
}

uint32_t groRegionBytes(uint32_t headroom, uint32_t tailroom) {
  return align8(uint64_t{kGroMessageBytes} + kMaxGroSegments * (uint64_t{headroom} + tailroom + 8));
}

GroReceivePlan planGroReceive(const PacketBatchView& view, uint32_t maxMessages) {
  GroReceivePlan plan;
  plan.region = groRegionBytes(view.headroom, view.tailroom);
  const uint32_t packetsLeft = view.capacity - view.length;
  if (packetsLeft == 0 || maxMessages == 0) return plan;
  const uint32_t room = view.byteCapacity - view.bytesUsed;
  plan.intoPending = room < plan.region;
  plan.messages = plan.intoPending ? 1u : std::min({room / plan.region, 1 + (packetsLeft - 1) / kMaxGroSegments, maxMessages});
  return plan;
}

GroMessage groMessage(uint32_t length, uint32_t segment, bool truncated, uint32_t& dropped) {
  GroMessage m;
  m.size = length;
  if (truncated) {
    ++dropped;
    if (segment == 0 || length < segment) return m;
    m.size -= length % segment;
  }
  m.segment = segment == 0 || segment > m.size ? std::max<uint32_t>(m.size, 1) : segment;
  m.deliver = true;
  return m;
}

}  // namespace tunkit::wireguard
