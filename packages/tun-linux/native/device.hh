// Opening a multi-queue TUN device: one fd per queue on one interface, non-blocking, close-on-exec.
#pragma once

#include <string>
#include <vector>

#include "tunkit_linux.hh"

namespace tunkit::linux_tun {

struct OpenedDevice {
  std::string name;
  std::vector<int> fds;
  OffloadState offload;
};

/**
 * Opens `queues` fds with IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE on interface `name` (the kernel
 * names it when empty). Refuses an interface that another process holds. Throws OsError.
 * JS thread.
 */
OpenedDevice openDevice(const std::string& name, unsigned queues, bool offload);

/** Closes the fds (an fd set to -1 is left alone). */
void closeDevice(OpenedDevice& device);

}  // namespace tunkit::linux_tun
