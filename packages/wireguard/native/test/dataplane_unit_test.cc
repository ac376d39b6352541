// Tests of the native data plane's plain C++ (native/dataplane), built twice: with AddressSanitizer
// + UndefinedBehaviorSanitizer, and with ThreadSanitizer (the concurrency test then checks the
// locking: sealing threads, opening threads and the JS thread rotating keypairs at once, with no
// send counter used twice). The AEAD is a stand-in (a keyed stream and a keyed checksum tag: a
// wrong key, counter or byte fails it), so the tests need no OpenSSL; the real cipher is tested
// from JS and against wireguard-go. The ports are fakes over tun-core's real ProcessorSlot.
#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <tunkit/packet_port.hh>

#include "check.hh"

#include "../dataplane/codel.hh"
#include "../dataplane/data_plane.hh"
#include "../dataplane/replay_window.hh"
#include "../dataplane/route_table.hh"
#include "../dataplane/session_table.hh"
#include "../dataplane/transport.hh"

using namespace tunkit;
using namespace tunkit::wireguard;

namespace {

/** A stand-in AEAD: XOR with a stream of key, counter and position; the tag a keyed checksum of all three and the ciphertext. */
class FakeAead final : public Aead {
 public:
  static uint8_t stream(const uint8_t* key, uint64_t counter, uint32_t i) {
    return static_cast<uint8_t>(key[i % 32] ^ (counter >> (8 * (i % 8))) ^ (i * 131u));
  }
  static void tag(const AeadJob& job, uint8_t out[16]) {
    uint64_t a = 1469598103934665603ull ^ job.counter;
    uint64_t b = 1099511628211ull;
    for (int i = 0; i < 32; ++i) a = (a ^ job.key[i]) * 1099511628211ull;
    for (uint32_t i = 0; i < job.length; ++i) {
      a = (a ^ job.body[i]) * 1099511628211ull;
      b = (b + a) * 6364136223846793005ull;
    }
    std::memcpy(out, &a, 8);
    std::memcpy(out + 8, &b, 8);
  }
  void seal(const AeadJob* jobs, uint32_t count) override {
    for (uint32_t j = 0; j < count; ++j) {
      for (uint32_t i = 0; i < jobs[j].length; ++i) jobs[j].body[i] ^= stream(jobs[j].key, jobs[j].counter, i);
      tag(jobs[j], jobs[j].body + jobs[j].length);
    }
  }
  void open(const AeadJob* jobs, uint32_t count, uint8_t* ok) override {
    for (uint32_t j = 0; j < count; ++j) {
      uint8_t expected[16];
      tag(jobs[j], expected);
      ok[j] = std::memcmp(expected, jobs[j].body + jobs[j].length, 16) == 0;
      if (ok[j])
        for (uint32_t i = 0; i < jobs[j].length; ++i) jobs[j].body[i] ^= stream(jobs[j].key, jobs[j].counter, i);
    }
  }
};

FakeAead aead;

/** A device port that records what is written to it, and offers batches to its processor like a device thread. */
struct FakePort {
  tunkit_device_port port{};
  ProcessorSlot slot;
  std::mutex mutex;
  std::vector<std::vector<uint8_t>> written;
  std::vector<std::array<uint8_t, TUNKIT_ADDRESS_BYTES>> addresses;
  std::atomic<int> refs{0};

  explicit FakePort(uint32_t kind) {
    port.abi = TUNKIT_PORT_ABI;
    port.kind = kind;
    port.device = this;
    port.write = [](void* self, const tunkit_packets* p) {
      auto* me = static_cast<FakePort*>(self);
      std::lock_guard<std::mutex> guard(me->mutex);
      for (uint32_t i = 0; i < p->count; ++i) {
        me->written.emplace_back(p->buffer + p->offsets[i], p->buffer + p->offsets[i] + p->lengths[i]);
        std::array<uint8_t, TUNKIT_ADDRESS_BYTES> a{};
        if (p->addresses) std::memcpy(a.data(), p->addresses + size_t{i} * TUNKIT_ADDRESS_BYTES, TUNKIT_ADDRESS_BYTES);
        me->addresses.push_back(a);
      }
      return p->count;
    };
    port.attach = [](void* self, const tunkit_processor* processor) { static_cast<FakePort*>(self)->slot.attach(processor); };
    port.retain = [](void* self) { ++static_cast<FakePort*>(self)->refs; };
    port.release = [](void* self) { --static_cast<FakePort*>(self)->refs; };
  }

  std::vector<std::vector<uint8_t>> take() {
    std::lock_guard<std::mutex> guard(mutex);
    addresses.clear();
    return std::move(written);
  }
};

/** A batch of packets with room around each, as a device thread hands them to a processor. */
struct Batch {
  static constexpr uint32_t kStride = 2048;
  std::vector<uint8_t> bytes;
  std::vector<uint32_t> offsets, lengths;
  std::vector<uint8_t> addresses, taken;
  uint32_t count = 0;

  explicit Batch(uint32_t capacity)
      : bytes(size_t{capacity} * kStride), offsets(capacity), lengths(capacity), addresses(size_t{capacity} * TUNKIT_ADDRESS_BYTES), taken(capacity) {}

  void add(const std::vector<uint8_t>& packet, const uint8_t* from = nullptr) {
    offsets[count] = count * kStride + 64;
    lengths[count] = static_cast<uint32_t>(packet.size());
    std::memcpy(bytes.data() + offsets[count], packet.data(), packet.size());
    if (from) std::memcpy(addresses.data() + size_t{count} * TUNKIT_ADDRESS_BYTES, from, TUNKIT_ADDRESS_BYTES);
    ++count;
  }
  tunkit_packets packets() {
    std::fill(taken.begin(), taken.end(), 0);
    return tunkit_packets{bytes.data(), offsets.data(), lengths.data(), addresses.data(), count, 64, 64, 0};
  }
};

/** An IPv4 packet of `length` bytes (UDP, payload `fill`) from `source` to `destination`. */
std::vector<uint8_t> ipv4(const std::array<uint8_t, 4>& source, const std::array<uint8_t, 4>& destination, uint32_t length,
                          uint8_t fill = 0xab) {
  std::vector<uint8_t> p(length, fill);
  p[0] = 0x45;
  p[1] = 0;
  p[2] = static_cast<uint8_t>(length >> 8);
  p[3] = static_cast<uint8_t>(length);
  p[9] = 17;
  std::memcpy(p.data() + 12, source.data(), 4);
  std::memcpy(p.data() + 16, destination.data(), 4);
  return p;
}

const std::array<uint8_t, 4> kA{10, 0, 0, 1};
const std::array<uint8_t, 4> kB{10, 0, 0, 2};
const std::array<uint8_t, 4> kC{10, 0, 0, 3};
const uint8_t kEndpointB[TUNKIT_ADDRESS_BYTES] = {4, 0, 0xca, 0x6c, 192, 0, 2, 2};
const uint8_t kEndpointA[TUNKIT_ADDRESS_BYTES] = {4, 0, 0xca, 0x6d, 192, 0, 2, 1};
const uint8_t kRoamed[TUNKIT_ADDRESS_BYTES] = {4, 0, 0x12, 0x34, 198, 51, 100, 7};

KeypairSpec spec(uint32_t local, uint32_t remote, uint8_t sendKey, uint8_t receiveKey, KeypairSpec::Role role, uint64_t counter = 0,
                 double remainingMs = 180000) {
  KeypairSpec s;
  s.localIndex = local;
  s.remoteIndex = remote;
  std::memset(s.sendKey, sendKey, 32);
  std::memset(s.receiveKey, receiveKey, 32);
  s.role = role;
  s.counter = counter;
  s.remainingMs = remainingMs;
  return s;
}

std::shared_ptr<RouteTable> routes(std::initializer_list<std::pair<std::array<uint8_t, 4>, uint32_t>> hosts) {
  auto table = std::make_shared<RouteTable>();
  for (const auto& [address, slot] : hosts) table->insert(address.data(), 4, 32, slot);
  return table;
}

uint64_t counterOf(const std::vector<uint8_t>& datagram) {
  return uint64_t{readU32(datagram.data() + 8)} | (uint64_t{readU32(datagram.data() + 12)} << 32);
}

// ---- tests ----

void testReplayWindowAgreesWithAModel() {
  ReplayWindow w;
  CHECK(w.accept(0));
  CHECK(!w.accept(0));
  CHECK(w.accept(20000));
  CHECK(w.accept(20000 - ReplayWindow::kWindow));
  CHECK(!w.accept(20000 - ReplayWindow::kWindow - 1));
  CHECK(w.accept(19999));
  CHECK(!w.accept(19999));
  CHECK(!w.accept(ReplayWindow::kMaxCounter));
  std::mt19937 random(7);
  for (int run = 0; run < 300; ++run) {
    ReplayWindow window;
    std::set<uint64_t> seen;
    int64_t highest = -1;
    for (int i = 0; i < 400; ++i) {
      const uint64_t c = random() % 40000;
      const bool expected = !seen.count(c) && !(highest - static_cast<int64_t>(c) > static_cast<int64_t>(ReplayWindow::kWindow));
      CHECK(window.accept(c) == expected);
      if (expected) {
        seen.insert(c);
        highest = std::max<int64_t>(highest, static_cast<int64_t>(c));
      }
    }
  }
  // A saved window restores to the same answers (how a keypair moves between data planes).
  ReplayWindow a;
  for (uint64_t c : {3u, 90u, 4000u, 4001u}) a.accept(c);
  uint32_t bitmap[ReplayWindow::kBlocks];
  double last = 0;
  a.save(bitmap, last);
  ReplayWindow b;
  b.restore(bitmap, last);
  CHECK(last == 4001);
  CHECK(!b.accept(90) && !b.accept(4000) && b.accept(91) && b.accept(4002));
  ReplayWindow empty;
  empty.save(bitmap, last);
  CHECK(last == -1);
}

void testRouteTable() {
  RouteTable t;
  const uint8_t net10[4] = {10, 0, 0, 0};
  const uint8_t host[4] = {10, 0, 0, 2};
  const uint8_t other[4] = {192, 168, 1, 1};
  const uint8_t v6[16] = {0xfd, 0x99};
  t.insert(net10, 4, 8, 1);
  t.insert(host, 4, 32, 2);
  t.insert(v6, 16, 64, 3);
  CHECK(t.lookup(host, 4) == 2);
  const uint8_t near[4] = {10, 0, 0, 3};
  CHECK(t.lookup(near, 4) == 1);
  CHECK(t.lookup(other, 4) == RouteTable::kNone);
  uint8_t inside[16] = {0xfd, 0x99, 0, 0, 0, 0, 0, 0, 1};
  CHECK(t.lookup(inside, 16) == 3);
  inside[7] = 1;
  CHECK(t.lookup(inside, 16) == RouteTable::kNone);
  const auto packet = ipv4(kC, kB, 40);
  CHECK(t.lookupPacket(packet.data(), packet.size(), false) == 2);
  CHECK(t.lookupPacket(packet.data(), packet.size(), true) == 1);
  CHECK(t.lookupPacket(packet.data(), 10, true) == RouteTable::kNone);
  RouteTable everything;
  const uint8_t zero[4] = {};
  everything.insert(zero, 4, 0, 5);
  CHECK(everything.lookup(other, 4) == 5);
}

/** Peer A's table: peer B in slot 0, reached at kEndpointB, owning 10.0.0.2. */
void setUpSender(SessionTable& table, uint64_t counter = 5) {
  table.setPeer(0, kEndpointB);
  table.setRoutes(routes({{kB, 0}}));
  const KeypairSpec keypair = spec(7, 9, 0x11, 0x22, KeypairSpec::Current, counter);
  table.setKeypairs(0, &keypair, 1);
}

/** Peer B's table: peer A in slot 0, owning 10.0.0.1 (and B's keypair 9, the mirror of A's 7). */
void setUpReceiver(SessionTable& table, KeypairSpec::Role role = KeypairSpec::Current) {
  table.setPeer(0, kEndpointA);
  table.setRoutes(routes({{kA, 0}}));
  const KeypairSpec keypair = spec(9, 7, 0x22, 0x11, role);
  table.setKeypairs(0, &keypair, 1);
}

void testSealsWhatItCanAndLeavesTheRest() {
  SessionTable table;
  setUpSender(table);
  FakePort tun(TUNKIT_PORT_TUN), udp(TUNKIT_PORT_UDP);
  DataPlane plane(&tun.port, &udp.port, table, aead);
  CHECK(tun.refs == 1 && udp.refs == 1);
  Batch batch(8);
  for (int i = 0; i < 3; ++i) batch.add(ipv4(kA, kB, 100 + i));
  batch.add(ipv4(kA, kC, 60));  // no route: JS's
  auto packets = batch.packets();
  plane.fromTun(0, packets, batch.taken.data());
  CHECK(batch.taken[0] && batch.taken[1] && batch.taken[2] && !batch.taken[3]);
  auto sent = udp.take();
  CHECK(sent.size() == 3);
  for (size_t i = 0; i < sent.size(); ++i) {
    const auto& d = sent[i];
    CHECK(d[0] == 4 && d[1] == 0 && d[2] == 0 && d[3] == 0);
    CHECK(readU32(d.data() + 4) == 9);
    CHECK(counterOf(d) == 5 + i);
    CHECK(d.size() == kTransportHeader + paddedLength(100 + static_cast<uint32_t>(i), 1420) + kTagLength);
  }
  CHECK(table.takeCounter(7) == 8);  // JS's next one comes after the data plane's
  double rows[SessionTable::kActivityFields];
  CHECK(table.activity(rows, 1, monotonicNs()) == 1);
  CHECK(rows[7] == 3 && rows[1] >= 0 && rows[4] >= 0);  // 3 data packets sent; now unanswered
  CHECK(rows[5] == sent[0].size() + sent[1].size() + sent[2].size());
}

void testLeavesPacketsItCannotSeal() {
  FakePort tun(TUNKIT_PORT_TUN), udp(TUNKIT_PORT_UDP);
  const auto packet = ipv4(kA, kB, 80);
  const auto tryOne = [&](SessionTable& table) {
    DataPlane plane(&tun.port, &udp.port, table, aead);
    Batch batch(1);
    batch.add(packet);
    auto packets = batch.packets();
    plane.fromTun(0, packets, batch.taken.data());
    return batch.taken[0] == 1;
  };
  {
    SessionTable noKeypair;
    noKeypair.setPeer(0, kEndpointB);
    noKeypair.setRoutes(routes({{kB, 0}}));
    CHECK(!tryOne(noKeypair));
  }
  {
    SessionTable onlyNext;
    onlyNext.setPeer(0, kEndpointB);
    onlyNext.setRoutes(routes({{kB, 0}}));
    const KeypairSpec next = spec(7, 9, 1, 2, KeypairSpec::Next);
    onlyNext.setKeypairs(0, &next, 1);
    CHECK(!tryOne(onlyNext));  // a responder never sends on `next`
  }
  {
    SessionTable expired;
    setUpSender(expired);
    const KeypairSpec old = spec(7, 9, 0x11, 0x22, KeypairSpec::Current, 0, 0);
    expired.setKeypairs(0, &old, 1);  // known index: keeps its expiry... so forget it first
    expired.setKeypairs(0, nullptr, 0);
    expired.setKeypairs(0, &old, 1);
    CHECK(!tryOne(expired));
  }
  {
    SessionTable noEndpoint;
    setUpSender(noEndpoint);
    noEndpoint.setPeer(0, nullptr);
    CHECK(!tryOne(noEndpoint));
  }
  {
    SessionTable spent;
    setUpSender(spent, 100);
    spent.setSettings(1420, true, 100);  // REJECT_AFTER_MESSAGES reached
    CHECK(!tryOne(spent));
  }
  CHECK(udp.take().empty());
}

/** Seals `packets` on a sender table and returns the datagrams. */
std::vector<std::vector<uint8_t>> sealed(SessionTable& sender, const std::vector<std::vector<uint8_t>>& packets) {
  FakePort tun(TUNKIT_PORT_TUN), udp(TUNKIT_PORT_UDP);
  DataPlane plane(&tun.port, &udp.port, sender, aead);
  Batch batch(static_cast<uint32_t>(packets.size()));
  for (const auto& p : packets) batch.add(p);
  auto view = batch.packets();
  plane.fromTun(0, view, batch.taken.data());
  return udp.take();
}

/** Offers `datagrams` (all from `from`) to a receiver's data plane; returns what it wrote to the TUN, and the taken flags. */
std::vector<std::vector<uint8_t>> opened(SessionTable& receiver, const std::vector<std::vector<uint8_t>>& datagrams, const uint8_t* from,
                                         std::vector<uint8_t>* taken = nullptr) {
  FakePort tun(TUNKIT_PORT_TUN), udp(TUNKIT_PORT_UDP);
  DataPlane plane(&tun.port, &udp.port, receiver, aead);
  Batch batch(static_cast<uint32_t>(datagrams.size()) + 1);
  for (const auto& d : datagrams) batch.add(d, from);
  auto view = batch.packets();
  plane.fromUdp(0, view, batch.taken.data());
  if (taken) taken->assign(batch.taken.begin(), batch.taken.begin() + datagrams.size());
  return tun.take();
}

void testOpensWhatTheSenderSealed() {
  SessionTable a, b;
  setUpSender(a);
  setUpReceiver(b);
  const std::vector<std::vector<uint8_t>> packets = {ipv4(kA, kB, 100), ipv4(kA, kB, 1420), ipv4(kA, kB, 21)};
  const auto datagrams = sealed(a, packets);
  std::vector<uint8_t> taken;
  const auto delivered = opened(b, datagrams, kRoamed, &taken);
  CHECK(delivered == packets);  // byte for byte, without the padding
  CHECK(taken == std::vector<uint8_t>(3, 1));
  uint8_t endpoint[TUNKIT_ADDRESS_BYTES];
  CHECK(b.endpointOf(0, endpoint) && std::memcmp(endpoint, kRoamed, TUNKIT_ADDRESS_BYTES) == 0);  // roamed
  double rows[SessionTable::kActivityFields];
  b.activity(rows, 1, monotonicNs());
  CHECK(rows[8] == 3 && rows[9] == 1 && rows[2] >= 0 && rows[3] >= 0 && rows[4] == -1);
  // The same datagrams again: replays, dropped and counted, nothing written.
  CHECK(opened(b, datagrams, kRoamed).empty());
  CHECK(b.drops(DataPlaneDrop::Replayed) == 3);
  // JS's window is the same one: it refuses them too, and takes a new counter once.
  CHECK(!b.acceptCounter(9, 5) && b.acceptCounter(9, 4) && !b.acceptCounter(9, 4));
}

void testDropsWhatFailsAndLeavesHandshakes() {
  SessionTable a, b;
  setUpSender(a);
  setUpReceiver(b);
  auto good = sealed(a, {ipv4(kA, kB, 64)})[0];
  auto tampered = good;
  tampered[20] ^= 1;
  auto spoofed = sealed(a, {ipv4(kC, kB, 64)})[0];  // inner source 10.0.0.3: not A's
  auto unknown = good;
  writeU32(unknown.data() + 4, 12345);
  auto malformed = std::vector<uint8_t>(good.begin(), good.begin() + 20);
  std::vector<uint8_t> initiation(148, 0);
  initiation[0] = 1;
  std::vector<uint8_t> junk(40, 0);
  junk[0] = 9;
  std::vector<uint8_t> taken;
  const auto delivered = opened(b, {tampered, spoofed, unknown, malformed, initiation, junk, good}, kEndpointA, &taken);
  CHECK(delivered.size() == 1);
  CHECK(taken == (std::vector<uint8_t>{1, 1, 1, 1, 0, 1, 1}));  // only the handshake message is left for JS
  CHECK(b.drops(DataPlaneDrop::DecryptFailed) == 1);
  CHECK(b.drops(DataPlaneDrop::DisallowedSource) == 1);
  CHECK(b.drops(DataPlaneDrop::UnknownIndex) == 1);
  CHECK(b.drops(DataPlaneDrop::Malformed) == 2);
  // Peer-to-peer off: a packet for another peer's address is dropped.
  SessionTable c;
  setUpReceiver(c);
  c.setRoutes(routes({{kA, 0}, {kB, 1}}));
  c.setSettings(1420, false, UINT64_MAX);
  CHECK(opened(c, {good}, kEndpointA).empty());
  CHECK(c.drops(DataPlaneDrop::PeerToPeer) == 1);
  // Over the MTU: dropped.
  SessionTable d;
  setUpReceiver(d);
  d.setSettings(60, true, UINT64_MAX);
  CHECK(opened(d, {good}, kEndpointA).empty());
  CHECK(d.drops(DataPlaneDrop::InnerPacketTooBig) == 1);
}

void testNextIsLeftToJsAndKeepalivesAreNotWritten() {
  SessionTable a, b;
  setUpSender(a);
  setUpReceiver(b, KeypairSpec::Next);
  const auto datagrams = sealed(a, {ipv4(kA, kB, 64)});
  std::vector<uint8_t> taken;
  CHECK(opened(b, datagrams, kEndpointA, &taken).empty());
  CHECK(taken[0] == 0);  // JS opens it and confirms the keypair
  // Once JS made it current (same index: the window stays), the data plane opens it.
  const KeypairSpec current = spec(9, 7, 0x22, 0x11, KeypairSpec::Current);
  b.setKeypairs(0, &current, 1);
  CHECK(opened(b, datagrams, kEndpointA).size() == 1);
  // A keepalive (empty payload) authenticates, counts, and writes nothing.
  std::vector<uint8_t> keepalive(kTransportMin, 0);
  writeTransportHeader(keepalive.data(), 9, 77);
  uint8_t key[32];
  std::memset(key, 0x11, 32);
  const AeadJob job{keepalive.data() + kTransportHeader, 0, 77, key};
  aead.seal(&job, 1);
  std::vector<uint8_t> tk;
  CHECK(opened(b, {keepalive}, kEndpointA, &tk).empty() && tk[0] == 1);
  double rows[SessionTable::kActivityFields];
  b.activity(rows, 1, monotonicNs());
  CHECK(rows[8] == 1);  // only the data packet counts as data
}

void testKeypairsKeepTheirStateAcrossHandOvers() {
  SessionTable t;
  t.setPeer(0, kEndpointB);
  KeypairSpec first = spec(7, 9, 1, 2, KeypairSpec::Current, 10);
  t.setKeypairs(0, &first, 1);
  CHECK(t.takeCounter(7) == 10);
  CHECK(t.acceptCounter(7, 3) && !t.acceptCounter(7, 3));
  // Rotated: 7 becomes previous (counter and window kept, whatever the spec says), 8 current.
  KeypairSpec both[2] = {spec(7, 9, 1, 2, KeypairSpec::Previous, 0), spec(8, 10, 3, 4, KeypairSpec::Current, 0)};
  t.setKeypairs(0, both, 2);
  CHECK(t.takeCounter(7) == 11);
  CHECK(!t.acceptCounter(7, 3));
  CHECK(t.takeCounter(8) == 0);
  // 7 let go: unknown from now on; so is every keypair of a removed peer.
  t.setKeypairs(0, &both[1], 1);
  CHECK(t.takeCounter(7) == -1 && !t.acceptCounter(7, 4));
  t.removePeer(0);
  CHECK(t.takeCounter(8) == -1);
  // The JS window it starts from: counters JS accepted stay accepted.
  KeypairSpec withWindow = spec(20, 21, 1, 2, KeypairSpec::Current);
  ReplayWindow js;
  js.accept(40);
  js.save(withWindow.replayBitmap, withWindow.replayLast);
  t.setPeer(1, kEndpointA);
  t.setKeypairs(1, &withWindow, 1);
  CHECK(!t.acceptCounter(20, 40) && t.acceptCounter(20, 41));
  uint64_t counter = 0;
  double last = 0;
  uint32_t bitmap[ReplayWindow::kBlocks];
  CHECK(t.exportKeypair(20, counter, bitmap, last) && counter == 0 && last == 41);
}

void testCoDelDropsOnlyAStandingQueue() {
  constexpr int64_t ms = 1'000'000;
  {
    CoDel codel;  // a queue that drains each time: never a drop, however long it runs
    for (int64_t t = 1000 * ms; t < 3000 * ms; t += ms) CHECK(!codel.shouldDrop(t - (t % (5 * ms) == 0 ? 10 * ms : 100'000), t));
  }
  {
    CoDel codel;  // no arrival time known: never a drop
    for (int64_t t = 1000 * ms; t < 1200 * ms; t += ms) CHECK(!codel.shouldDrop(0, t));
  }
  {
    CoDel codel;  // 5 ms of standing queue from t = 1 s
    std::vector<int64_t> drops;
    for (int64_t t = 1000 * ms; t < 2000 * ms; t += ms / 4)
      if (codel.shouldDrop(t - 5 * ms, t)) drops.push_back(t);
    CHECK(!drops.empty() && drops.front() >= 1000 * ms + CoDel::kInterval);  // not before a whole interval above target
    CHECK(drops.size() >= 3);
    bool shortening = true;
    for (size_t i = 2; i < drops.size(); ++i) shortening = shortening && drops[i] - drops[i - 1] <= drops[i - 1] - drops[i - 2] + ms / 4;
    CHECK(shortening);  // interval / sqrt(n): ever closer while the queue stands
    // The queue drains: no more drops.
    for (int64_t t = 2000 * ms; t < 2200 * ms; t += ms / 4) CHECK(!codel.shouldDrop(t - ms / 2, t));
  }
}

void testDropsAtTheHeadOfAStandingQueue() {
  SessionTable a, b;
  setUpSender(a);
  setUpReceiver(b);
  FakePort tun(TUNKIT_PORT_TUN), udp(TUNKIT_PORT_UDP);
  DataPlane plane(&tun.port, &udp.port, b, aead);
  std::vector<uint8_t> initiation(148, 0);
  initiation[0] = 1;
  const auto offer = [&](int64_t waited) {
    const auto datagrams = sealed(a, {ipv4(kA, kB, 64), ipv4(kA, kB, 65)});
    Batch batch(3);
    batch.add(initiation, kEndpointA);
    for (const auto& d : datagrams) batch.add(d, kEndpointA);
    auto view = batch.packets();
    view.readyAt = monotonicNs() - waited;
    plane.fromUdp(0, view, batch.taken.data());
    return std::vector<uint8_t>(batch.taken.begin(), batch.taken.begin() + 3);
  };
  CHECK(offer(100'000) == (std::vector<uint8_t>{0, 1, 1}));  // a short wait: all opened
  // Waited 10 ms, batch after batch, for longer than an interval: the head transport datagram goes.
  const int64_t until = monotonicNs() + CoDel::kInterval + 20'000'000;
  while (monotonicNs() < until && b.drops(DataPlaneDrop::StandingQueue) == 0) offer(10'000'000);
  CHECK(b.drops(DataPlaneDrop::StandingQueue) >= 1);
  CHECK(tun.take().size() >= 2 * 1 + 1);  // the second packet of a dropping batch still went through
  CHECK(b.drops(DataPlaneDrop::DecryptFailed) == 0 && b.drops(DataPlaneDrop::Replayed) == 0);
}

void testAttachAndDetach() {
  SessionTable table;
  setUpSender(table);
  FakePort tun(TUNKIT_PORT_TUN), udp(TUNKIT_PORT_UDP);
  {
    DataPlane plane(&tun.port, &udp.port, table, aead);
    CHECK(!tun.slot.attached() && !udp.slot.attached());
    plane.attach();
    CHECK(tun.slot.attached() && udp.slot.attached());
    uint32_t head = 0, tail = 0;
    tun.slot.room(head, tail);
    CHECK(head == kSealHeadroom && tail == kSealTailroom);
    Batch batch(1);
    batch.add(ipv4(kA, kB, 50));
    auto view = batch.packets();
    CHECK(tun.slot.offer(0, view, batch.taken.data()) && batch.taken[0] == 1);
    CHECK(udp.take().size() == 1);
  }
  CHECK(!tun.slot.attached() && !udp.slot.attached());  // detached by the destructor
  CHECK(tun.refs == 0 && udp.refs == 0);                 // and the ports released
}

/**
 * Two sealing threads and two opening threads on the same peer, while the JS thread rotates its
 * keypairs, takes counters and changes routes: under ThreadSanitizer, no race; and whoever took
 * them, no send counter of a keypair is used twice.
 */
void testConcurrentSealingOpeningAndRotation() {
  SessionTable sender, receiver;
  setUpSender(sender, 0);
  setUpReceiver(receiver);
  FakePort tun(TUNKIT_PORT_TUN), udp(TUNKIT_PORT_UDP);
  DataPlane plane(&tun.port, &udp.port, sender, aead);
  FakePort tun2(TUNKIT_PORT_TUN), udp2(TUNKIT_PORT_UDP);
  DataPlane opener(&tun2.port, &udp2.port, receiver, aead);
  plane.attach();
  opener.attach();
  SessionTable source;
  setUpSender(source, 1000000);
  const auto toOpen = sealed(source, std::vector<std::vector<uint8_t>>(32, ipv4(kA, kB, 200)));
  std::mutex jsTakenMutex;
  std::vector<std::pair<uint32_t, uint64_t>> jsTaken;  // (remote index, counter) JS sealed with
  std::vector<std::thread> threads;
  for (uint32_t q = 0; q < 2; ++q) {
    threads.emplace_back([&, q] {
      for (int round = 0; round < 300; ++round) {
        Batch batch(16);  // afresh: sealing changed the bytes in place
        for (int i = 0; i < 16; ++i) batch.add(ipv4(kA, kB, 100 + i));
        auto view = batch.packets();
        tun.slot.offer(q, view, batch.taken.data());
      }
    });
  }
  // Two UDP receive threads (--udp-threads 2) offering the same datagrams: a replay window shared.
  for (uint32_t r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      for (int round = 0; round < 200; ++round) {
        Batch batch(static_cast<uint32_t>(toOpen.size()));
        for (const auto& d : toOpen) batch.add(d, kEndpointA);
        auto view = batch.packets();
        udp2.slot.offer(r, view, batch.taken.data());
      }
    });
  }
  // The JS thread: rotate every so often (new current, the old one kept as previous), take counters like JS's own sends.
  uint32_t index = 7;
  for (int round = 0; round < 60; ++round) {
    const int64_t taken = sender.takeCounter(index);
    if (taken >= 0) {
      std::lock_guard<std::mutex> guard(jsTakenMutex);
      jsTaken.emplace_back(index == 7 ? 9 : index + 100, static_cast<uint64_t>(taken));
    }
    if (round % 10 == 9) {
      const uint32_t next = index + 1;
      KeypairSpec pair[2] = {spec(index, index == 7 ? 9 : index + 100, 0x11, 0x22, KeypairSpec::Previous),
                             spec(next, next + 100, 0x11, 0x22, KeypairSpec::Current)};
      sender.setKeypairs(0, pair, 2);
      index = next;
    }
    if (round % 7 == 0) sender.setRoutes(routes({{kB, 0}}));
    receiver.acceptCounter(9, 999000 + round);  // JS's own opens on the same window, below the data plane's
    std::this_thread::yield();
  }
  for (auto& t : threads) t.join();
  plane.detach();
  opener.detach();
  std::set<std::pair<uint32_t, uint64_t>> used;
  size_t total = 0;
  for (const auto& d : udp.take()) {
    ++total;
    CHECK(used.emplace(readU32(d.data() + 4), counterOf(d)).second);
  }
  for (const auto& t : jsTaken) CHECK(used.emplace(t).second);
  CHECK(total == 2 * 300 * 16);
  CHECK(tun2.take().size() == toOpen.size());  // each counter opened once by either thread, replays dropped
  CHECK(receiver.drops(DataPlaneDrop::Replayed) == toOpen.size() * (2 * 200 - 1));
}

}  // namespace

int main() {
  testReplayWindowAgreesWithAModel();
  testRouteTable();
  testSealsWhatItCanAndLeavesTheRest();
  testLeavesPacketsItCannotSeal();
  testOpensWhatTheSenderSealed();
  testDropsWhatFailsAndLeavesHandshakes();
  testNextIsLeftToJsAndKeepalivesAreNotWritten();
  testKeypairsKeepTheirStateAcrossHandOvers();
  testCoDelDropsOnlyAStandingQueue();
  testDropsAtTheHeadOfAStandingQueue();
  testAttachAndDetach();
  testConcurrentSealingOpeningAndRotation();
  return tunkit::testing::checkSummary("dataplane_unit");
}
