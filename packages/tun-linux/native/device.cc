// Opening the TUN queues. Why the "held by another process" checks: with IFF_MULTI_QUEUE the
// kernel lets a second process attach queues to an existing device, and the two then split the
// device's traffic between them by flow hash, corrupting both (a lesson from the reference
// design). So a new name is created with IFF_TUN_EXCL (the kernel refuses it if someone created
// it since we looked), and an existing device is checked for other holders before attaching and
// again after (someone may have attached in between; then we back off).
#include "device.hh"

#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include <tunkit/os_error.hh>

#include "netlink.hh"

// USO offload flags (Linux 6.2+), missing from older kernel headers: kernel ABI values.
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

namespace tunkit::linux_tun {

namespace {

/** How long a non-persistent device whose last holder closed it may take to disappear. */
constexpr int kDyingDeviceWaitMs = 1000;

/**
 * The pid of a process with a TUN fd attached to `name` (from /proc/PID/fdinfo "iff:"), or 0.
 * Our own process counts unless `ignoreSelf`: a second LinuxTun on one device is as wrong.
 */
long holderOf(const std::string& name, bool ignoreSelf) {
  const long self = static_cast<long>(getpid());
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  long found = 0;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || (ignoreSelf && pid == self)) continue;
    const std::string fdinfoDir = "/proc/" + std::string(entry->d_name) + "/fdinfo";
    DIR* fds = opendir(fdinfoDir.c_str());
    if (fds == nullptr) continue;
    while (dirent* fd = readdir(fds)) {
      if (fd->d_name[0] == '.') continue;
      std::ifstream info(fdinfoDir + "/" + fd->d_name);
      std::string line;
      while (std::getline(info, line)) {
        if (line.rfind("iff:", 0) == 0) {
          size_t at = 4;
          while (at < line.size() && (line[at] == ' ' || line[at] == '\t')) ++at;
          if (line.compare(at, std::string::npos, name) == 0) found = pid;
          break;
        }
      }
      if (found != 0) break;
    }
    closedir(fds);
    if (found != 0) break;
  }
  closedir(proc);
  return found;
}

OsError busyError(const std::string& name, const std::string& who) {
  return OsError(EBUSY, "open", "TUN device '" + name + "' is busy: " + who +
                                    "; two owners of one multi-queue device would split its traffic: close it first or pick another name");
}

void refuseIfHeld(const std::string& name, bool ignoreSelf) {
  const long holder = holderOf(name, ignoreSelf);
  if (holder == 0) return;
  throw busyError(name, holder == static_cast<long>(getpid()) ? std::string("this process already has it open")
                                                              : "another process holds it (pid " + std::to_string(holder) + ")");
}

/** Opens one queue fd of `name` (or of a new tunN); `exclusive`: fail with EBUSY if the name exists. */
int openQueue(const std::string& name, std::string& actualName, bool vnetHeader, bool exclusive) {
  const int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT || error == ENXIO || error == ENODEV) {
      throw OsError(error, "open", "/dev/net/tun is missing: load the tun module ('modprobe tun') or, in a container, pass the device in ('--device /dev/net/tun')");
    }
    if (error == EACCES || error == EPERM) {
      throw OsError(error, "open", "no permission to open /dev/net/tun: run as root or grant CAP_NET_ADMIN (e.g. 'setcap cap_net_admin+ep $(which node)')");
    }
    throw OsError(error, "open", std::string("cannot open /dev/net/tun: ") + std::strerror(error));
  }
  ifreq request{};
  request.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE | (vnetHeader ? IFF_VNET_HDR : 0) | (exclusive ? IFF_TUN_EXCL : 0);
  std::strncpy(request.ifr_name, actualName.empty() ? name.c_str() : actualName.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &request) < 0) {
    const int error = errno;
    close(fd);
    const std::string target = actualName.empty() ? (name.empty() ? std::string("a new device") : "'" + name + "'") : "'" + actualName + "'";
    if (error == EBUSY && exclusive) throw busyError(name, "another process created it at the same moment");
    if (error == EPERM) {
      throw OsError(error, "ioctl(TUNSETIFF)", "creating TUN device " + target + " needs CAP_NET_ADMIN: run as root or 'setcap cap_net_admin+ep $(which node)'");
    }
    if (error == EINVAL || error == EBUSY) {
      throw OsError(error, "ioctl(TUNSETIFF)", "cannot attach a TUN queue to " + target + ": an interface of that name exists and is not a multi-queue TUN device, or its queues are all taken");
    }
    throw OsError(error, "ioctl(TUNSETIFF)", "cannot create TUN device " + target + ": " + std::strerror(error));
  }
  actualName = request.ifr_name;
  return fd;
}

/**
 * Probes offloads on the first queue: TSO with checksum offload, then USO on top (Linux 6.2+).
 * Without offload the mask is reset: it is device-wide and outlives us on a persistent device.
 */
OffloadState setOffloads(int fd, bool wanted) {
  OffloadState state;
  state.vnetHeader = wanted;
  if (!wanted) {
    ioctl(fd, TUNSETOFFLOAD, 0);
    return state;
  }
  constexpr unsigned kTso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  if (ioctl(fd, TUNSETOFFLOAD, kTso | TUN_F_USO4 | TUN_F_USO6) == 0) {
    state.tso = state.uso = true;
    return state;
  }
  state.tso = ioctl(fd, TUNSETOFFLOAD, kTso) == 0;
  return state;
}

/**
 * Whether to attach to an existing interface `name` rather than create it (exclusively). Attach
 * only to a persistent TUN device nobody holds. A non-persistent one exists only while some
 * process holds a queue, or for a moment after its last holder closed it (the fd leaves /proc
 * before the kernel unregisters the device): refuse the first (EBUSY, naming the pid when we can
 * see it), wait for the second to go and then create afresh, so we never attach to a device that
 * another process is dropping and re-creating.
 */
bool attachToExisting(const std::string& name) {
  if (name.empty()) return false;
  for (int waited = 0;; ++waited) {
    const unsigned index = if_nametoindex(name.c_str());
    if (index == 0) return false;
    refuseIfHeld(name, false);
    netlink::Link link;
    try {
      link = netlink::getLink(static_cast<int>(index));
    } catch (const OsError& error) {
      if (error.error() == ENODEV) continue;  // gone meanwhile: look again
      throw;
    }
    if (!link.tun || link.tunPersistent) return true;  // not TUN (TUNSETIFF says so), or a kernel before 4.15
    if (link.tunQueues > 0) throw busyError(name, "a process this one cannot see holds it (another PID namespace?)");
    if (waited >= kDyingDeviceWaitMs) throw busyError(name, "its last holder closed it but it has not gone after " + std::to_string(kDyingDeviceWaitMs) + " ms");
    usleep(1000);
  }
}

}  // namespace

OpenedDevice openDevice(const std::string& name, unsigned queues, bool offload) {
  const bool existing = attachToExisting(name);
  OpenedDevice device;
  try {
    for (unsigned i = 0; i < queues; ++i) device.fds.push_back(openQueue(name, device.name, offload, i == 0 && !existing));
    // Someone may have attached between our check and our attach: then we are the one to back off.
    if (existing) refuseIfHeld(name, true);
    device.offload = setOffloads(device.fds[0], offload);
  } catch (...) {
    closeDevice(device);
    throw;
  }
  return device;
}

void closeDevice(OpenedDevice& device) {
  for (const int fd : device.fds) {
    if (fd >= 0) close(fd);
  }
  device.fds.clear();
}

}  // namespace tunkit::linux_tun
