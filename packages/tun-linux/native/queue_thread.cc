// The per-queue thread. Why it reads until EAGAIN but at most kReadBudget packets per round:
// an inbound flood must not starve the outbound direction of the same queue. Counters are
// summed per round and published once, not per packet: stats() may trail by one round.
#include "queue_thread.hh"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

#include <tunkit/os_error.hh>

namespace tunkit::linux_tun {

namespace {
constexpr int kReadBudget = 256;
constexpr int kWriteBudget = 256;
/**
 * Packets offered to a processor at once: enough for its work to be per batch (one sendmmsg,
 * one lock), few enough that a lone packet is not held while the batch fills (it never waits:
 * a batch is whatever one round of reads found, up to this many).
 */
constexpr uint32_t kProcessBatch = 64;
/** After an unexpected read error (not EAGAIN, not a removed interface): wait this long, then read again. */
constexpr std::chrono::milliseconds kReadRetry{100};

int64_t monotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int makeEventFd() {
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw OsError(errno, "eventfd", std::string("cannot create an eventfd for a TUN queue thread: ") + std::strerror(errno));
  return fd;
}

void signalEventFd(int fd) {
  const uint64_t one = 1;
  // EAGAIN only when the counter would overflow: the thread is already woken.
  ssize_t ignored = write(fd, &one, sizeof one);
  (void)ignored;
}
}  // namespace

// JS thread.
QueueThread::QueueThread(unsigned index, int fd, BatchChannel& inbound, QueueCounters& counters, uint32_t outboundSlots,
                         uint32_t slotSize, OffloadState offload, DeviceEnd<OsError>& end, std::string deviceName,
                         std::function<void()> wakeJs, ProcessorSlot& processors)
    : index_(index),
      fd_(fd),
      eventFd_(makeEventFd()),
      inbound_(inbound),
      counters_(counters),
      outbound_(outboundSlots, slotSize),
      end_(end),
      deviceName_(std::move(deviceName)),
      wakeJs_(std::move(wakeJs)),
      offload_(offload),
      processors_(processors) {
  try {
    if (offload_.vnetHeader) {
      readFrame_.reset(new uint8_t[offload::kMaxFrame]);
      writeFrame_.reset(new uint8_t[offload::kMaxFrame]);
    }
  } catch (...) {
    close(eventFd_);
    throw;
  }
}

// JS thread. The owner stops the thread first, with a timeout (TunDevice::shutdown); joining
// here is only the backstop for an owner that did not.
QueueThread::~QueueThread() {
  if (thread_.joinable()) {
    stopping_.store(true, std::memory_order_seq_cst);
    signalEventFd(eventFd_);
    thread_.join();
  }
  close(eventFd_);
}

// JS thread.
void QueueThread::start() {
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& error) {
    const int code = error.code().value();
    throw OsError(code, "pthread_create", "cannot start the thread for TUN queue " + std::to_string(index_) + ": " + std::strerror(code));
  }
}

// JS thread.
bool QueueThread::send(const uint8_t* data, uint32_t size) {
  if (!outbound_.push(data, size)) return false;
  pendingWake_ = true;
  return true;
}

// JS thread. The ring's tail store and this exchange are seq_cst, as are the thread's
// "sleeping = true, then check the ring": either we see it asleep and wake it, or it sees our packet.
void QueueThread::flush() {
  if (!pendingWake_) return;
  pendingWake_ = false;
  if (sleeping_.exchange(false, std::memory_order_seq_cst)) signalEventFd(eventFd_);
}

// JS thread.
bool QueueThread::hasSpaceOrNotify() {
  if (!outbound_.full()) return true;
  jsWantsSpace_.store(true, std::memory_order_seq_cst);
  if (!outbound_.full()) {
    jsWantsSpace_.store(false, std::memory_order_relaxed);
    return true;
  }
  return false;
}

// Consumer (JS) thread, from the inbound channel's space hook.
void QueueThread::wake() { signalEventFd(eventFd_); }

// JS thread.
bool QueueThread::stop(std::chrono::milliseconds timeout) {
  if (!thread_.joinable()) return true;
  stopping_.store(true, std::memory_order_seq_cst);
  signalEventFd(eventFd_);
  {
    std::unique_lock<std::mutex> lock(exitMutex_);
    if (!exitCondition_.wait_for(lock, timeout, [this] { return exited_; })) {
      lock.unlock();
      thread_.detach();
      return false;
    }
  }
  thread_.join();
  counters_.txDropped.fetch_add(outbound_.discardAll(), std::memory_order_relaxed);
  return true;
}

// Queue thread: the full channel stops reading; its space hook wakes us when JS has drained.
void QueueThread::noteStall() {
  if (!retryingAfterStall_) counters_.rxStalls.fetch_add(1, std::memory_order_relaxed);
  stalled_ = true;
}

// Queue thread. EBADFD: the interface was removed (`ip link del`): the device ended (see
// endDevice). Any other error: counted, and reading resumes after kReadRetry (never a spin, never
// a dead queue).
void QueueThread::readFailed(int error) {
  counters_.rxErrors.fetch_add(1, std::memory_order_relaxed);
  readable_ = false;
  if (error == EBADFD) {
    endDevice(error, "read");
    return;
  }
  backingOff_ = true;
  retryReadAt_ = std::chrono::steady_clock::now() + kReadRetry;
}

// Queue thread. EBADFD on a read or a write: the kernel detached every queue of the device from
// its interface, which is gone for good; this is Linux's way of saying the device ended by itself
// (tun-core's tun.ts). The first queue to see it records why and wakes JS, which closes the whole
// device; this thread stops at once (its fd can only fail from now on).
void QueueThread::endDevice(int error, const char* syscall) {
  ended_ = true;
  const std::string message = "the interface " + deviceName_ + " was removed: " + syscall + " on its queue " +
                              std::to_string(index_) + " failed with " + errnoName(error);
  if (end_.end(OsError(error, syscall, message))) wakeJs_();
}

// Queue thread: one round of reads, counters published once.
void QueueThread::readBatch() {
  Tally tally;
  if (processors_.attached()) readForProcessor(tally);
  else if (offload_.vnetHeader) readFrames(tally);
  else readPackets(tally);
  if (tally.packets != 0) {
    counters_.rxPackets.fetch_add(tally.packets, std::memory_order_relaxed);
    counters_.rxBytes.fetch_add(tally.bytes, std::memory_order_relaxed);
  }
  if (tally.frames != 0) counters_.rxFrames.fetch_add(tally.frames, std::memory_order_relaxed);
  if (tally.dropped != 0) counters_.rxDropped.fetch_add(tally.dropped, std::memory_order_relaxed);
}

// Queue thread: reads until EAGAIN, a full channel, or the budget, straight into channel slots.
void QueueThread::readPackets(Tally& tally) {
  const uint32_t slotSize = inbound_.slotSize();
  for (int i = 0; i < kReadBudget; ++i) {
    uint8_t* slot = inbound_.reserve(index_);
    if (slot == nullptr) {
      noteStall();
      return;
    }
    const uint32_t size = readOnePacket(slot, slotSize, tally);
    if (size == 0) {
      if (!readable_) return;
      continue;  // too big for a slot: dropped, the slot stays reserved for the next one
    }
    retryingAfterStall_ = false;
    inbound_.commit(index_, size);
    ++tally.packets;
    tally.bytes += size;
  }
}

// Queue thread, offload: each read is one frame (virtio-net header + packet or super-packet), cut
// into packets straight into channel slots. A frame stays in readFrame_ until all its packets are
// in the channel: a stall in the middle resumes where it stopped, nothing read is dropped.
void QueueThread::readFrames(Tally& tally) {
  for (int i = 0; i < kReadBudget;) {
    if (!splitter_.pending()) {
      ++i;
      if (readOneFrame(tally) == 0) {
        if (!readable_) return;
        continue;  // a malformed frame: dropped
      }
    }
    while (splitter_.pending()) {
      uint8_t* slot = inbound_.reserve(index_);
      if (slot == nullptr) {
        noteStall();
        return;
      }
      const uint32_t size = splitter_.next(slot, inbound_.slotSize());
      if (size == 0) {
        ++tally.dropped;  // larger than a slot
        continue;
      }
      retryingAfterStall_ = false;
      inbound_.commit(index_, size);
      ++tally.packets;
      tally.bytes += size;
    }
  }
}

// Queue thread, a processor attached: batches of what one round of reads finds (never waiting for
// more), offered to the processor; what it does not take goes to the channel as without one. A
// full channel cannot stop the read here (the processor's packets must not wait for JS): a packet
// for JS that finds no slot is dropped and counted.
void QueueThread::readForProcessor(Tally& tally) {
  uint32_t headroom = 0;
  uint32_t tailroom = 0;
  processors_.room(headroom, tailroom);
  const uint32_t slotSize = inbound_.slotSize();
  if (!process_.bytes || headroom != process_.headroom || tailroom != process_.tailroom) {
    process_.headroom = headroom;
    process_.tailroom = tailroom;
    process_.stride = align8(uint64_t{headroom} + slotSize + tailroom);
    process_.bytes.reset(new uint8_t[size_t{process_.stride} * kProcessBatch]);
    process_.offsets.reset(new uint32_t[kProcessBatch]);
    process_.lengths.reset(new uint32_t[kProcessBatch]);
    process_.taken.reset(new uint8_t[kProcessBatch]);
  }
  int reads = 0;
  while (reads < kReadBudget) {
    // When the first packet was there: the wake-up that found it, else now (a later batch of the round).
    const int64_t readyAt = wokeAt_ != 0 ? wokeAt_ : monotonicNs();
    wokeAt_ = 0;
    const uint32_t count = fillProcessBatch(tally, reads);
    if (count == 0) return;
    tunkit_packets packets{process_.bytes.get(), process_.offsets.get(), process_.lengths.get(), nullptr, count,
                           process_.headroom, process_.tailroom, readyAt};
    std::memset(process_.taken.get(), 0, count);
    processors_.offer(index_, packets, process_.taken.get());
    for (uint32_t i = 0; i < count; ++i) {
      if (process_.taken[i]) continue;
      uint8_t* slot = inbound_.reserve(index_);
      if (slot == nullptr) {
        ++tally.dropped;
        continue;
      }
      std::memcpy(slot, process_.bytes.get() + process_.offsets[i], process_.lengths[i]);
      inbound_.commit(index_, process_.lengths[i]);
    }
    if (!readable_) return;
  }
}

// Queue thread: reads packets into the process batch until it is full, the fd has no more, or
// the round's budget of reads is spent; returns how many it holds. Packets are counted as read.
uint32_t QueueThread::fillProcessBatch(Tally& tally, int& reads) {
  const uint32_t slotSize = inbound_.slotSize();
  uint32_t count = 0;
  while (count < kProcessBatch) {
    uint8_t* slot = process_.bytes.get() + size_t{count} * process_.stride + process_.headroom;
    uint32_t size = 0;
    if (offload_.vnetHeader) {
      if (!splitter_.pending()) {
        if (reads >= kReadBudget || !readable_) break;
        ++reads;
        if (readOneFrame(tally) == 0) continue;  // nothing read, or a malformed frame: readable_ says which
      }
      size = splitter_.next(slot, slotSize);
      if (size == 0) {
        ++tally.dropped;  // larger than a slot
        continue;
      }
    } else {
      if (reads >= kReadBudget || !readable_) break;
      ++reads;
      size = readOnePacket(slot, slotSize, tally);
      if (size == 0) continue;  // nothing read (readable_ is false now) or too big for a slot: dropped
    }
    process_.offsets[count] = static_cast<uint32_t>(slot - process_.bytes.get());
    process_.lengths[count] = size;
    ++count;
    ++tally.packets;
    tally.bytes += size;
  }
  return count;
}

// Queue thread: reads one packet into slot; returns its length (0 when nothing was read,
// readable_ then false, or the packet was too big for the slot: dropped, counted).
// Why readv with one byte past the slot: the kernel truncates a packet longer than the buffer and
// returns the truncated length, so a packet too big for a slot (the MTU raised behind our back
// with `ip link`) would pass for a whole one. Reaching the extra byte shows it.
uint32_t QueueThread::readOnePacket(uint8_t* slot, uint32_t slotSize, Tally& tally) {
  uint8_t overflow;
  iovec parts[2] = {{slot, slotSize}, {&overflow, 1}};
  for (;;) {
    const ssize_t n = readv(fd_, parts, 2);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) readable_ = false;
      else readFailed(errno);
      return 0;
    }
    if (n == 0) {
      readable_ = false;
      return 0;
    }
    ++tally.frames;
    if (static_cast<size_t>(n) > slotSize) {
      ++tally.dropped;
      return 0;
    }
    return static_cast<uint32_t>(n);
  }
}

// Queue thread, offload: reads one frame into readFrame_ and loads it into the splitter; returns
// its length (0 when nothing was read, readable_ then false, or the frame was malformed: dropped).
uint32_t QueueThread::readOneFrame(Tally& tally) {
  for (;;) {
    const ssize_t n = read(fd_, readFrame_.get(), offload::kMaxFrame);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) readable_ = false;
      else readFailed(errno);
      return 0;
    }
    if (n == 0) {
      readable_ = false;
      return 0;
    }
    ++tally.frames;
    if (!splitter_.load(readFrame_.get(), static_cast<size_t>(n))) {
      ++tally.dropped;  // malformed frame
      return 0;
    }
    return static_cast<uint32_t>(n);
  }
}

// Queue thread: one round of writes, counters published once, then JS woken if it waits for space.
void QueueThread::writeBatch() {
  Tally tally;
  const bool freed = offload_.vnetHeader ? writeFrames(tally) : writePackets(tally);
  if (tally.packets != 0) {
    counters_.txPackets.fetch_add(tally.packets, std::memory_order_relaxed);
    counters_.txBytes.fetch_add(tally.bytes, std::memory_order_relaxed);
  }
  if (tally.frames != 0) counters_.txFrames.fetch_add(tally.frames, std::memory_order_relaxed);
  if (tally.dropped != 0) counters_.txDropped.fetch_add(tally.dropped, std::memory_order_relaxed);
  if (freed && jsWantsSpace_.load(std::memory_order_seq_cst) && jsWantsSpace_.exchange(false, std::memory_order_seq_cst)) {
    wakeJs_();
  }
}

// Queue thread: writes queued packets in order. A packet the kernel refuses is counted and dropped.
bool QueueThread::writePackets(Tally& tally) {
  const uint8_t* data;
  uint32_t size;
  bool freed = false;
  for (int i = 0; i < kWriteBudget && outbound_.front(data, size);) {
    const ssize_t n = write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        writeBlocked_ = true;  // wait for POLLOUT, keep the packet
        break;
      }
      if (errno == EBADFD) {
        endDevice(errno, "write");
        break;
      }
      ++tally.dropped;
    } else {
      ++tally.packets;
      tally.bytes += size;
      ++tally.frames;
    }
    outbound_.pop();
    freed = true;
    ++i;
  }
  return freed;
}

// Queue thread, offload: consecutive packets of one flow leave as one super-packet; the rest
// one by one with an empty header. EINVAL on a super-packet turns coalescing off for good.
bool QueueThread::writeFrames(Tally& tally) {
  constexpr size_t kRun = 64;
  offload::Packet run[kRun];
  bool freed = false;
  for (int i = 0; i < kWriteBudget; ++i) {
    size_t count = 0;
    const size_t limit = coalescing_ && offload_.tso ? kRun : 1;
    while (count < limit && outbound_.peek(static_cast<uint32_t>(count), run[count].data, run[count].size)) ++count;
    if (count == 0) break;
    size_t taken = 0;
    const size_t frame = offload::coalesce(run, count, offload_.uso && coalescing_, writeFrame_.get(), offload::kMaxFrame, taken);
    const ssize_t n = write(fd_, writeFrame_.get(), frame);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        writeBlocked_ = true;
        break;
      }
      if (errno == EBADFD) {
        endDevice(errno, "write");
        break;
      }
      if (errno == EINVAL && taken > 1) {
        coalescing_ = false;  // the kernel refuses super-packets here: single packets from now on
        counters_.coalesceRefused.store(1, std::memory_order_relaxed);
        continue;
      }
      tally.dropped += taken;
    } else {
      for (size_t k = 0; k < taken; ++k) tally.bytes += run[k].size;
      tally.packets += taken;
      ++tally.frames;
    }
    outbound_.pop(static_cast<uint32_t>(taken));
    freed = true;
  }
  return freed;
}

// Queue thread: names itself, runs the loop, and tells a waiting stop() that it is done.
void QueueThread::run() {
  char name[16];
  std::snprintf(name, sizeof name, "tunkit-queue-%u", index_);
  pthread_setname_np(pthread_self(), name);
  try {
    loop();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "tunkit: TUN queue %u thread stopped: %s\n", index_, error.what());
  } catch (...) {
    std::fprintf(stderr, "tunkit: TUN queue %u thread stopped: unknown exception\n", index_);
  }
  {
    std::lock_guard<std::mutex> lock(exitMutex_);
    exited_ = true;
  }
  exitCondition_.notify_all();
}

// Queue thread.
void QueueThread::loop() {
  while (!stopping_.load(std::memory_order_acquire) && !ended_) {
    if (backingOff_ && std::chrono::steady_clock::now() >= retryReadAt_) {
      backingOff_ = false;
      readable_ = true;
    }
    if (readable_ && !stalled_) readBatch();
    if (!writeBlocked_ && !ended_) writeBatch();
    if (ended_) return;
    const bool moreToRead = readable_ && !stalled_;
    const bool moreToWrite = !writeBlocked_ && !outbound_.empty();
    if (moreToRead || moreToWrite) continue;

    sleeping_.store(true, std::memory_order_seq_cst);
    if (!outbound_.empty() && !writeBlocked_) {
      sleeping_.store(false, std::memory_order_relaxed);
      continue;
    }
    const bool watchReads = !stalled_ && !backingOff_;
    pollfd fds[2] = {{fd_, 0, 0}, {eventFd_, POLLIN, 0}};
    if (watchReads) fds[0].events |= POLLIN;
    if (writeBlocked_) fds[0].events |= POLLOUT;
    // POLLERR is reported even when no event is asked for: leave out an fd we wait for nothing on.
    if (fds[0].events == 0) fds[0].fd = -1;
    int timeout = -1;
    if (backingOff_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(retryReadAt_ - std::chrono::steady_clock::now());
      timeout = static_cast<int>(left.count() < 0 ? 0 : left.count() + 1);
    }
    const int ready = poll(fds, 2, timeout);
    sleeping_.store(false, std::memory_order_seq_cst);
    wokeAt_ = monotonicNs();
    if (ready < 0) continue;  // EINTR
    // POLLERR on a TUN fd: the queue was detached (the interface is going). The read or write it
    // was waiting for then fails with EBADFD, which ends the device.
    const bool failed = (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0;
    if (watchReads && ((fds[0].revents & POLLIN) || failed)) readable_ = true;
    if ((fds[0].revents & POLLOUT) || (writeBlocked_ && failed)) writeBlocked_ = false;
    if (fds[1].revents & POLLIN) {
      uint64_t value;
      ssize_t ignored = read(eventFd_, &value, sizeof value);
      (void)ignored;
      // Woken: JS queued packets, or drained the inbound channel (retry a stalled read).
      if (stalled_) {
        stalled_ = false;
        retryingAfterStall_ = true;
        readable_ = !backingOff_;
      }
    }
  }
}

}  // namespace tunkit::linux_tun
