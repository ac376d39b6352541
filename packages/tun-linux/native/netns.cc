#include "netns.hh"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <tunkit/os_error.hh>

namespace tunkit::linux_tun {

void enterNetworkNamespace(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw OsError(errno, "open", errnoName(errno) + " opening network namespace " + path);
  if (setns(fd, CLONE_NEWNET) < 0) {
    const int error = errno;
    close(fd);
    throw OsError(error, "setns", errnoName(error) + " entering network namespace " + path + ": " + std::strerror(error));
  }
  close(fd);
}

}  // namespace tunkit::linux_tun
