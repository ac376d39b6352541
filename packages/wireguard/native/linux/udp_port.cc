// The UDP socket's packet port (see udp_port.hh).
#include "udp_port.hh"

#include <poll.h>

#include <chrono>

#include <tunkit/os_error.hh>

namespace tunkit::wireguard {

static_assert(kAddressBytes == TUNKIT_ADDRESS_BYTES, "the port carries the socket's own address form");

namespace {
/**
 * How long write() waits, in all, for a full socket buffer to drain. Long enough to ride out a
 * burst (the buffer holds megabytes, drained at link speed), short enough that a TUN queue thread
 * stuck behind a dead link soon drops instead, as the kernel would.
 */
constexpr std::chrono::milliseconds kSendWait{10};
}  // namespace

UdpPort* UdpPort::create(std::shared_ptr<UdpSocket> socket) { return new UdpPort(std::move(socket)); }

UdpPort::UdpPort(std::shared_ptr<UdpSocket> socket) : socket_(std::move(socket)) {
  port_.abi = TUNKIT_PORT_ABI;
  port_.kind = TUNKIT_PORT_UDP;
  port_.device = this;
  port_.write = [](void* self, const tunkit_packets* packets) { return static_cast<UdpPort*>(self)->write(*packets); };
  port_.attach = [](void* self, const tunkit_processor* processor) { static_cast<UdpPort*>(self)->processors_.attach(processor); };
  port_.retain = [](void* self) { static_cast<UdpPort*>(self)->retain(); };
  port_.release = [](void* self) { static_cast<UdpPort*>(self)->release(); };
}

void UdpPort::release() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

// JS thread.
void UdpPort::close() {
  processors_.attach(nullptr);
  lock_.lock();
  closed_ = true;
  lock_.unlock();
}

// Any thread.
uint32_t UdpPort::write(const tunkit_packets& packets) {
  lock_.lock_shared();
  uint32_t done = 0;
  uint64_t sentBytes = 0;
  SendResult total;
  if (!closed_ && packets.addresses != nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + kSendWait;
    while (done < packets.count) {
      SendResult r;
      try {
        r = socket_->send(packets.buffer, packets.offsets + done, packets.lengths + done, packets.count - done,
                          packets.addresses + size_t{done} * TUNKIT_ADDRESS_BYTES);
      } catch (const OsError&) {
        break;  // the socket failed as a whole: the rest is dropped, counted
      }
      for (uint32_t i = done; i < done + r.taken; ++i) sentBytes += packets.lengths[i];
      done += r.taken;
      total.errors += r.errors;
      total.badEndpoints += r.badEndpoints;
      total.messages += r.messages;
      if (done == packets.count) break;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd writable{socket_->fd(), POLLOUT, 0};
      if (poll(&writable, 1, static_cast<int>(left.count())) <= 0) break;
    }
  }
  lock_.unlock_shared();
  counters_.txDatagrams.fetch_add(done - total.errors - total.badEndpoints, std::memory_order_relaxed);
  if (total.badEndpoints != 0) counters_.txBadEndpoints.fetch_add(total.badEndpoints, std::memory_order_relaxed);
  counters_.txBytes.fetch_add(sentBytes, std::memory_order_relaxed);
  counters_.txMessages.fetch_add(total.messages, std::memory_order_relaxed);
  if (total.errors != 0) counters_.txErrors.fetch_add(total.errors, std::memory_order_relaxed);
  if (done < packets.count) counters_.txDropped.fetch_add(packets.count - done, std::memory_order_relaxed);
  return done;
}

}  // namespace tunkit::wireguard
