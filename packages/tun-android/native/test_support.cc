// Test support: a single-queue TUN fd as VpnService.establish() would give one, and entering a
// test's network namespace. Only the privileged tests call these.
#include "test_support.hh"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <tunkit/os_error.hh>

namespace tunkit::android_tun {

int openTestTun(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) throw OsError(EINVAL, "ioctl", "test TUN name '" + name + "' must be 1..15 characters");
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    throw OsError(error, "open", "opening /dev/net/tun failed (" + errnoName(error) + ")");
  }
  ifreq request;
  std::memset(&request, 0, sizeof request);
  std::memcpy(request.ifr_name, name.data(), name.size());
  request.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (::ioctl(fd, TUNSETIFF, &request) != 0) {
    const int error = errno;
    ::close(fd);
    throw OsError(error, "ioctl", "TUNSETIFF for test TUN '" + name + "' failed (" + errnoName(error) + ")");
  }
  return fd;
}

void enterNetworkNamespace(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    throw OsError(error, "open", "opening network namespace " + path + " failed (" + errnoName(error) + ")");
  }
  const int status = ::setns(fd, CLONE_NEWNET);
  const int error = errno;
  ::close(fd);
  if (status != 0) throw OsError(error, "setns", "entering network namespace " + path + " failed (" + errnoName(error) + ")");
}

}  // namespace tunkit::android_tun
