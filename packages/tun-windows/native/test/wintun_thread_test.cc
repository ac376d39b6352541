// The receive thread, the send queue and the shutdown order against the fake WinTun, without
// N-API, built with AddressSanitizer + UndefinedBehaviorSanitizer and with ThreadSanitizer
// (see the Makefile). Each CHECK can fail; a failure exits non-zero.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include <tunkit/batch_channel.hh>

#include "check.hh"

#include "../adapter.hh"
#include "../fake/fake_table.hh"
#include "../fake/fake_wintun.hh"
#include "../receive_thread.hh"
#include "../send_queue.hh"

using namespace tunkit;
using namespace tunkit::windows_tun;

namespace {

std::vector<uint8_t> packet(uint32_t seq, uint32_t size = 100) {
  std::vector<uint8_t> p(size, 0);
  p[0] = 0x45;
  std::memcpy(p.data() + 4, &seq, 4);
  return p;
}

uint32_t seqOf(const uint8_t* data) {
  uint32_t seq;
  std::memcpy(&seq, data + 4, 4);
  return seq;
}

template <typename F>
bool waitUntil(F done, int ms = 5000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

/** One device's native parts, wired as WintunDevice wires them. */
struct Rig {
  const WinApi& api = fake::table();
  std::u16string name;
  WintunSession session;
  std::atomic<bool> stopping{false};
  std::atomic<int> wakes{0};
  Handle quit;
  Counters counters;
  DeviceEnd<WinError> end;
  BatchChannel inbound;
  ReceiveThread receiver;
  SendQueue sender;

  Rig(const std::u16string& adapterName, uint32_t slots, uint32_t retryMicros = 20000)
      : name(adapterName),
        session(fake::table(), AdapterOptions{adapterName, false, {}, 128 * 1024}),
        quit(fake::table().createEventW(nullptr, 1, 0, nullptr)),
        inbound(1, slots, 2048, [this] { wakes.fetch_add(1); }),
        receiver(api, session.session(), session.readEvent(), quit, stopping, inbound, counters, end, [this] { wakes.fetch_add(1); }),
        sender(api, session.session(), quit, stopping, counters, end, 16, 2048, retryMicros, [this] { wakes.fetch_add(1); }) {
    inbound.setSpaceHook(0, [this] { receiver.wakeForSpace(); });
    receiver.start();
    sender.start();
  }

  bool stop(uint32_t timeoutMs = 5000) {
    stopping.store(true);
    api.setEvent(quit);
    const bool joined = receiver.join(timeoutMs) && sender.join(timeoutMs);
    if (joined) {
      sender.discardPending();
      session.end();
      api.closeHandle(quit);
    }
    return joined;
  }

  /** Drains up to `max` packets into `out` (sequence numbers). Consumer thread. */
  uint32_t drain(std::vector<uint32_t>& out, uint32_t max = 64) {
    std::vector<uint8_t> buffer(64 * 2048);
    std::vector<uint32_t> offsets(64), lengths(64);
    PacketBatchView view{buffer.data(), offsets.data(), lengths.data(), 64, static_cast<uint32_t>(buffer.size()), 0, 0, 0, 0};
    const uint32_t n = inbound.drainInto(view, max);
    for (uint32_t i = 0; i < n; ++i) out.push_back(seqOf(buffer.data() + offsets[i]));
    return n;
  }
};

void testReceiveOrderBackpressureAndBatchedWakes() {
  Rig rig(u"cc-receive", 16);
  for (uint32_t i = 0; i < 500; ++i) {
    auto p = packet(i);
    CHECK(fake::inject(rig.name, p.data(), static_cast<uint32_t>(p.size())));
  }
  CHECK(waitUntil([&] { return rig.counters.rxStalls.load() >= 1; }));
  CHECK(fake::state(rig.name).receiveRingPackets == 500 - 16);  // kept in WinTun's ring, not dropped
  std::vector<uint32_t> seqs;
  CHECK(waitUntil([&] {
    rig.drain(seqs);
    return seqs.size() >= 500;
  }));
  bool inOrder = seqs.size() == 500;
  for (uint32_t i = 0; inOrder && i < 500; ++i) inOrder = seqs[i] == i;
  CHECK(inOrder);
  CHECK(rig.counters.rxDropped.load() == 0);
  CHECK(rig.wakes.load() < 500);  // once per batch, not per packet
  CHECK(rig.stop());
  CHECK(fake::state(rig.name).callsAfterEnd == 0);
}

void testSpinFindsAPacketWithoutTheReadEvent() {
  Rig rig(u"cc-spin", 64);
  CHECK(waitUntil([&] { return rig.counters.rxWaits.load() >= 1; }));
  auto late = packet(2);
  CHECK(fake::deferUntilEmptyPolls(rig.name, late.data(), static_cast<uint32_t>(late.size()), 20));
  auto first = packet(1);
  CHECK(fake::inject(rig.name, first.data(), static_cast<uint32_t>(first.size())));
  std::vector<uint32_t> seqs;
  CHECK(waitUntil([&] {
    rig.drain(seqs);
    return seqs.size() >= 2;
  }));
  CHECK(seqs.size() == 2 && seqs[0] == 1 && seqs[1] == 2);
  CHECK(rig.counters.rxSpinHits.load() == 1);
  CHECK(rig.stop());
}

void testCloseDuringReceivePacketAndJoinTimeout() {
  Rig rig(u"cc-close", 64);
  CHECK(waitUntil([&] { return rig.counters.rxWaits.load() >= 1; }));
  CHECK(fake::delayNextReceive(rig.name, 300));
  auto p = packet(7);
  CHECK(fake::inject(rig.name, p.data(), static_cast<uint32_t>(p.size())));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  // Inside ReceivePacket: a short join times out (and must keep everything alive), a long one succeeds.
  rig.stopping.store(true);
  rig.api.setEvent(rig.quit);
  CHECK(!rig.receiver.join(10));
  CHECK(rig.receiver.join(5000));
  CHECK(rig.stop());
  CHECK(fake::state(rig.name).callsAfterEnd == 0);
  CHECK(!fake::state(rig.name).sessionActive);
}

void testSendOverflowQueueAndRecovery() {
  Rig rig(u"cc-send", 64, 200000);
  uint32_t accepted = 0;
  for (;;) {
    auto p = packet(accepted, 1000);
    if (!rig.sender.send(p.data(), static_cast<uint32_t>(p.size()))) break;
    ++accepted;
  }
  CHECK(accepted == 131072 / 1004 + 16);
  CHECK(!rig.sender.hasSpaceOrNotify());
  std::vector<uint32_t> seqs;
  CHECK(waitUntil([&] {
    for (auto& sent : fake::takeSent(rig.name, 1000)) seqs.push_back(seqOf(sent.data()));
    return seqs.size() >= accepted;
  }));
  bool inOrder = seqs.size() == accepted;
  for (uint32_t i = 0; inOrder && i < accepted; ++i) inOrder = seqs[i] == i;
  CHECK(inOrder);
  CHECK(rig.wakes.load() >= 1);  // JS was told about the space
  CHECK(rig.counters.txDropped.load() == 0);
  CHECK(rig.stop());
}

// The adapter removed under a running session: the receive thread records the end (WinTun's
// ERROR_HANDLE_EOF from ReceivePacket), wakes JS and stops; a send after it is taken and counted,
// never refused, and the first cause stays.
void testAdapterRemovedEndsTheDevice() {
  Rig rig(u"cc-end", 64);
  CHECK(waitUntil([&] { return rig.counters.rxWaits.load() >= 1; }));
  const int wakesBefore = rig.wakes.load();
  CHECK(!rig.end.ended());
  CHECK(fake::terminate(rig.name));
  CHECK(waitUntil([&] { return rig.end.ended(); }));
  CHECK(waitUntil([&] { return rig.wakes.load() > wakesBefore; }));
  const std::optional<WinError> endedBy = rig.end.endedBy();
  CHECK(endedBy && endedBy->code() == win32_error::kHandleEof && endedBy->call() == "WintunReceivePacket");
  auto p = packet(1);
  CHECK(rig.sender.send(p.data(), static_cast<uint32_t>(p.size())));
  CHECK(rig.counters.txDropped.load() == 1);
  CHECK(rig.end.endedBy()->call() == "WintunReceivePacket");  // the first cause is kept
  CHECK(rig.stop());
  CHECK(fake::state(rig.name).callsAfterEnd == 0);
}

// AllocateSendPacket answering ERROR_HANDLE_EOF (the adapter terminating, seen by a send before the
// receive thread noticed) ends the device from the send path too: recorded, JS woken, the packet
// taken and counted.
void testSendEofEndsTheDevice() {
  Rig rig(u"cc-send-end", 64);
  const int wakesBefore = rig.wakes.load();
  fake::failNext("WintunAllocateSendPacket", win32_error::kHandleEof);
  auto p = packet(1);
  CHECK(rig.sender.send(p.data(), static_cast<uint32_t>(p.size())));
  CHECK(rig.counters.txDropped.load() == 1);
  const std::optional<WinError> endedBy = rig.end.endedBy();
  CHECK(endedBy && endedBy->code() == win32_error::kHandleEof && endedBy->call() == "WintunAllocateSendPacket");
  CHECK(rig.wakes.load() > wakesBefore);
  CHECK(rig.stop());
}

}  // namespace

int main() {
  testReceiveOrderBackpressureAndBatchedWakes();
  testSpinFindsAPacketWithoutTheReadEvent();
  testCloseDuringReceivePacketAndJoinTimeout();
  testSendOverflowQueueAndRecovery();
  testAdapterRemovedEndsTheDevice();
  testSendEofEndsTheDevice();
  return tunkit::testing::checkSummary("wintun_thread_test");
}
