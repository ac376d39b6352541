// Functional tests of the header-only pieces (PacketBatchView, PacketRing, BatchChannel,
// errnoName, DeviceEnd), built with AddressSanitizer and UndefinedBehaviorSanitizer.
#include <tunkit/batch_channel.hh>
#include <tunkit/device_end.hh>
#include <tunkit/errno_name.hh>

#include "check.hh"
#include <tunkit/os_error.hh>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace tunkit;

namespace {

struct Batch {
  std::vector<uint8_t> buffer;
  std::vector<uint32_t> offsets, lengths;
  PacketBatchView view;
  Batch(uint32_t capacity, uint32_t bytes, uint32_t headroom = 0, uint32_t tailroom = 0)
      : buffer(bytes), offsets(capacity), lengths(capacity) {
    view = PacketBatchView{buffer.data(), offsets.data(), lengths.data(), capacity, bytes, headroom, tailroom, 0, 0};
  }
};

void testLayoutMatchesTypeScript() {
  // The same case as packet-batch.test.ts: headroom 16, tailroom 32, packets of 3 and 100 bytes.
  Batch b(4, 4096, 16, 32);
  const uint8_t three[3] = {1, 2, 3};
  std::vector<uint8_t> hundred(100, 9);
  CHECK(b.view.append(three, 3));
  CHECK(b.view.append(hundred.data(), 100));
  CHECK(b.view.length == 2);
  CHECK(b.offsets[0] == 16);
  CHECK(b.offsets[1] == 16 + 56);
  CHECK(b.view.bytesUsed == ((16 + 56 + 100 + 32 + 7) & ~7u));
  CHECK(b.buffer[16] == 1 && b.buffer[18] == 3);
  // Capacity in packets and in bytes.
  Batch small(2, 256);
  std::vector<uint8_t> p100(100), p200(200);
  CHECK(small.view.append(p100.data(), 100));
  CHECK(!small.view.append(p200.data(), 200));
  CHECK(small.view.append(p100.data(), 100));
  CHECK(!small.view.append(p100.data(), 1));
  CHECK(small.view.spaceForNext() == 0);
  // A full batch refuses even an empty packet (its offsets end at capacity; ASan sees a write past).
  Batch full(1, 256);
  CHECK(full.view.reserve(0) != nullptr);
  CHECK(full.view.reserve(0) == nullptr);
  CHECK(full.view.length == 1);
}

void testRingReserveCommitAndBounds() {
  PacketRing ring(4, 65535);  // 64 KiB slots
  for (uint32_t i = 0; i < 4; ++i) {
    uint8_t* slot = ring.reserve();
    CHECK(slot != nullptr);
    slot[0] = static_cast<uint8_t>(i);
    slot[65534] = 0xab;
    ring.commit(65535);
  }
  CHECK(ring.reserve() == nullptr);
  CHECK(ring.full());
  uint8_t one = 1;
  CHECK(!ring.push(&one, 1));
  CHECK(ring.refused() == 1);
  std::vector<uint8_t> huge(65536);
  CHECK(!ring.push(huge.data(), 65536));
  CHECK(ring.oversize() == 1);
  for (uint32_t i = 0; i < 4; ++i) {
    const uint8_t* data = nullptr;
    uint32_t size = 0;
    CHECK(ring.front(data, size));
    CHECK(size == 65535 && data[0] == i && data[65534] == 0xab);
    ring.pop();
  }
  CHECK(ring.empty());
  CHECK(ring.pushed() == 4);
}

void testNotifyOncePerTransitionAndDrain() {
  int notifies = 0;
  BatchChannel ch(2, 8, 64, [&] { ++notifies; });
  uint8_t packet[10] = {};
  for (int i = 0; i < 5; ++i) {
    packet[0] = static_cast<uint8_t>(i);
    CHECK(ch.push(0, packet, 10));
  }
  CHECK(notifies == 1);  // first packet only
  CHECK(ch.push(1, packet, 3));
  CHECK(notifies == 1);
  Batch b(100, 4096);
  CHECK(ch.drainInto(b.view, 100) == 6);
  CHECK(notifies == 1);
  CHECK(ch.push(1, packet, 3));  // empty→non-empty again after a drain
  CHECK(notifies == 2);
  // Per-lane FIFO: lane 0's packets came out 0..4 in order.
  bool ordered = true;
  int expect = 0;
  for (uint32_t i = 0; i < b.view.length; ++i) {
    if (b.lengths[i] == 10) ordered = ordered && b.buffer[b.offsets[i]] == expect++;
  }
  CHECK(ordered && expect == 5);
}

void testPacketThatDoesNotFitStaysQueued() {
  BatchChannel ch(1, 8, 2048, nullptr);
  std::vector<uint8_t> p(1000, 7);
  CHECK(ch.push(0, p.data(), 1000));
  CHECK(ch.push(0, p.data(), 1000));
  Batch b(100, 1500);
  CHECK(ch.drainInto(b.view, 100) == 1);
  CHECK(ch.size() == 1);
  Batch b2(100, 1500);
  CHECK(ch.drainInto(b2.view, 100) == 1);
  // A packet larger than any batch of this shape is dropped and counted, not stuck forever.
  CHECK(ch.push(0, p.data(), 1000));
  Batch tiny(100, 512);
  CHECK(ch.drainInto(tiny.view, 100) == 0);
  CHECK(ch.dropped() == 1);
  CHECK(ch.size() == 0);
  // max limits the count.
  for (int i = 0; i < 5; ++i) ch.push(0, p.data(), 10);
  Batch b3(100, 4096);
  CHECK(ch.drainInto(b3.view, 2) == 2);
}

void testSpaceHookAndClose() {
  int spaceCalls = 0;
  int notifies = 0;
  BatchChannel ch(1, 2, 16, [&] { ++notifies; });
  ch.setSpaceHook(0, [&] { ++spaceCalls; });
  uint8_t packet[4] = {1, 2, 3, 4};
  CHECK(ch.push(0, packet, 4));
  CHECK(ch.push(0, packet, 4));
  CHECK(ch.reserve(0) == nullptr);  // full: the producer now waits for the hook
  CHECK(ch.laneStats(0).refused == 1);
  Batch b(1, 256);
  CHECK(ch.drainInto(b.view, 1) == 1);
  CHECK(spaceCalls == 1);
  Batch b2(1, 256);
  CHECK(ch.drainInto(b2.view, 1) == 1);
  CHECK(spaceCalls == 1);  // only when the producer had found the lane full
  CHECK(ch.push(0, packet, 4));
  const int before = notifies;
  ch.close();
  CHECK(notifies == before + 1);
  CHECK(spaceCalls == 2);
  CHECK(!ch.push(0, packet, 4));
  CHECK(ch.reserve(0) == nullptr);
  Batch b3(4, 256);
  CHECK(ch.drainInto(b3.view, 4) == 1);  // accepted before close: not lost
  ch.close();
  CHECK(notifies == before + 1);  // idempotent
}

void testDiscardQueuedCountsWhatCloseLeaves() {
  BatchChannel ch(2, 4, 64, [] {});
  uint8_t packet[64] = {};
  CHECK(ch.push(0, packet, 64));  // a full slot still counts once
  CHECK(ch.push(0, packet, 4));
  CHECK(ch.push(1, packet, 4));
  ch.close();
  CHECK(ch.discardQueued() == 3);
  CHECK(ch.size() == 0);
  CHECK(ch.discardQueued() == 0);
}

void testRingDiscardAll() {
  PacketRing ring(4, 16);
  uint8_t packet[16] = {};
  CHECK(ring.discardAll() == 0);  // empty: nothing to drop
  CHECK(ring.push(packet, 16));
  CHECK(ring.push(packet, 1));
  CHECK(ring.push(packet, 0));
  CHECK(ring.discardAll() == 3);
  CHECK(ring.empty());
  CHECK(ring.discardAll() == 0);
  // Positions keep moving: the ring fills and wraps as before.
  for (uint32_t i = 0; i < 4; ++i) CHECK(ring.push(packet, 1));
  CHECK(ring.full());
  CHECK(ring.discardAll() == 4);
  CHECK(ring.push(packet, 2));
  const uint8_t* data = nullptr;
  uint32_t size = 0;
  CHECK(ring.front(data, size) && size == 2);
  CHECK(ring.pushed() == 8);
}

void testErrnoName() {
  CHECK(errnoName(EPERM) == "EPERM");
  CHECK(errnoName(EBUSY) == "EBUSY");
  CHECK(errnoName(EAGAIN) == "EAGAIN");
  CHECK(errnoName(9999) == "E9999");
  CHECK(errnoName(EBADFD) == "EBADFD");
  CHECK(errnoName(ENOTCONN) == "ENOTCONN");
  CHECK(errnoName(kEndOfFile) == "EOF");
}

// Queue threads race to record the end: exactly one wins, and its error is the one kept.
void testDeviceEndKeepsTheFirst() {
  DeviceEnd<OsError> end;
  CHECK(!end.ended());
  CHECK(!end.endedBy().has_value());
  std::vector<std::thread> threads;
  std::atomic<int> won{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&end, &won, i] {
      if (end.end(OsError(EBADFD, i == 0 ? "read" : "write", "queue " + std::to_string(i)))) won.fetch_add(1);
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(won.load() == 1);
  CHECK(end.ended());
  const auto endedBy = end.endedBy();
  CHECK(endedBy.has_value() && endedBy->error() == EBADFD);
  CHECK(!end.end(OsError(EIO, "read", "later")));
  CHECK(end.endedBy()->error() == EBADFD);
}

}  // namespace

int main() {
  testLayoutMatchesTypeScript();
  testRingReserveCommitAndBounds();
  testNotifyOncePerTransitionAndDrain();
  testPacketThatDoesNotFitStaysQueued();
  testSpaceHookAndClose();
  testDiscardQueuedCountsWhatCloseLeaves();
  testRingDiscardAll();
  testErrnoName();
  testDeviceEndKeepsTheFirst();
  return tunkit::testing::checkSummary("channel_unit");
}
