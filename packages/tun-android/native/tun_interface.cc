// TUNGETIFF on an adopted fd. Android's SELinux policy lets apps issue this ioctl on their own
// VpnService fd; where a policy refuses it, the caller falls back to the name it was given.
#include "tun_interface.hh"

#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cstring>

namespace tunkit::android_tun {

std::string tunInterfaceName(int fd) {
  ifreq request;
  std::memset(&request, 0, sizeof request);
  if (::ioctl(fd, TUNGETIFF, &request) != 0) return "";
  return std::string(request.ifr_name, strnlen(request.ifr_name, IFNAMSIZ));
}

}  // namespace tunkit::android_tun
