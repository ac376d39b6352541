// SessionTable: what the native data plane knows of the peers, shared by the threads that seal
// (TUN queue threads) and open (the UDP receive thread) and by the JS thread that owns it. JS (the
// Engine's sessions, through src/device/data-plane.ts) hands over each peer's endpoint, its
// keypairs with their send counter and replay window, the routes and the settings; the threads
// read them and leave per-peer marks (last sent, last received, bytes) that JS folds into its timers.
//
// Locking: one writer-preferring read-write lock. Device threads hold it shared for the bookkeeping
// of one batch (never across a system call); the JS thread holds it exclusively to change anything,
// so a keypair a thread looked up cannot be freed under it. What threads change under the shared
// lock is atomic (send counters, marks) or has its own mutex (a replay window, an endpoint).
// Plain C++, no N-API.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <tunkit/packet_port.hh>

#include "replay_window.hh"
#include "route_table.hh"

namespace tunkit::wireguard {

/** Why the data plane dropped something: the JS Engine's DropReason names, for these. */
enum class DataPlaneDrop : uint32_t {
  Malformed,
  UnknownIndex,
  DecryptFailed,
  Replayed,
  ExpiredKeypair,
  BadInnerPacket,
  InnerPacketTooBig,
  CounterLimit,
  DisallowedSource,
  PeerToPeer,
  StandingQueue,
  Count
};

/** Monotonic nanoseconds (CLOCK_MONOTONIC, the clock of JS's performance.now()). */
inline int64_t monotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline constexpr int64_t kNever = INT64_MIN;

/** One keypair's data-plane state. Its keys never change; its counter and window do. */
struct KeypairTwin {
  uint32_t localIndex = 0;
  uint32_t remoteIndex = 0;
  uint32_t slot = 0;
  uint8_t sendKey[32] = {};
  uint8_t receiveKey[32] = {};
  int64_t expiresAt = 0;      // REJECT_AFTER_TIME after the keypair was made: no use from then on
  bool receiveHere = false;   // false for a responder's `next`: JS opens its packets and confirms it
  std::atomic<uint64_t> counter{0};  // the next send counter (fetch_add by every sender, JS included)
  std::mutex replayMutex;
  ReplayWindow replay;        // guarded by replayMutex
};

/** A peer's marks, in monotonic ns (kNever: not yet), for JS's timers; counts since the peer was set. */
struct PeerMarks {
  std::atomic<int64_t> lastSent{kNever};
  std::atomic<int64_t> lastReceived{kNever};  // anything authenticated
  std::atomic<int64_t> lastDataReceived{kNever};
  std::atomic<int64_t> unansweredSince{-1};   // first data sent since the last authenticated receive; -1: none
  std::atomic<uint64_t> txBytes{0};
  std::atomic<uint64_t> rxBytes{0};
  std::atomic<uint64_t> dataSent{0};
  std::atomic<uint64_t> dataReceived{0};

  void reset();
  /** After data went out at `now` (`bytes` in datagrams, `packets` of them). Device thread. */
  void sent(int64_t now, uint64_t bytes, uint64_t packets);
  /** After `packets` authenticated datagrams (`bytes`, `data` of them with a payload) came in at `now`. Device thread. */
  void received(int64_t now, uint64_t bytes, uint64_t packets, uint64_t data);
};

struct PeerSlot {
  bool used = false;
  KeypairTwin* sending = nullptr;  // `current`, the keypair to send on; null: none (JS stages)
  std::mutex endpointMutex;
  uint8_t endpoint[TUNKIT_ADDRESS_BYTES] = {};  // guarded by endpointMutex
  bool hasEndpoint = false;                     // guarded by endpointMutex
  std::atomic<uint32_t> endpointChanges{0};     // bumped when a device thread roams it
  PeerMarks marks;
};

/** A keypair as JS hands it over (the baton). */
struct KeypairSpec {
  enum Role : uint8_t { Previous = 0, Current = 1, Next = 2 };
  uint32_t localIndex = 0;
  uint32_t remoteIndex = 0;
  uint8_t sendKey[32] = {};
  uint8_t receiveKey[32] = {};
  double remainingMs = 0;  // until REJECT_AFTER_TIME
  Role role = Previous;
  uint64_t counter = 0;    // the next send counter JS would use
  uint32_t replayBitmap[ReplayWindow::kBlocks] = {};
  double replayLast = -1;
};

class SessionTable {
 public:
  // ---- JS thread (exclusive) ----

  /** Marks `slot` used, with `endpoint` (TUNKIT_ADDRESS_BYTES) or none. */
  void setPeer(uint32_t slot, const uint8_t* endpoint);
  /** Forgets `slot`: its keypairs, endpoint and marks. */
  void removePeer(uint32_t slot);
  /**
   * The peer's keypairs are now `specs`: twins of keypairs it no longer has go; a keypair already
   * known (by local index) keeps its counter and window and takes its new role; a new one starts
   * from the spec's counter and window.
   */
  void setKeypairs(uint32_t slot, const KeypairSpec* specs, uint32_t count);
  void setRoutes(std::shared_ptr<const RouteTable> routes);
  void setSettings(uint32_t mtu, bool allowPeerToPeer, uint64_t rejectAfterMessages);

  // ---- JS thread (shared: the data plane's threads go on meanwhile) ----

  /** The next send counter of keypair `localIndex`, taken; -1 when the data plane does not know it. */
  int64_t takeCounter(uint32_t localIndex);
  /** The keypair's replay window's answer for `counter` (recorded when accepted); false when unknown. */
  bool acceptCounter(uint32_t localIndex, uint64_t counter);
  /** Per slot, kActivityFields numbers (see data_plane_object.cc); returns the slots written. */
  uint32_t activity(double* out, uint32_t capacity, int64_t nowNs);
  static constexpr uint32_t kActivityFields = 12;
  /**
   * Keypair `localIndex`'s next send counter and replay window (as a KeypairSpec carries them),
   * for a data plane that takes over from this one; false when unknown.
   */
  bool exportKeypair(uint32_t localIndex, uint64_t& counter, uint32_t* bitmap, double& last);
  /** JS's timers acted on the first unanswered send (or JS received): the next data sent starts a new wait. */
  void resetUnanswered(uint32_t slot);
  /** The endpoint of `slot` into `out` (TUNKIT_ADDRESS_BYTES); false when none. */
  bool endpointOf(uint32_t slot, uint8_t* out);

  uint64_t drops(DataPlaneDrop reason) const { return drops_[static_cast<uint32_t>(reason)].load(std::memory_order_relaxed); }

  // ---- device threads ----

  /** Holds the lock shared for one batch's bookkeeping; what it gives is valid while it lives. */
  class Reader {
   public:
    explicit Reader(SessionTable& table) : table_(table) { table_.lock_.lock_shared(); }
    ~Reader() { table_.lock_.unlock_shared(); }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    const RouteTable* routes() const { return table_.routes_.get(); }
    PeerSlot* slot(uint32_t slot) const {
      return slot < table_.slots_.size() && table_.slots_[slot]->used ? table_.slots_[slot].get() : nullptr;
    }
    KeypairTwin* keypair(uint32_t localIndex) const {
      auto found = table_.byIndex_.find(localIndex);
      return found == table_.byIndex_.end() ? nullptr : found->second.get();
    }
    uint32_t mtu() const { return table_.mtu_; }
    bool allowPeerToPeer() const { return table_.allowPeerToPeer_; }
    uint64_t rejectAfterMessages() const { return table_.rejectAfterMessages_; }

   private:
    SessionTable& table_;
  };

  void drop(DataPlaneDrop reason, uint64_t count = 1) {
    if (count != 0) drops_[static_cast<uint32_t>(reason)].fetch_add(count, std::memory_order_relaxed);
  }

 private:
  PeerSlot& ensureSlot(uint32_t slot);
  void forgetKeypairsOf(uint32_t slot);

  WriterPreferringLock lock_;
  std::vector<std::unique_ptr<PeerSlot>> slots_;  // a slot's memory never moves or goes while the table lives
  std::unordered_map<uint32_t, std::unique_ptr<KeypairTwin>> byIndex_;
  std::shared_ptr<const RouteTable> routes_ = std::make_shared<RouteTable>();
  uint32_t mtu_ = 1420;
  bool allowPeerToPeer_ = true;
  uint64_t rejectAfterMessages_ = (uint64_t{1} << 53) - (uint64_t{1} << 13);
  std::atomic<uint64_t> drops_[static_cast<uint32_t>(DataPlaneDrop::Count)] = {};
};

}  // namespace tunkit::wireguard
