#include "session_table.hh"

#include <cstring>

namespace tunkit::wireguard {

void PeerMarks::reset() {
  lastSent.store(kNever, std::memory_order_relaxed);
  lastReceived.store(kNever, std::memory_order_relaxed);
  lastDataReceived.store(kNever, std::memory_order_relaxed);
  unansweredSince.store(-1, std::memory_order_relaxed);
  txBytes.store(0, std::memory_order_relaxed);
  rxBytes.store(0, std::memory_order_relaxed);
  dataSent.store(0, std::memory_order_relaxed);
  dataReceived.store(0, std::memory_order_relaxed);
}

void PeerMarks::sent(int64_t now, uint64_t bytes, uint64_t packets) {
  lastSent.store(now, std::memory_order_relaxed);
  int64_t none = -1;
  unansweredSince.compare_exchange_strong(none, now, std::memory_order_relaxed);
  txBytes.fetch_add(bytes, std::memory_order_relaxed);
  dataSent.fetch_add(packets, std::memory_order_relaxed);
}

void PeerMarks::received(int64_t now, uint64_t bytes, uint64_t packets, uint64_t data) {
  lastReceived.store(now, std::memory_order_relaxed);
  unansweredSince.store(-1, std::memory_order_relaxed);
  if (data != 0) {
    lastDataReceived.store(now, std::memory_order_relaxed);
    dataReceived.fetch_add(data, std::memory_order_relaxed);
  }
  rxBytes.fetch_add(bytes, std::memory_order_relaxed);
  (void)packets;
}

PeerSlot& SessionTable::ensureSlot(uint32_t slot) {
  while (slots_.size() <= slot) slots_.push_back(std::make_unique<PeerSlot>());
  return *slots_[slot];
}

void SessionTable::forgetKeypairsOf(uint32_t slot) {
  for (auto it = byIndex_.begin(); it != byIndex_.end();) {
    if (it->second->slot == slot) it = byIndex_.erase(it);
    else ++it;
  }
  if (slot < slots_.size()) slots_[slot]->sending = nullptr;
}

void SessionTable::setPeer(uint32_t slot, const uint8_t* endpoint) {
  lock_.lock();
  PeerSlot& peer = ensureSlot(slot);
  if (!peer.used) peer.marks.reset();
  peer.used = true;
  {
    std::lock_guard<std::mutex> guard(peer.endpointMutex);
    peer.hasEndpoint = endpoint != nullptr;
    if (endpoint != nullptr) std::memcpy(peer.endpoint, endpoint, TUNKIT_ADDRESS_BYTES);
  }
  lock_.unlock();
}

void SessionTable::removePeer(uint32_t slot) {
  lock_.lock();
  if (slot < slots_.size()) {
    forgetKeypairsOf(slot);
    PeerSlot& peer = *slots_[slot];
    peer.used = false;
    std::lock_guard<std::mutex> guard(peer.endpointMutex);
    peer.hasEndpoint = false;
  }
  lock_.unlock();
}

void SessionTable::setKeypairs(uint32_t slot, const KeypairSpec* specs, uint32_t count) {
  const int64_t now = monotonicNs();
  lock_.lock();
  PeerSlot& peer = ensureSlot(slot);
  // Twins of keypairs the peer no longer has go; the others stay (counters, windows).
  for (auto it = byIndex_.begin(); it != byIndex_.end();) {
    bool kept = false;
    for (uint32_t i = 0; i < count && !kept; ++i) kept = specs[i].localIndex == it->first;
    if (it->second->slot == slot && !kept) it = byIndex_.erase(it);
    else ++it;
  }
  peer.sending = nullptr;
  for (uint32_t i = 0; i < count; ++i) {
    const KeypairSpec& spec = specs[i];
    auto found = byIndex_.find(spec.localIndex);
    if (found != byIndex_.end() && found->second->slot != slot) {
      byIndex_.erase(found);  // an index that moved to another peer is a new keypair
      found = byIndex_.end();
    }
    KeypairTwin* twin;
    if (found == byIndex_.end()) {
      auto made = std::make_unique<KeypairTwin>();
      made->localIndex = spec.localIndex;
      made->remoteIndex = spec.remoteIndex;
      made->slot = slot;
      std::memcpy(made->sendKey, spec.sendKey, 32);
      std::memcpy(made->receiveKey, spec.receiveKey, 32);
      made->expiresAt = now + static_cast<int64_t>(spec.remainingMs * 1e6);
      made->counter.store(spec.counter, std::memory_order_relaxed);
      made->replay.restore(spec.replayBitmap, spec.replayLast);
      twin = made.get();
      byIndex_.emplace(spec.localIndex, std::move(made));
    } else {
      twin = found->second.get();
    }
    twin->receiveHere = spec.role != KeypairSpec::Next;
    if (spec.role == KeypairSpec::Current) peer.sending = twin;
  }
  lock_.unlock();
}

void SessionTable::setRoutes(std::shared_ptr<const RouteTable> routes) {
  lock_.lock();
  routes_ = std::move(routes);
  lock_.unlock();
}

void SessionTable::setSettings(uint32_t mtu, bool allowPeerToPeer, uint64_t rejectAfterMessages) {
  lock_.lock();
  mtu_ = mtu;
  allowPeerToPeer_ = allowPeerToPeer;
  rejectAfterMessages_ = rejectAfterMessages;
  lock_.unlock();
}

int64_t SessionTable::takeCounter(uint32_t localIndex) {
  Reader reader(*this);
  KeypairTwin* twin = reader.keypair(localIndex);
  return twin == nullptr ? -1 : static_cast<int64_t>(twin->counter.fetch_add(1, std::memory_order_relaxed));
}

bool SessionTable::acceptCounter(uint32_t localIndex, uint64_t counter) {
  Reader reader(*this);
  KeypairTwin* twin = reader.keypair(localIndex);
  if (twin == nullptr) return false;
  std::lock_guard<std::mutex> guard(twin->replayMutex);
  return twin->replay.accept(counter);
}

bool SessionTable::exportKeypair(uint32_t localIndex, uint64_t& counter, uint32_t* bitmap, double& last) {
  Reader reader(*this);
  KeypairTwin* twin = reader.keypair(localIndex);
  if (twin == nullptr) return false;
  counter = twin->counter.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> guard(twin->replayMutex);
  twin->replay.save(bitmap, last);
  return true;
}

void SessionTable::resetUnanswered(uint32_t slot) {
  Reader reader(*this);
  PeerSlot* peer = reader.slot(slot);
  if (peer != nullptr) peer->marks.unansweredSince.store(-1, std::memory_order_relaxed);
}

bool SessionTable::endpointOf(uint32_t slot, uint8_t* out) {
  Reader reader(*this);
  PeerSlot* peer = reader.slot(slot);
  if (peer == nullptr) return false;
  std::lock_guard<std::mutex> guard(peer->endpointMutex);
  if (!peer->hasEndpoint) return false;
  std::memcpy(out, peer->endpoint, TUNKIT_ADDRESS_BYTES);
  return true;
}

// Per slot: used, lastSent, lastReceived, lastDataReceived, unansweredSince (ms ago; -1 none; NaN
// never), txBytes, rxBytes, dataSent, dataReceived, endpointChanges, counter of `sending` (-1: none), spare.
uint32_t SessionTable::activity(double* out, uint32_t capacity, int64_t nowNs) {
  Reader reader(*this);
  const auto ago = [nowNs](int64_t at) { return at == kNever ? -1.0 : static_cast<double>(nowNs - at) / 1e6; };
  uint32_t n = 0;
  for (; n < slots_.size() && n < capacity; ++n) {
    double* row = out + size_t{n} * kActivityFields;
    const PeerSlot& peer = *slots_[n];
    const PeerMarks& m = peer.marks;
    const int64_t unanswered = m.unansweredSince.load(std::memory_order_relaxed);
    row[0] = peer.used ? 1 : 0;
    row[1] = ago(m.lastSent.load(std::memory_order_relaxed));
    row[2] = ago(m.lastReceived.load(std::memory_order_relaxed));
    row[3] = ago(m.lastDataReceived.load(std::memory_order_relaxed));
    row[4] = unanswered < 0 ? -1.0 : ago(unanswered);
    row[5] = static_cast<double>(m.txBytes.load(std::memory_order_relaxed));
    row[6] = static_cast<double>(m.rxBytes.load(std::memory_order_relaxed));
    row[7] = static_cast<double>(m.dataSent.load(std::memory_order_relaxed));
    row[8] = static_cast<double>(m.dataReceived.load(std::memory_order_relaxed));
    row[9] = static_cast<double>(peer.endpointChanges.load(std::memory_order_relaxed));
    row[10] = peer.sending == nullptr ? -1.0 : static_cast<double>(peer.sending->counter.load(std::memory_order_relaxed));
    row[11] = 0;
  }
  return n;
}

}  // namespace tunkit::wireguard
