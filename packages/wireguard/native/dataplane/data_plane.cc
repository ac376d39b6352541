// The native data plane (see data_plane.hh). Each call takes one batch through three steps:
// bookkeeping under the table's shared lock (route, keypair, counter or index, the keys copied
// out), the AEAD with no lock held, then (opening) the checks that need the keypair again under
// the lock; the system call that passes the batch on comes last, with no lock held. Nothing is
// allocated per packet: each thread keeps its scratch arrays and grows them only for a larger batch.
#include "data_plane.hh"

#include <cstring>
#include <vector>

namespace tunkit::wireguard {

namespace {

/** A calling thread's scratch, reused batch after batch. */
struct Scratch {
  std::vector<AeadJob> jobs;
  std::vector<uint8_t> keys;          // 32 bytes per distinct key of the batch
  std::vector<uint32_t> packet;       // job i is packet[i] of the batch
  std::vector<uint32_t> localIndex;   // opening: job i's keypair
  std::vector<uint32_t> outOffsets;
  std::vector<uint32_t> outLengths;
  std::vector<uint8_t> outAddresses;  // 20 bytes per datagram
  std::vector<uint8_t> ok;

  void reserve(uint32_t count) {
    if (jobs.size() >= count) return;
    jobs.resize(count);
    keys.resize(size_t{count} * 32);
    packet.resize(count);
    localIndex.resize(count);
    outOffsets.resize(count);
    outLengths.resize(count);
    outAddresses.resize(size_t{count} * TUNKIT_ADDRESS_BYTES);
    ok.resize(count);
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

/** What a run of packets for one peer adds to its marks, folded in once per run. */
struct Tally {
  PeerSlot* peer = nullptr;
  uint64_t bytes = 0;
  uint64_t packets = 0;
  uint64_t data = 0;
};

uint64_t readU64(const uint8_t* p) { return uint64_t{readU32(p)} | (uint64_t{readU32(p + 4)} << 32); }

}  // namespace

DataPlane::DataPlane(const tunkit_device_port* tun, const tunkit_device_port* udp, SessionTable& table, Aead& aead)
    : tun_(tun), udp_(udp), table_(table), aead_(aead) {
  tunProcessor_ = {TUNKIT_PORT_ABI, this, kSealHeadroom, kSealTailroom,
                   [](void* self, uint32_t thread, tunkit_packets* packets, uint8_t* taken) {
                     static_cast<DataPlane*>(self)->fromTun(thread, *packets, taken);
                   }};
  udpProcessor_ = {TUNKIT_PORT_ABI, this, 0, 0, [](void* self, uint32_t thread, tunkit_packets* packets, uint8_t* taken) {
                     static_cast<DataPlane*>(self)->fromUdp(thread, *packets, taken);
                   }};
}

DataPlane::~DataPlane() { detach(); }

// JS thread.
void DataPlane::attach() {
  if (attached_) return;
  attached_ = true;
  udp_->attach(udp_->device, &udpProcessor_);
  tun_->attach(tun_->device, &tunProcessor_);
}

// JS thread.
void DataPlane::detach() {
  if (!attached_) return;
  attached_ = false;
  tun_->attach(tun_->device, nullptr);
  udp_->attach(udp_->device, nullptr);
}

// TUN queue thread.
void DataPlane::fromTun(uint32_t queue, tunkit_packets& packets, uint8_t* taken) {
  Scratch& s = scratch();
  s.reserve(packets.count);
  const int64_t now = monotonicNs();
  uint32_t jobs = 0;
  uint32_t keys = 0;
  {
    SessionTable::Reader reader(table_);
    const RouteTable* routes = reader.routes();
    const uint32_t mtu = reader.mtu();
    const uint64_t limit = reader.rejectAfterMessages();
    // A run of packets to one destination (one flow, mostly) looks its peer up once.
    const uint8_t* lastDestination = nullptr;
    uint32_t lastVersion = 0;
    uint32_t lastSlot = RouteTable::kNone;
    Tally tally;
    const KeypairTwin* keyOf = nullptr;
    uint8_t endpoint[TUNKIT_ADDRESS_BYTES];
    bool hasEndpoint = false;
    const auto flush = [&] {
      if (tally.peer != nullptr && tally.packets != 0) tally.peer->marks.sent(now, tally.bytes, tally.packets);
      tally = Tally{};
    };
    for (uint32_t i = 0; i < packets.count; ++i) {
      uint8_t* packet = packets.buffer + packets.offsets[i];
      const uint32_t length = packets.lengths[i];
      if (length == 0) continue;
      const uint32_t version = packet[0] >> 4;
      const uint8_t* destination = version == 4 && length >= 20 ? packet + 16 : (version == 6 && length >= 40 ? packet + 24 : nullptr);
      if (destination == nullptr) continue;  // JS drops what is not IP ('no-route')
      const uint32_t addressLength = version == 4 ? 4 : 16;
      uint32_t slotIndex;
      if (lastDestination != nullptr && version == lastVersion && std::memcmp(destination, lastDestination, addressLength) == 0) {
        slotIndex = lastSlot;
      } else {
        slotIndex = routes->lookup(destination, addressLength);
        lastDestination = destination;
        lastVersion = version;
        lastSlot = slotIndex;
      }
      PeerSlot* peer = slotIndex == RouteTable::kNone ? nullptr : reader.slot(slotIndex);
      if (peer == nullptr) continue;  // no route: JS counts it
      KeypairTwin* twin = peer->sending;
      if (twin == nullptr || now >= twin->expiresAt) continue;  // JS stages it and starts a handshake
      if (peer != tally.peer) {
        flush();
        tally.peer = peer;
        std::lock_guard<std::mutex> guard(peer->endpointMutex);
        hasEndpoint = peer->hasEndpoint;
        std::memcpy(endpoint, peer->endpoint, TUNKIT_ADDRESS_BYTES);
      }
      if (!hasEndpoint) continue;  // JS counts 'no-endpoint'
      const uint64_t counter = twin->counter.fetch_add(1, std::memory_order_relaxed);
      if (counter >= limit) continue;  // spent: JS stages it and starts a handshake (the counter stays unused)
      if (twin != keyOf) {
        std::memcpy(s.keys.data() + size_t{keys} * 32, twin->sendKey, 32);
        ++keys;
        keyOf = twin;
      }
      const uint32_t padded = paddedLength(length, mtu);
      writeTransportHeader(packet - kTransportHeader, twin->remoteIndex, counter);
      std::memset(packet + length, 0, padded - length);
      s.jobs[jobs] = AeadJob{packet, padded, counter, s.keys.data() + size_t{keys - 1} * 32};
      s.outOffsets[jobs] = packets.offsets[i] - kTransportHeader;
      s.outLengths[jobs] = kTransportHeader + padded + kTagLength;
      std::memcpy(s.outAddresses.data() + size_t{jobs} * TUNKIT_ADDRESS_BYTES, endpoint, TUNKIT_ADDRESS_BYTES);
      taken[i] = 1;
      tally.bytes += s.outLengths[jobs];
      ++tally.packets;
      ++jobs;
    }
    flush();
  }
  if (jobs == 0) return;
  aead_.seal(s.jobs.data(), jobs);
  TraceRing* trace = trace_.load(std::memory_order_acquire);
  const int64_t sealed = trace != nullptr ? monotonicNs() : 0;
  tunkit_packets out{packets.buffer, s.outOffsets.data(), s.outLengths.data(), s.outAddresses.data(), jobs, 0, 0, packets.readyAt};
  udp_->write(udp_->device, &out);
  if (trace != nullptr) trace->record(TraceRing::FromTun, queue, jobs, packets.readyAt, now, sealed, monotonicNs());
}

// UDP receive thread.
void DataPlane::fromUdp(uint32_t thread, tunkit_packets& datagrams, uint8_t* taken) {
  Scratch& s = scratch();
  s.reserve(datagrams.count);
  const int64_t now = monotonicNs();
  uint32_t jobs = 0;
  // A standing queue in the socket: the first transport datagram of this batch goes (codel.hh).
  bool dropHead = codel_[thread % kReceiveThreads].shouldDrop(datagrams.readyAt, now);
  {
    SessionTable::Reader reader(table_);
    const uint64_t limit = reader.rejectAfterMessages();
    const KeypairTwin* keyOf = nullptr;
    uint32_t keys = 0;
    for (uint32_t i = 0; i < datagrams.count; ++i) {
      const uint8_t* d = datagrams.buffer + datagrams.offsets[i];
      const uint32_t length = datagrams.lengths[i];
      if (length >= 1 && d[0] >= 1 && d[0] <= 3) continue;  // handshake messages are JS's
      if (dropHead && length >= kTransportMin && d[0] == 4) {
        dropHead = false;
        table_.drop(DataPlaneDrop::StandingQueue);
        taken[i] = 1;
        continue;
      }
      if (length < kTransportMin || d[0] != 4 || d[1] != 0 || d[2] != 0 || d[3] != 0) {
        table_.drop(DataPlaneDrop::Malformed);
        taken[i] = 1;
        continue;
      }
      const uint32_t index = readU32(d + 4);
      KeypairTwin* twin = reader.keypair(index);
      if (twin == nullptr) {
        table_.drop(DataPlaneDrop::UnknownIndex);
        taken[i] = 1;
        continue;
      }
      if (!twin->receiveHere) continue;  // `next`: JS opens it, and confirms the keypair
      if (now >= twin->expiresAt) {
        table_.drop(DataPlaneDrop::ExpiredKeypair);
        taken[i] = 1;
        continue;
      }
      const uint64_t counter = readU64(d + 8);
      if (counter >= limit) {
        table_.drop(DataPlaneDrop::CounterLimit);
        taken[i] = 1;
        continue;
      }
      if (twin != keyOf) {
        std::memcpy(s.keys.data() + size_t{keys} * 32, twin->receiveKey, 32);
        ++keys;
        keyOf = twin;
      }
      s.jobs[jobs] = AeadJob{datagrams.buffer + datagrams.offsets[i] + kTransportHeader, length - kTransportMin, counter,
                             s.keys.data() + size_t{keys - 1} * 32};
      s.packet[jobs] = i;
      s.localIndex[jobs] = index;
      taken[i] = 1;
      ++jobs;
    }
  }
  if (jobs == 0) return;
  aead_.open(s.jobs.data(), jobs, s.ok.data());
  TraceRing* trace = trace_.load(std::memory_order_acquire);
  const int64_t opened = trace != nullptr ? monotonicNs() : 0;
  uint32_t out = 0;
  {
    SessionTable::Reader reader(table_);
    const RouteTable* routes = reader.routes();
    const uint32_t mtu = reader.mtu();
    const bool peerToPeer = reader.allowPeerToPeer();
    Tally tally;
    const auto flush = [&] {
      if (tally.peer != nullptr && tally.packets != 0) tally.peer->marks.received(now, tally.bytes, tally.packets, tally.data);
      tally = Tally{};
    };
    for (uint32_t j = 0; j < jobs; ++j) {
      if (!s.ok[j]) {
        table_.drop(DataPlaneDrop::DecryptFailed);
        continue;
      }
      KeypairTwin* twin = reader.keypair(s.localIndex[j]);
      if (twin == nullptr) {  // dropped by JS while the batch was being opened
        table_.drop(DataPlaneDrop::UnknownIndex);
        continue;
      }
      {
        std::lock_guard<std::mutex> guard(twin->replayMutex);
        if (!twin->replay.accept(s.jobs[j].counter)) {
          table_.drop(DataPlaneDrop::Replayed);
          continue;
        }
      }
      PeerSlot* peer = reader.slot(twin->slot);
      if (peer == nullptr) continue;
      const uint32_t i = s.packet[j];
      // Roaming: the latest authenticated source is the peer's endpoint from now on.
      const uint8_t* source = datagrams.addresses + size_t{i} * TUNKIT_ADDRESS_BYTES;
      if (peer != tally.peer) {
        flush();
        tally.peer = peer;
      }
      {
        std::lock_guard<std::mutex> guard(peer->endpointMutex);
        if (!peer->hasEndpoint || std::memcmp(peer->endpoint, source, TUNKIT_ADDRESS_BYTES) != 0) {
          std::memcpy(peer->endpoint, source, TUNKIT_ADDRESS_BYTES);
          peer->hasEndpoint = true;
          peer->endpointChanges.fetch_add(1, std::memory_order_relaxed);
        }
      }
      tally.bytes += datagrams.lengths[i];
      ++tally.packets;
      const uint32_t plainLength = s.jobs[j].length;
      if (plainLength == 0) continue;  // keepalive
      const uint8_t* plain = s.jobs[j].body;
      const int64_t total = ipTotalLength(plain, plainLength);
      if (total < 0) {
        table_.drop(DataPlaneDrop::BadInnerPacket);
        continue;
      }
      if (total > mtu) {
        table_.drop(DataPlaneDrop::InnerPacketTooBig);
        continue;
      }
      const auto innerLength = static_cast<uint32_t>(total);
      if (routes->lookupPacket(plain, innerLength, true) != twin->slot) {
        table_.drop(DataPlaneDrop::DisallowedSource);
        continue;
      }
      if (!peerToPeer && routes->lookupPacket(plain, innerLength, false) != RouteTable::kNone) {
        table_.drop(DataPlaneDrop::PeerToPeer);
        continue;
      }
      ++tally.data;
      s.outOffsets[out] = datagrams.offsets[i] + kTransportHeader;
      s.outLengths[out] = innerLength;
      ++out;
    }
    flush();
  }
  if (out != 0) {
    tunkit_packets packets{datagrams.buffer, s.outOffsets.data(), s.outLengths.data(), nullptr, out, 0, 0, datagrams.readyAt};
    tun_->write(tun_->device, &packets);
  }
  if (trace != nullptr) trace->record(TraceRing::FromUdp, thread, jobs, datagrams.readyAt, now, opened, monotonicNs());
}

}  // namespace tunkit::wireguard
