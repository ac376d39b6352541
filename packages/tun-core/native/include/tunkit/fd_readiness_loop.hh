// FdReadinessLoop: moves packets between one non-blocking packet fd (a Darwin utun socket, the
// Android VpnService fd) and JS, driven by readiness on Node's own event loop instead of threads.
// A libuv poll handle watches the fd (kqueue on macOS, epoll on Linux and Android).
//
//   Read:  drain() reads datagrams straight into the PacketBatch memory until EAGAIN or the batch
//          is full. When it finds nothing it arms the poll for READABLE; the poll callback
//          disarms it and calls `wake` once, and JS drains again (one wake-up per batch).
//   Write: send() writes at once when the kernel takes the packet. When the kernel refuses for
//          now (EAGAIN, ENOBUFS, ENOSPC) the packet goes into a small preallocated FIFO and later
//          packets queue behind it, so order is kept; send() refuses (false) only when that FIFO
//          is full. The FIFO is flushed when the poll reports WRITABLE and on a short repeating
//          timer: utun reports a full queue as ENOSPC and never signals readiness for it. If no
//          queued packet can be written for `stallBudgetMs`, the queued packets are dropped and
//          counted (txDropped), never silently, and senders are woken.
//   End:   the device ends by itself (tun-core's tun.ts) when a read fails other than "not now",
//          a write fails as only a gone device fails (EBADFD, EPIPE, ENOTCONN...: deviceGone), or
//          the poll reports the fd disconnected (a utun socket the kernel shut: EOF). The loop
//          records why in its DeviceEnd, stops moving packets (send then drops and counts, so a
//          producer never spins), and wakes JS from a zero-delay timer, never from inside the
//          drain or send that found it; JS reads endedBy and closes the device. This is how
//          Android (EBADFD after the VPN interface is torn down) and macOS report an end.
//   Close: idempotent; stops and closes the libuv handles (freed in their close callbacks, which
//          may run after this object is gone), closes the fd, counts what was still queued.
//
// Every method runs on the JS thread (the thread of the libuv loop); nothing here is thread-safe,
// and nothing needs to be. No Napi types: the N-API glue is fd_device_object.hh.
#pragma once

#include <fcntl.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "device_end.hh"
#include "fd_framing.hh"
#include "os_error.hh"
#include "packet_batch_view.hh"
#include "pending_packets.hh"

namespace tunkit {

struct FdLoopOptions {
  /** Largest packet either way. */
  uint32_t mtu = 1420;
  FdFraming framing = FdFraming::None;
  /** Outbound packets held while the kernel refuses (the bound behind send() returning false). */
  uint32_t pendingPackets = 128;
  /** How often queued packets are retried while the kernel refuses them. */
  uint32_t retryIntervalMs = 1;
  /** How long queued packets may wait without any of them being written before they are dropped. */
  uint32_t stallBudgetMs = 2000;
};

/** The TunQueueStats counters in tun-core's order, then this loop's own. */
struct FdLoopCounters {
  uint64_t rxPackets = 0;
  uint64_t rxBytes = 0;
  uint64_t txPackets = 0;
  uint64_t txBytes = 0;
  uint64_t rxDropped = 0;
  uint64_t txDropped = 0;
  uint64_t rxStalls = 0;
  /** Packets the kernel refused at first and the FIFO took (written later or dropped). */
  uint64_t txDeferred = 0;
  /** Datagrams read that were not packets (bad framing, unknown family, empty, over the MTU); also in rxDropped. */
  uint64_t rxInvalid = 0;
};

class FdReadinessLoop {
 public:
  using Hook = std::function<void()>;

  /**
   * Adopts `fd`: makes it non-blocking and close-on-exec, and watches it on `loop`. On success
   * the loop owns the fd and closes it at close(); on failure (OsError, naming `what`) the fd is
   * left open and still the caller's. `wake` is called on the JS thread, at most once per poll
   * or timer callback, when drain() may return packets again or space freed after send() or
   * hasSpace() refused. JS thread.
   */
  FdReadinessLoop(uv_loop_t* loop, int fd, const FdLoopOptions& options, Hook wake, const std::string& what)
      : fd_(fd), options_(options), wake_(std::move(wake)), pending_(options.pendingPackets, options.mtu) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) {
      const int error = errno;
      throw OsError(error, "fcntl", what + ": fd " + std::to_string(fd) + " is not an open file descriptor (" + errnoName(error) + ")");
    }
    if ((flags & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
      const int error = errno;
      throw OsError(error, "fcntl", what + ": cannot make fd " + std::to_string(fd) + " non-blocking (" + errnoName(error) + ")");
    }
    const int fdFlags = ::fcntl(fd, F_GETFD);
    if (fdFlags >= 0) ::fcntl(fd, F_SETFD, fdFlags | FD_CLOEXEC);  // best effort: only about child processes
    handles_ = new Handles;
    handles_->owner = this;
    const int status = uv_poll_init(loop, &handles_->poll, fd);
    if (status != 0) {
      delete handles_;
      handles_ = nullptr;
      // libuv's errors on Unix are negated errnos (EPERM: epoll refuses regular files).
      throw OsError(-status, "uv_poll_init",
                    what + ": fd " + std::to_string(fd) + " cannot be watched for readiness (" + uv_strerror(status) +
                        "): pass a TUN or utun packet fd");
    }
    uv_timer_init(loop, &handles_->timer);
    handles_->poll.data = handles_;
    handles_->timer.data = handles_;
  }

  ~FdReadinessLoop() { close(); }

  FdReadinessLoop(const FdReadinessLoop&) = delete;
  FdReadinessLoop& operator=(const FdReadinessLoop&) = delete;

  /** JS thread. */
  bool closed() const { return handles_ == nullptr; }
  /** JS thread. */
  const FdLoopCounters& counters() const { return counters_; }
  /** JS thread. */
  const FdLoopOptions& options() const { return options_; }
  /** Why the device ended by itself, once it did (see "End" above). JS thread. */
  const DeviceEnd<OsError>& end() const { return end_; }

  /**
   * Called once libuv has released both handles after close() (possibly after this object is
   * destroyed, so the hook must not refer to it). Set before close(). JS thread.
   */
  void onReleased(Hook hook) {
    if (handles_ != nullptr) handles_->onReleased = std::move(hook);
  }

  /**
   * Reads packets into `view` until EAGAIN or the batch is full; returns how many. Returning 0
   * arms the wake-up for the next packet. A read that fails other than "not now" ends the device
   * (see "End"). JS thread.
   */
  uint32_t drain(PacketBatchView& view) {
    if (closed() || end_.ended()) return 0;
    uint32_t moved = 0;
    // Datagrams that are not packets count against the batch too: a socket that keeps returning
    // empty reads (a shut utun socket reads 0 bytes for ever) cannot hold the JS thread here.
    for (uint32_t reads = 0; view.length < view.capacity && reads < view.capacity; ++reads) {
      // A datagram cannot be read in parts: read only while a whole MTU-sized packet fits, so
      // nothing is ever truncated. (recvMany's batches always have that room when empty.)
      const uint32_t room = view.spaceForNext();
      if (room < options_.mtu) break;
      uint8_t* at = view.buffer + view.bytesUsed + view.headroom;
      const FrameRead got = readFrame(fd_, options_.framing, at, room);
      if (got.status == FrameRead::Status::Failed) {
        if (got.error == EAGAIN || got.error == EWOULDBLOCK || got.error == ENOBUFS || got.error == ENOMEM) {
          if (moved == 0) watch(kReadable, true);
          return moved;
        }
        endDevice(got.error, "read");
        return moved;
      }
      if (got.status == FrameRead::Status::Invalid || got.size > options_.mtu) {
        ++counters_.rxInvalid;
        ++counters_.rxDropped;
        continue;
      }
      view.reserve(got.size);  // the packet is already in place: this only records it
      ++counters_.rxPackets;
      counters_.rxBytes += got.size;
      ++moved;
    }
    if (moved == 0) watch(kReadable, true);  // only datagrams that were not packets: wait for more
    return moved;
  }

  /**
   * Writes one validated packet, or queues it behind earlier refused ones. True when taken;
   * false when the FIFO is full (nothing taken; a wake-up follows once space frees). JS thread.
   */
  bool send(const uint8_t* packet, uint32_t length) {
    if (closed()) return false;
    if (end_.ended()) {
      ++counters_.txDropped;  // the device is gone; JS closes it on the wake-up already scheduled
      return true;
    }
    if (!pending_.empty()) return enqueue(packet, length);
    const int error = writeFrame(fd_, options_.framing, packet, length);
    if (error == 0) {
      ++counters_.txPackets;
      counters_.txBytes += length;
      return true;
    }
    if (!refusedForNow(error)) {
      ++counters_.txDropped;  // the kernel will never take this one (EINVAL, EMSGSIZE...): counted
      if (deviceGone(error)) endDevice(error, "write");
      return true;
    }
    const bool taken = enqueue(packet, length);
    startRetrying(error);
    return taken;
  }

  /** True when send() can take a packet now; when false, arms a wake-up for when space frees. JS thread. */
  bool hasSpace() {
    if (closed() || end_.ended() || !pending_.full()) return true;
    spaceWanted_ = true;
    return false;
  }

  /** Stops watching, closes the fd, drops (and counts) queued packets. Idempotent; never calls `wake`. JS thread. */
  void close() {
    if (handles_ == nullptr) return;
    Handles* handles = handles_;
    handles_ = nullptr;
    handles->owner = nullptr;
    // Stop the poll before closing the fd (libuv removes it from epoll/kqueue here).
    uv_poll_stop(&handles->poll);
    uv_timer_stop(&handles->timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&handles->poll), &FdReadinessLoop::OnHandleClosed);
    uv_close(reinterpret_cast<uv_handle_t*>(&handles->timer), &FdReadinessLoop::OnHandleClosed);
    ::close(fd_);
    fd_ = -1;
    counters_.txDropped += pending_.clear();
    spaceWanted_ = false;
  }

 private:
  static constexpr int kReadable = UV_READABLE;
  static constexpr int kWritable = UV_WRITABLE;
  /** The peer or kernel shut the fd's connection (EPOLLRDHUP, kqueue's EV_EOF). Watched with kReadable. */
  static constexpr int kDisconnect = UV_DISCONNECT;

  /** The libuv handles, on the heap: their close callbacks may run after the loop object is gone. */
  struct Handles {
    uv_poll_t poll;
    uv_timer_t timer;
    FdReadinessLoop* owner = nullptr;
    int open = 2;
    Hook onReleased;
  };

  /** Errors that mean "not now" rather than "never". Any thread. */
  static bool refusedForNow(int error) {
    return error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS || error == ENOSPC;
  }

  /**
   * Write errors only a device that is gone gives: EBADFD (a Linux/Android TUN whose interface was
   * removed), EPIPE / ENOTCONN / ECONNRESET (a utun socket the kernel disconnected), ENXIO /
   * ENODEV (no device behind the fd), EBADF (the fd itself was closed under us). Not EIO: Linux
   * answers that for an interface that is only down. Any thread.
   */
  static bool deviceGone(int error) {
#ifdef EBADFD
    if (error == EBADFD) return true;
#endif
    return error == EPIPE || error == ENOTCONN || error == ECONNRESET || error == ENXIO || error == ENODEV || error == EBADF;
  }

  /**
   * The device ended by itself with `error` from `syscall` (see "End"): records it, stops
   * watching and retrying, drops what waits to be written (counted), and schedules the wake-up
   * that lets JS close the device. Only the first end counts. JS thread.
   */
  void endDevice(int error, const char* syscall) {
    const std::string why = error == kEndOfFile ? "it was disconnected (EOF)" : std::string(syscall) + " failed with " + errnoName(error);
    if (!end_.end(OsError(error, syscall, "the device behind fd " + std::to_string(fd_) + " is gone: " + why))) return;
    counters_.txDropped += pending_.clear();
    retrying_ = false;
    spaceWanted_ = false;
    watch(kReadable | kWritable | kDisconnect, false);
    uv_timer_start(&handles_->timer, &FdReadinessLoop::OnTimer, 0, 0);
  }

  /** Holds a packet behind the others; false (and a wake-up wanted) when the FIFO is full. JS thread. */
  bool enqueue(const uint8_t* packet, uint32_t length) {
    if (!pending_.push(packet, length)) {
      spaceWanted_ = true;
      return false;
    }
    ++counters_.txDeferred;
    return true;
  }

  /** The kernel refused with `error`: retry on the timer, and on writability when that means something. JS thread. */
  void startRetrying(int error) {
    if (!retrying_) {
      retrying_ = true;
      lastProgress_ = uv_now(handles_->timer.loop);
      uv_timer_start(&handles_->timer, &FdReadinessLoop::OnTimer, options_.retryIntervalMs, options_.retryIntervalMs);
    }
    // EAGAIN comes with readiness. ENOBUFS/ENOSPC (utun's full queue) do not: the fd may poll
    // writable while every write still fails, so watching it would spin; the timer retries.
    watch(kWritable, error == EAGAIN || error == EWOULDBLOCK);
  }

  /** JS thread. */
  void stopRetrying() {
    retrying_ = false;
    uv_timer_stop(&handles_->timer);
    watch(kWritable, false);
  }

  /** Writes queued packets in order until the kernel refuses again. True when senders should be woken. JS thread. */
  bool flushPending() {
    int refused = 0;
    bool progress = false;
    while (!pending_.empty()) {
      const uint32_t length = pending_.frontLength();
      const int error = writeFrame(fd_, options_.framing, pending_.frontData(), length);
      if (error != 0 && refusedForNow(error)) {
        refused = error;
        break;
      }
      if (error != 0 && deviceGone(error)) {
        endDevice(error, "write");  // drops the rest and schedules the wake-up
        return false;
      }
      if (error == 0) {
        ++counters_.txPackets;
        counters_.txBytes += length;
      } else {
        ++counters_.txDropped;
      }
      pending_.pop();
      progress = true;
    }
    const uint64_t now = uv_now(handles_->timer.loop);
    if (progress) lastProgress_ = now;
    if (pending_.empty()) {
      stopRetrying();
    } else if (now - lastProgress_ >= options_.stallBudgetMs) {
      // Nothing written for the whole budget: the device is not draining. Drop and count, so
      // producers are not held forever by a stuck interface.
      counters_.txDropped += pending_.clear();
      stopRetrying();
    } else {
      watch(kWritable, refused == EAGAIN || refused == EWOULDBLOCK);
    }
    if (spaceWanted_ && !pending_.full()) {
      spaceWanted_ = false;
      return true;
    }
    return false;
  }

  /** Adds or removes `event` from what the poll handle waits for; reads always watch for a disconnect too. JS thread. */
  void watch(int event, bool on) {
    if (event & kReadable) event |= kDisconnect;
    const int events = on ? (events_ | event) : (events_ & ~event);
    if (events == events_) return;
    events_ = events;
    if (events_ == 0) uv_poll_stop(&handles_->poll);
    else uv_poll_start(&handles_->poll, events_, &FdReadinessLoop::OnPoll);
  }

  // libuv callback, JS thread. All state is settled before `wake` runs, and nothing is touched
  // after it: JS may drain, send or even close this loop from inside the wake-up.
  static void OnPoll(uv_poll_t* poll, int status, int events) {
    FdReadinessLoop* self = static_cast<Handles*>(poll->data)->owner;
    if (self == nullptr) return;
    if (status >= 0 && (events & kDisconnect) != 0) {
      // Shut by the other side: nothing will ever be read or written again (endDevice wakes JS).
      self->endDevice(kEndOfFile, "poll");
      return;
    }
    // An error (the fd went bad) wakes both ways, so the next read or write reports it.
    const bool readable = status < 0 || (events & kReadable) != 0;
    const bool writable = status < 0 || (events & kWritable) != 0;
    bool wake = false;
    if (readable && (self->events_ & kReadable) != 0) {
      self->watch(kReadable, false);
      wake = true;
    }
    if (writable && self->retrying_) wake = self->flushPending() || wake;
    if (status < 0) self->watch(kReadable | kWritable, false);
    if (wake) self->wake_();
  }

  // libuv callback, JS thread.
  static void OnTimer(uv_timer_t* timer) {
    FdReadinessLoop* self = static_cast<Handles*>(timer->data)->owner;
    if (self == nullptr) return;
    if (self->end_.ended()) {
      self->wake_();  // the one wake-up endDevice scheduled: JS closes the device
      return;
    }
    if (!self->retrying_) return;
    if (self->flushPending()) self->wake_();
  }

  // libuv callback, JS thread: frees the handles once both are closed.
  static void OnHandleClosed(uv_handle_t* handle) {
    Handles* handles = static_cast<Handles*>(handle->data);
    if (--handles->open > 0) return;
    Hook released = std::move(handles->onReleased);
    delete handles;
    if (released) released();
  }

  int fd_;
  FdLoopOptions options_;
  Hook wake_;
  PendingPackets pending_;
  FdLoopCounters counters_;
  DeviceEnd<OsError> end_;
  Handles* handles_ = nullptr;
  int events_ = 0;
  bool retrying_ = false;
  bool spaceWanted_ = false;
  uint64_t lastProgress_ = 0;
};

}  // namespace tunkit
