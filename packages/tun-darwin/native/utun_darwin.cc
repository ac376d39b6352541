// Opening a utun interface on macOS: a PF_SYSTEM kernel-control socket connected to
// "com.apple.net.utun_control" is the interface; closing the socket destroys it. Darwin-only
// (binding.gyp: OS=="mac"). Compiled and linked for x64 and arm64 in CI by the prebuild builder,
// never run there (CI has no Mac): written from the kern_control(4)/utun documentation and xnu's
// headers.
#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/kern_control.h>
#include <sys/socket.h>
#if __has_include(<sys/sys_domain.h>)
#include <sys/sys_domain.h>
#else
#include "darwin_sdk_gaps.hh"  // Zig's macOS headers lack it
#endif
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>

#include <tunkit/os_error.hh>

#include "utun.hh"

namespace tunkit::darwin_tun {

namespace {

// From xnu's net/if_utun.h, which not every SDK ships: the kernel control's name, and the
// SYSPROTO_CONTROL socket option that returns the interface name.
constexpr char kUtunControlName[] = "com.apple.net.utun_control";
constexpr int kUtunOptionInterfaceName = 2;

// The utun socket's buffers are small by default; the receive buffer is what holds packets the
// kernel routed to us while JS is busy, so a larger one means fewer drops in bursts. Best effort:
// kern.ipc.maxsockbuf may cap it.
constexpr int kSocketBufferBytes = 2 * 1024 * 1024;

/** Closes the fd unless released: the error paths below must not leak it. */
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

std::string unitText(int unit) { return unit < 0 ? std::string("utun") : "utun" + std::to_string(unit); }

}  // namespace

OpenedUtun openUtun(int unit) {
  const std::string wanted = unitText(unit);
  const int fd = ::socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL);
  if (fd < 0) {
    const int error = errno;
    throw OsError(error, "socket", "opening a kernel-control socket for " + wanted + " failed (" + errnoName(error) + ")");
  }
  FdGuard guard(fd);
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);

  ctl_info info;
  std::memset(&info, 0, sizeof info);
  std::strncpy(info.ctl_name, kUtunControlName, sizeof info.ctl_name - 1);
  if (::ioctl(fd, CTLIOCGINFO, &info) != 0) {
    const int error = errno;
    throw OsError(error, "ioctl", "looking up the utun kernel control (CTLIOCGINFO) failed (" + errnoName(error) + ")");
  }

  sockaddr_ctl address;
  std::memset(&address, 0, sizeof address);
  address.sc_len = sizeof address;
  address.sc_family = AF_SYSTEM;
  address.ss_sysaddr = AF_SYS_CONTROL;
  address.sc_id = info.ctl_id;
  // sc_unit N + 1 is utunN; 0 lets the kernel pick the first free unit.
  address.sc_unit = unit < 0 ? 0 : static_cast<uint32_t>(unit) + 1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    std::string why;
    if (error == EBUSY) why = ": " + wanted + " is in use, pick another unit or name 'utun' to let the kernel choose";
    else if (error == EPERM || error == EACCES) why = ": creating utun interfaces needs root";
    throw OsError(error, "connect", "creating " + wanted + " failed (" + errnoName(error) + ")" + why);
  }

  for (const int option : {SO_RCVBUF, SO_SNDBUF}) {
    const int bytes = kSocketBufferBytes;
    ::setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes);
  }
  OpenedUtun opened;
  opened.name = utunName(fd);
  opened.fd = guard.release();
  return opened;
}

std::string utunName(int fd) {
  char name[IFNAMSIZ + 1];
  std::memset(name, 0, sizeof name);
  socklen_t length = IFNAMSIZ;
  if (::getsockopt(fd, SYSPROTO_CONTROL, kUtunOptionInterfaceName, name, &length) != 0) {
    const int error = errno;
    throw OsError(error, "getsockopt",
                  "fd " + std::to_string(fd) + " is not a utun control socket (UTUN_OPT_IFNAME: " + errnoName(error) +
                      "): pass the utun fd, or give { name } to fromFd");
  }
  return std::string(name, strnlen(name, IFNAMSIZ));
}

}  // namespace tunkit::darwin_tun
