// The UDP receive thread (see udp_receive_thread.hh). Why its own thread rather than the JS
// thread's libuv poll: a datagram a processor opens natively then reaches the TUN with one thread
// woken (this one, by the kernel), not two (the JS thread, then a TUN queue thread), and the JS
// thread's turn of work per batch is gone from the path.
#include "udp_receive_thread.hh"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

#include <tunkit/os_error.hh>

namespace tunkit::wireguard {

namespace {
/** Datagrams per batch: one recvmmsg's worth, as the JS path reads. */
constexpr uint32_t kBatchDatagrams = 256;
/** Bytes per batch: room for 8 GRO messages of 64 KiB (planGroReceive) or 256 plain datagrams. */
constexpr uint32_t kBatchBytes = 8 * 65536 + 65536;
/** Batches read before looking at the eventfd again (stop), so a flood cannot keep it from stopping. */
constexpr int kBatchesPerRound = 16;

int makeEventFd() {
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw OsError(errno, "eventfd", std::string("cannot create an eventfd for the UDP receive thread: ") + std::strerror(errno));
  return fd;
}
}  // namespace

// JS thread.
UdpReceiveThread::UdpReceiveThread(std::shared_ptr<UdpSocket> socket, UdpPort& port, BatchChannel& toJs, uint32_t maxDatagram,
                                   uint32_t index)
    : socket_(std::move(socket)), port_(port), toJs_(toJs), maxDatagram_(maxDatagram), index_(index), eventFd_(makeEventFd()) {
  try {
    // Each batch says when its first datagram reached the kernel (the trace's first stage, and
    // how long datagrams stood in the socket's queue).
    socket_->enableTimestamps();
  } catch (...) {
    close(eventFd_);
    throw;
  }
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& error) {
    close(eventFd_);
    throw OsError(error.code().value(), "pthread_create", std::string("cannot start the UDP receive thread: ") + std::strerror(error.code().value()));
  }
  // Named here, not by the thread itself: the name is there once the constructor returns (the
  // benches group a process's CPU by thread name, the tests count the threads by it).
  char name[16];
  std::snprintf(name, sizeof name, "tunkit-udp-rx-%u", index_);
  pthread_setname_np(thread_.native_handle(), name);
}

UdpReceiveThread::~UdpReceiveThread() {
  stop();
  close(eventFd_);
}

// JS thread.
void UdpReceiveThread::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  ssize_t ignored = write(eventFd_, &one, sizeof one);
  (void)ignored;
  thread_.join();
}

// Receive thread.
void UdpReceiveThread::run() {
  try {
    loop();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "tunkit: the UDP receive thread stopped: %s\n", error.what());
  }
}

// Receive thread.
void UdpReceiveThread::loop() {
  while (!stopping_.load(std::memory_order_acquire)) {
    bool more = true;
    for (int i = 0; i < kBatchesPerRound && more && !stopping_.load(std::memory_order_relaxed); ++i) more = receiveBatch();
    if (more) continue;
    pollfd fds[2] = {{socket_->fd(), POLLIN, 0}, {eventFd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
    wokeAt_ = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    if (fds[1].revents & POLLIN) return;  // stop() signalled
  }
}

// Receive thread.
bool UdpReceiveThread::receiveBatch() {
  uint32_t headroom = 0;
  uint32_t tailroom = 0;
  port_.processors().room(headroom, tailroom);
  if (headroom != batch_.headroom || tailroom != batch_.tailroom) {
    batch_.headroom = headroom;
    batch_.tailroom = tailroom;
    batch_.byteCapacity = kBatchBytes + kBatchDatagrams * (headroom + tailroom + 8);
    batch_.bytes.reset(new uint8_t[batch_.byteCapacity]);
    batch_.offsets.reset(new uint32_t[kBatchDatagrams]);
    batch_.lengths.reset(new uint32_t[kBatchDatagrams]);
    batch_.addresses.reset(new uint8_t[size_t{kBatchDatagrams} * kAddressBytes]);
    batch_.taken.reset(new uint8_t[kBatchDatagrams]);
  }
  BatchFill fill;
  fill.view = PacketBatchView{batch_.bytes.get(), batch_.offsets.get(), batch_.lengths.get(), kBatchDatagrams, batch_.byteCapacity,
                              headroom, tailroom, 0, 0};
  fill.addresses = batch_.addresses.get();
  fill.maxDatagram = maxDatagram_;
  uint32_t messages = 0;
  try {
    messages = socket_->recv(fill);
  } catch (const OsError&) {
    // An ICMP error queued on the socket (ECONNREFUSED from an earlier send) fails one recvmmsg;
    // the next reads on. Counted as nothing lost: the kernel keeps the datagrams.
    return true;
  }
  UdpPortCounters& counters = port_.counters();
  if (fill.dropped != 0) counters.rxDropped.fetch_add(fill.dropped, std::memory_order_relaxed);
  if (fill.badSources != 0) counters.rxBadSources.fetch_add(fill.badSources, std::memory_order_relaxed);
  const uint32_t count = fill.view.length;
  if (messages == 0 && count == 0) return false;
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < count; ++i) bytes += batch_.lengths[i];
  counters.rxDatagrams.fetch_add(count, std::memory_order_relaxed);
  counters.rxBytes.fetch_add(bytes, std::memory_order_relaxed);
  counters.rxMessages.fetch_add(messages, std::memory_order_relaxed);
  if (count == 0) return true;
  std::memset(batch_.taken.get(), 0, count);
  const int64_t readyAt = fill.arrivedAt != 0 ? fill.arrivedAt : wokeAt_;
  tunkit_packets packets{batch_.bytes.get(), batch_.offsets.get(), batch_.lengths.get(), batch_.addresses.get(), count, headroom, tailroom,
                         readyAt};
  port_.processors().offer(index_, packets, batch_.taken.get());
  uint64_t refused = 0;
  for (uint32_t i = 0; i < count; ++i) {
    if (batch_.taken[i]) continue;
    const uint32_t length = batch_.lengths[i];
    uint8_t* slot = toJs_.reserve(index_);
    if (slot == nullptr || length + kAddressBytes > toJs_.slotSize()) {
      ++refused;
      continue;
    }
    std::memcpy(slot, batch_.bytes.get() + batch_.offsets[i], length);
    std::memcpy(slot + length, batch_.addresses.get() + size_t{i} * kAddressBytes, kAddressBytes);
    toJs_.commit(index_, length + kAddressBytes);
  }
  if (refused != 0) counters.rxDropped.fetch_add(refused, std::memory_order_relaxed);
  return true;
}

}  // namespace tunkit::wireguard
