// Packet ports: how a packet processor in one addon (wireguard's native data plane) joins the
// native threads of a device in another (tun-linux's queue threads, the UDP socket's receive
// thread) without either addon linking the other. A device offers a port: `write` puts packets
// into the device from whatever thread calls it, and `attach` hands the device a processor that
// its own threads call with every batch they read, before anything goes to JS. What the processor
// does not take goes to JS as before, so a device works the same with or without one.
//
// The structs are plain C (one ABI, checked by `abi`), passed between addons inside a tagged JS
// external (packet_port_js.hh), so a value from elsewhere is refused rather than misread.
// Header-only, no N-API: thread code includes it; both sides include this same file.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>

extern "C" {

/** Bumped on any change to the structs below: a port and a processor must agree on it. */
#define TUNKIT_PORT_ABI 2u

/** A device of IP packets (a TUN) or of UDP datagrams (a socket), for `kind`. */
#define TUNKIT_PORT_TUN 1u
#define TUNKIT_PORT_UDP 2u

/**
 * Bytes of an address in tunkit's UDP form: [family 4|6, 0, port hi, port lo, 16 address bytes
 * (IPv4 in the first 4, zeros after), IPv6 scope id (4 bytes, host order; 0 but for link-local)].
 */
#define TUNKIT_ADDRESS_BYTES 24u

/**
 * A batch of packets in one buffer: packet i is lengths[i] bytes at buffer + offsets[i], with at
 * least `headroom` free bytes before it and `tailroom` after it (a processor may write there,
 * e.g. a header and a tag, and change offsets[i] and lengths[i] to match). For UDP, `addresses`
 * holds each datagram's peer (its sender when read, its destination when written), TUNKIT_ADDRESS_BYTES each.
 */
struct tunkit_packets {
  uint8_t* buffer;
  uint32_t* offsets;
  uint32_t* lengths;
  uint8_t* addresses;
  uint32_t count;
  uint32_t headroom;
  uint32_t tailroom;
  /**
   * When the batch's first packet was there, in CLOCK_MONOTONIC nanoseconds, as well as the device
   * knows it: the kernel's receive timestamp of a UDP datagram, or when a TUN queue thread woke up
   * for it (0: unknown). For tracing a packet's path, and for the time packets wait in a queue.
   */
  int64_t readyAt;
};

/** A processor, offered by the addon that processes (the data plane), called by a device's threads. */
struct tunkit_processor {
  uint32_t abi;
  void* context;
  /** Room the processor needs around each packet it is given. */
  uint32_t headroom;
  uint32_t tailroom;
  /**
   * On device thread `thread` (a TUN queue's index; a UDP receive thread's index): `packets` were
   * just read. Sets taken[i] = 1 for each packet it handled (the device then forgets it); the
   * others go to JS as if no processor were attached. Must not block for long: the device reads
   * nothing meanwhile.
   */
  void (*fromDevice)(void* context, uint32_t thread, struct tunkit_packets* packets, uint8_t* taken);
};

/** A device's port, offered by the device's addon. */
struct tunkit_device_port {
  uint32_t abi;
  uint32_t kind;
  void* device;
  /**
   * Puts packets [0, count) into the device now, from the calling thread (any thread): a TUN
   * writes them to the kernel, a socket sends each datagram to its address. Returns how many were
   * taken; the others were dropped and counted by the device (its queue full too long, the device
   * closed). Never blocks for longer than a bounded wait for space.
   */
  uint32_t (*write)(void* device, const struct tunkit_packets* packets);
  /**
   * Attaches `processor` (nullptr detaches). Returns once no device thread is inside the
   * previous processor's callback and none will enter it again, so its owner may free it. JS thread.
   */
  void (*attach)(void* device, const struct tunkit_processor* processor);
  /** The port stays valid (its calls safe, `write` then dropping) until every retain is released. Any thread. */
  void (*retain)(void* device);
  void (*release)(void* device);
};
}

namespace tunkit {

/**
 * A pthread read-write lock that prefers writers: the JS thread attaching or updating must not
 * wait behind device threads that keep taking the read side back to back (glibc's default lets
 * readers starve a writer). ThreadSanitizer models it.
 */
class WriterPreferringLock {
 public:
  WriterPreferringLock() {
    pthread_rwlockattr_t attributes;
    pthread_rwlockattr_init(&attributes);
#ifdef __GLIBC__
    pthread_rwlockattr_setkind_np(&attributes, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    const int failed = pthread_rwlock_init(&lock_, &attributes);
    pthread_rwlockattr_destroy(&attributes);
    if (failed != 0) throw std::runtime_error("pthread_rwlock_init failed");
  }
  ~WriterPreferringLock() { pthread_rwlock_destroy(&lock_); }
  WriterPreferringLock(const WriterPreferringLock&) = delete;
  WriterPreferringLock& operator=(const WriterPreferringLock&) = delete;

  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }
  void lock() { pthread_rwlock_wrlock(&lock_); }
  void unlock() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

/**
 * The processor attached to a device: its threads call `offer` with each batch they read; the JS
 * thread calls `attach`. Costs one relaxed load per batch while nothing is attached.
 */
class ProcessorSlot {
 public:
  /** Attaches `processor` (nullptr detaches); returns once no thread is inside the old one. JS thread. */
  void attach(const tunkit_processor* processor) {
    if (processor != nullptr && processor->abi != TUNKIT_PORT_ABI) throw std::invalid_argument("packet processor ABI mismatch");
    lock_.lock();
    current_ = processor;
    attached_.store(processor != nullptr, std::memory_order_release);
    lock_.unlock();
  }

  bool attached() const { return attached_.load(std::memory_order_acquire); }

  /** Room the attached processor wants around packets (0 when none). Device thread, between batches. */
  void room(uint32_t& headroom, uint32_t& tailroom) {
    lock_.lock_shared();
    headroom = current_ ? current_->headroom : 0;
    tailroom = current_ ? current_->tailroom : 0;
    lock_.unlock_shared();
  }

  /** Offers `packets` to the processor; false (nothing taken) when none is attached. Device thread. */
  bool offer(uint32_t thread, tunkit_packets& packets, uint8_t* taken) {
    if (!attached()) return false;
    lock_.lock_shared();
    const tunkit_processor* processor = current_;
    if (processor != nullptr) processor->fromDevice(processor->context, thread, &packets, taken);
    lock_.unlock_shared();
    return processor != nullptr;
  }

 private:
  WriterPreferringLock lock_;
  const tunkit_processor* current_ = nullptr;  // guarded by lock_
  std::atomic<bool> attached_{false};
};

/**
 * One counted reference to a port, released on destruction. Any thread. The port's device
 * decides what retain/release keep alive (at least the port struct and what its calls touch).
 */
class PortRef {
 public:
  PortRef() = default;
  explicit PortRef(const tunkit_device_port* port) : port_(port) {
    if (port_ != nullptr) port_->retain(port_->device);
  }
  ~PortRef() { reset(); }
  PortRef(const PortRef&) = delete;
  PortRef& operator=(const PortRef&) = delete;
  PortRef(PortRef&& other) noexcept : port_(other.port_) { other.port_ = nullptr; }

  void reset() {
    if (port_ != nullptr) port_->release(port_->device);
    port_ = nullptr;
  }
  const tunkit_device_port* get() const { return port_; }
  const tunkit_device_port* operator->() const { return port_; }
  explicit operator bool() const { return port_ != nullptr; }

 private:
  const tunkit_device_port* port_ = nullptr;
};

}  // namespace tunkit
