// Entering a network namespace (setns) from the JS thread. For tests and tools that must create
// their devices inside a namespace they made; threads and child processes started afterwards by
// this thread inherit it.
#pragma once

#include <string>

namespace tunkit::linux_tun {

/** Moves the calling thread into the namespace at `path` (e.g. /var/run/netns/NAME). JS thread. */
void enterNetworkNamespace(const std::string& path);

}  // namespace tunkit::linux_tun
