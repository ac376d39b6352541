// The per-queue thread. Why it reads until EAGAIN but at most kReadBudget packets per round:
// an inbound flood must not starve the outbound direction of the same queue.
#include "queue_thread.hh"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "os_error.hh"

namespace tunkit::linux_tun {

namespace {
constexpr int kReadBudget = 256;
constexpr int kWriteBudget = 256;

int makeEventFd() {
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw OsError(errno, "eventfd", std::string("cannot create an eventfd: ") + std::strerror(errno));
  return fd;
}

void signalEventFd(int fd) {
  const uint64_t one = 1;
  // EAGAIN only when the counter would overflow: the thread is already woken.
  ssize_t ignored = write(fd, &one, sizeof one);
  (void)ignored;
}
}  // namespace

QueueThread::QueueThread(unsigned index, int fd, BatchChannel& inbound, QueueCounters& counters, uint32_t outboundSlots,
                         uint32_t slotSize, OffloadState offload, std::function<void()> wakeJs)
    : index_(index),
      fd_(fd),
      eventFd_(makeEventFd()),
      inbound_(inbound),
      counters_(counters),
      outbound_(outboundSlots, slotSize),
      wakeJs_(std::move(wakeJs)),
      offload_(offload) {
  if (offload_.vnetHeader) {
    readFrame_.reset(new uint8_t[offload::kMaxFrame]);
    writeFrame_.reset(new uint8_t[offload::kMaxFrame]);
  }
}

QueueThread::~QueueThread() {
  stop();
  close(eventFd_);
}

// JS thread.
void QueueThread::start() { thread_ = std::thread([this] { run(); }); }

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
uint64_t QueueThread::stop() {
  if (!thread_.joinable()) return 0;
  stopping_.store(true, std::memory_order_seq_cst);
  signalEventFd(eventFd_);
  thread_.join();
  uint64_t discarded = 0;
  const uint8_t* data;
  uint32_t size;
  while (outbound_.front(data, size)) {
    outbound_.pop();
    ++discarded;
  }
  counters_.txDropped.fetch_add(discarded, std::memory_order_relaxed);
  return discarded;
}

// Queue thread: reads until EAGAIN, a full channel, or the budget. Returns true when it read anything.
bool QueueThread::readBatch() {
  if (offload_.vnetHeader) return readFrames();
  bool progressed = false;
  for (int i = 0; i < kReadBudget; ++i) {
    uint8_t* slot = inbound_.reserve(index_);
    if (slot == nullptr) {
      // Channel full (or closed): stop reading; the kernel's queue holds or drops, and the
      // channel's space hook wakes us when JS has drained.
      if (!retryingAfterStall_) counters_.rxStalls.fetch_add(1, std::memory_order_relaxed);
      stalled_ = true;
      return progressed;
    }
    const ssize_t n = read(fd_, slot, inbound_.slotSize());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        counters_.rxDropped.fetch_add(1, std::memory_order_relaxed);
        readFailed_ = true;
      }
      readable_ = false;
      return progressed;
    }
    if (n == 0) {
      readable_ = false;
      return progressed;
    }
    retryingAfterStall_ = false;
    inbound_.commit(index_, static_cast<uint32_t>(n));
    counters_.rxFrames.fetch_add(1, std::memory_order_relaxed);
    counters_.rxPackets.fetch_add(1, std::memory_order_relaxed);
    counters_.rxBytes.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    progressed = true;
  }
  return progressed;
}

// Queue thread, offload: each read is one frame (virtio-net header + packet or super-packet), cut
// into packets straight into channel slots. A frame stays in readFrame_ until all its packets are
// in the channel: a stall in the middle resumes where it stopped, nothing read is dropped.
bool QueueThread::readFrames() {
  bool progressed = false;
  for (int i = 0; i < kReadBudget; ++i) {
    if (!splitter_.pending()) {
      const ssize_t n = read(fd_, readFrame_.get(), offload::kMaxFrame);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) {
          counters_.rxDropped.fetch_add(1, std::memory_order_relaxed);
          readFailed_ = true;
        }
        readable_ = false;
        return progressed;
      }
      if (n == 0) {
        readable_ = false;
        return progressed;
      }
      counters_.rxFrames.fetch_add(1, std::memory_order_relaxed);
      if (!splitter_.load(readFrame_.get(), static_cast<size_t>(n))) {
        counters_.rxDropped.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
    }
    while (splitter_.pending()) {
      uint8_t* slot = inbound_.reserve(index_);
      if (slot == nullptr) {
        if (!retryingAfterStall_) counters_.rxStalls.fetch_add(1, std::memory_order_relaxed);
        stalled_ = true;
        return progressed;
      }
      const uint32_t size = splitter_.next(slot, inbound_.slotSize());
      if (size == 0) {
        counters_.rxDropped.fetch_add(1, std::memory_order_relaxed);  // larger than a slot
        continue;
      }
      retryingAfterStall_ = false;
      inbound_.commit(index_, size);
      counters_.rxPackets.fetch_add(1, std::memory_order_relaxed);
      counters_.rxBytes.fetch_add(size, std::memory_order_relaxed);
      progressed = true;
    }
  }
  return progressed;
}

// Queue thread, offload: consecutive packets of one flow leave as one super-packet; the rest
// one by one with an empty header. EINVAL on a super-packet turns coalescing off for good.
void QueueThread::writeFrames() {
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
      if (errno == EINVAL && taken > 1) {
        coalescing_ = false;  // the kernel refuses super-packets here: single packets from now on
        counters_.coalesceRefused.store(1, std::memory_order_relaxed);
        continue;
      }
      counters_.txDropped.fetch_add(taken, std::memory_order_relaxed);
    } else {
      uint64_t bytes = 0;
      for (size_t k = 0; k < taken; ++k) bytes += run[k].size;
      counters_.txPackets.fetch_add(taken, std::memory_order_relaxed);
      counters_.txBytes.fetch_add(bytes, std::memory_order_relaxed);
      counters_.txFrames.fetch_add(1, std::memory_order_relaxed);
    }
    outbound_.pop(static_cast<uint32_t>(taken));
    freed = true;
  }
  afterWrite(freed);
}

void QueueThread::afterWrite(bool freed) {
  if (freed && jsWantsSpace_.load(std::memory_order_seq_cst) && jsWantsSpace_.exchange(false, std::memory_order_seq_cst)) {
    wakeJs_();
  }
}

// Queue thread: writes queued packets in order. A packet the kernel refuses is counted and dropped.
void QueueThread::writeBatch() {
  if (offload_.vnetHeader) {
    writeFrames();
    return;
  }
  const uint8_t* data;
  uint32_t size;
  bool freed = false;
  for (int i = 0; i < kWriteBudget && outbound_.front(data, size); ++i) {
    const ssize_t n = write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) {
        --i;
        continue;
      }
      if (errno == EAGAIN) {
        writeBlocked_ = true;  // wait for POLLOUT, keep the packet
        break;
      }
      counters_.txDropped.fetch_add(1, std::memory_order_relaxed);
    } else {
      counters_.txPackets.fetch_add(1, std::memory_order_relaxed);
      counters_.txBytes.fetch_add(size, std::memory_order_relaxed);
      counters_.txFrames.fetch_add(1, std::memory_order_relaxed);
    }
    outbound_.pop();
    freed = true;
  }
  afterWrite(freed);
}

// Queue thread.
void QueueThread::run() {
  while (!stopping_.load(std::memory_order_acquire)) {
    if (readable_ && !stalled_) readBatch();
    if (!writeBlocked_) writeBatch();
    const bool moreToRead = readable_ && !stalled_;
    const bool moreToWrite = !writeBlocked_ && !outbound_.empty();
    if (moreToRead || moreToWrite) continue;

    sleeping_.store(true, std::memory_order_seq_cst);
    if (!outbound_.empty() && !writeBlocked_) {
      sleeping_.store(false, std::memory_order_relaxed);
      continue;
    }
    pollfd fds[2] = {{fd_, 0, 0}, {eventFd_, POLLIN, 0}};
    if (!stalled_ && !readFailed_) fds[0].events |= POLLIN;
    if (writeBlocked_) fds[0].events |= POLLOUT;
    if (readFailed_) fds[0].fd = -1;  // errors are reported even with no events asked: ignore the fd
    const int ready = poll(fds, 2, -1);
    sleeping_.store(false, std::memory_order_seq_cst);
    if (ready < 0) continue;  // EINTR
    if (!readFailed_ && (fds[0].revents & (POLLIN | POLLERR | POLLHUP))) readable_ = true;
    if (fds[0].revents & POLLOUT) writeBlocked_ = false;
    if (fds[1].revents & POLLIN) {
      uint64_t value;
      ssize_t ignored = read(eventFd_, &value, sizeof value);
      (void)ignored;
      // Woken: JS queued packets, or drained the inbound channel (retry a stalled read).
      if (stalled_) {
        stalled_ = false;
        retryingAfterStall_ = true;
        readable_ = !readFailed_;
      }
    }
  }
}

}  // namespace tunkit::linux_tun
