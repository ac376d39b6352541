// Configuring a utun interface on macOS through ioctls on ordinary sockets, as ifconfig(8) does:
// MTU (SIOCSIFMTU), up (SIOCSIFFLAGS), IPv4 addresses (SIOCAIFADDR) and IPv6 addresses
// (SIOCAIFADDR_IN6). Darwin-only (binding.gyp: OS=="mac"). Compiled and linked for x64 and
// arm64 in CI by the prebuild builder (Zig's macOS headers), never run there (CI has no Mac):
// written from the netintro(4) documentation and the SDK's headers.
#include <net/if.h>
#include <netinet/in.h>
#if __has_include(<netinet6/in6_var.h>)
#include <netinet6/in6_var.h>
#else
#include "darwin_sdk_gaps.hh"  // Zig's macOS headers lack it
#endif
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <tunkit/os_error.hh>

#include "utun.hh"

namespace tunkit::darwin_tun {

namespace {

// ND6_INFINITE_LIFETIME (netinet6/nd6.h, which pulls in kernel-only declarations): an address
// that never expires and never deprecates.
constexpr uint32_t kInfiniteLifetime = 0xffffffff;

/** A datagram socket of `family` for interface ioctls, closed on scope exit. */
class IoctlSocket {
 public:
  explicit IoctlSocket(int family, const std::string& what) : fd_(::socket(family, SOCK_DGRAM, 0)) {
    if (fd_ < 0) {
      const int error = errno;
      throw OsError(error, "socket", what + ": opening a socket failed (" + errnoName(error) + ")");
    }
  }
  ~IoctlSocket() { ::close(fd_); }
  IoctlSocket(const IoctlSocket&) = delete;
  IoctlSocket& operator=(const IoctlSocket&) = delete;

  void call(unsigned long request, void* argument, const std::string& what) const {
    if (::ioctl(fd_, request, argument) != 0) {
      const int error = errno;
      std::string why;
      if (error == EPERM || error == EACCES) why = ": configuring interfaces needs root";
      throw OsError(error, "ioctl", what + " failed (" + errnoName(error) + ")" + why);
    }
  }

 private:
  int fd_;
};

void copyName(char (&into)[IFNAMSIZ], const std::string& name) {
  std::memset(into, 0, IFNAMSIZ);
  std::memcpy(into, name.data(), name.size() < IFNAMSIZ - 1 ? name.size() : IFNAMSIZ - 1);
}

sockaddr_in ipv4(const uint8_t* bytes) {
  sockaddr_in address;
  std::memset(&address, 0, sizeof address);
  address.sin_len = sizeof address;
  address.sin_family = AF_INET;
  std::memcpy(&address.sin_addr, bytes, 4);
  return address;
}

sockaddr_in6 ipv6(const uint8_t* bytes) {
  sockaddr_in6 address;
  std::memset(&address, 0, sizeof address);
  address.sin6_len = sizeof address;
  address.sin6_family = AF_INET6;
  std::memcpy(&address.sin6_addr, bytes, 16);
  return address;
}

/** The netmask of a prefix length, as address bytes. */
void maskBytes(uint32_t length, uint8_t* into, size_t size) {
  std::memset(into, 0, size);
  for (uint32_t bit = 0; bit < length && bit < size * 8; ++bit) into[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
}

}  // namespace

void setMtu(const std::string& name, uint32_t mtu) {
  ifreq request;
  std::memset(&request, 0, sizeof request);
  copyName(request.ifr_name, name);
  request.ifr_mtu = static_cast<int>(mtu);
  const std::string what = "setting MTU " + std::to_string(mtu) + " on " + name + " (SIOCSIFMTU)";
  IoctlSocket(AF_INET, what).call(SIOCSIFMTU, &request, what);
}

void setUp(const std::string& name) {
  const std::string what = "bringing " + name + " up (SIOCSIFFLAGS)";
  IoctlSocket control(AF_INET, what);
  ifreq request;
  std::memset(&request, 0, sizeof request);
  copyName(request.ifr_name, name);
  control.call(SIOCGIFFLAGS, &request, "reading the flags of " + name + " (SIOCGIFFLAGS)");
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  control.call(SIOCSIFFLAGS, &request, what);
}

void addAddress(const std::string& name, const Prefix& prefix) {
  const std::string what = "adding address " + prefixText(prefix) + " to " + name;
  if (prefix.family == 4) {
    // ifaliasreq's three sockaddrs are sockaddr_in-sized. utun is point-to-point, which wants a
    // destination: the local address itself, as wg-quick does; the subnet gets its own route.
    ifaliasreq request;
    std::memset(&request, 0, sizeof request);
    copyName(request.ifra_name, name);
    const sockaddr_in local = ipv4(prefix.address);
    uint8_t maskAddress[4];
    maskBytes(prefix.length, maskAddress, sizeof maskAddress);
    const sockaddr_in mask = ipv4(maskAddress);
    std::memcpy(&request.ifra_addr, &local, sizeof local);
    std::memcpy(&request.ifra_broadaddr, &local, sizeof local);
    std::memcpy(&request.ifra_mask, &mask, sizeof mask);
    IoctlSocket(AF_INET, what).call(SIOCAIFADDR, &request, what + " (SIOCAIFADDR)");
    return;
  }
  in6_aliasreq request;
  std::memset(&request, 0, sizeof request);
  copyName(request.ifra_name, name);
  request.ifra_addr = ipv6(prefix.address);
  uint8_t maskAddress[16];
  maskBytes(prefix.length, maskAddress, sizeof maskAddress);
  request.ifra_prefixmask = ipv6(maskAddress);
  request.ifra_lifetime.ia6t_vltime = kInfiniteLifetime;
  request.ifra_lifetime.ia6t_pltime = kInfiniteLifetime;
  IoctlSocket(AF_INET6, what).call(SIOCAIFADDR_IN6, &request, what + " (SIOCAIFADDR_IN6)");
}

}  // namespace tunkit::darwin_tun
