// Adding routes on macOS through a PF_ROUTE socket, as route(8) does: one RTM_ADD message with
// the destination, the interface as the gateway (a link-level sockaddr naming its index: an
// interface route, like `route add -net ... -interface utunN`) and the netmask. Darwin-only
// (binding.gyp: OS=="mac"). Compiled and linked for x64 and arm64 in CI by the prebuild builder,
// never run there (CI has no Mac): written from route(4) and xnu's net/route.h.
#include <net/if.h>
#include <net/if_dl.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <tunkit/os_error.hh>

#include "utun.hh"

namespace tunkit::darwin_tun {

namespace {

// xnu pads each sockaddr in a routing message to a multiple of 4 bytes (its ROUNDUP32), unlike
// FreeBSD's multiple of sizeof(long).
size_t padded(size_t length) { return length == 0 ? 4 : (length + 3) & ~size_t{3}; }

/** A routing message under construction: the header, then sockaddrs in RTA_* order. */
class RouteMessage {
 public:
  RouteMessage() { std::memset(bytes_, 0, sizeof bytes_); }

  rt_msghdr& header() { return *reinterpret_cast<rt_msghdr*>(bytes_); }

  void append(const void* address, size_t length) {
    std::memcpy(bytes_ + used_, address, length);
    used_ += padded(length);
  }

  const uint8_t* data() const { return bytes_; }
  size_t size() const { return used_; }

 private:
  alignas(rt_msghdr) uint8_t bytes_[512];
  size_t used_ = sizeof(rt_msghdr);
};

void appendAddress(RouteMessage& message, int family, const uint8_t* bytes) {
  if (family == 4) {
    sockaddr_in address;
    std::memset(&address, 0, sizeof address);
    address.sin_len = sizeof address;
    address.sin_family = AF_INET;
    std::memcpy(&address.sin_addr, bytes, 4);
    message.append(&address, sizeof address);
  } else {
    sockaddr_in6 address;
    std::memset(&address, 0, sizeof address);
    address.sin6_len = sizeof address;
    address.sin6_family = AF_INET6;
    std::memcpy(&address.sin6_addr, bytes, 16);
    message.append(&address, sizeof address);
  }
}

}  // namespace

void addRoute(const std::string& name, const Prefix& prefix, bool existingIsFine) {
  const size_t size = prefix.family == 4 ? 4 : 16;
  const std::string what = "adding a route to " + prefixText(prefix) + " via " + name;
  const unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0) throw OsError(ENXIO, "if_nametoindex", what + ": no interface " + name);

  const bool host = prefix.length == size * 8;
  RouteMessage message;
  rt_msghdr& header = message.header();
  header.rtm_version = RTM_VERSION;
  header.rtm_type = RTM_ADD;
  header.rtm_flags = RTF_UP | RTF_STATIC | (host ? RTF_HOST : 0);
  header.rtm_addrs = RTA_DST | RTA_GATEWAY | (host ? 0 : RTA_NETMASK);
  header.rtm_seq = 1;
  header.rtm_index = static_cast<u_short>(index);

  appendAddress(message, prefix.family, prefix.address);
  sockaddr_dl link;
  std::memset(&link, 0, sizeof link);
  link.sdl_len = sizeof link;
  link.sdl_family = AF_LINK;
  link.sdl_index = static_cast<u_short>(index);
  message.append(&link, sizeof link);
  if (!host) {
    uint8_t mask[16] = {};
    for (uint32_t bit = 0; bit < prefix.length; ++bit) mask[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
    appendAddress(message, prefix.family, mask);
  }
  header.rtm_msglen = static_cast<u_short>(message.size());

  const int fd = ::socket(PF_ROUTE, SOCK_RAW, 0);
  if (fd < 0) {
    const int error = errno;
    throw OsError(error, "socket", what + ": opening a PF_ROUTE socket failed (" + errnoName(error) + ")");
  }
  // We only write: without this the socket would also queue every routing message of the system.
  ::shutdown(fd, SHUT_RD);
  const ssize_t written = ::write(fd, message.data(), message.size());
  const int error = errno;
  ::close(fd);
  if (written == static_cast<ssize_t>(message.size())) return;
  if (written < 0 && error == EEXIST && existingIsFine) return;
  std::string why;
  if (error == EEXIST) why = ": a route to this prefix already exists; remove it or leave it out of routes";
  else if (error == EPERM || error == EACCES) why = ": changing routes needs root";
  throw OsError(written < 0 ? error : EIO, "write", what + " (RTM_ADD) failed (" + errnoName(written < 0 ? error : EIO) + ")" + why);
}

}  // namespace tunkit::darwin_tun
