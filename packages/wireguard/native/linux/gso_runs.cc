// Grouping a batch's datagrams into UDP GSO runs (see gso_runs.hh).
#include "gso_runs.hh"

#include <cstring>

#include "udp_address.hh"

namespace tunkit::wireguard {

uint32_t gsoRunLength(const uint32_t* lengths, const uint8_t* addresses, uint32_t maxRun) {
  const uint32_t size = lengths[0];
  if (size == 0) return 1;
  uint32_t run = 1;
  while (run < maxRun && run < kMaxGsoSegments && lengths[run - 1] == size && lengths[run] <= size && lengths[run] > 0 &&
         uint64_t{run + 1} * size <= kMaxGsoBytes &&
         std::memcmp(addresses, addresses + size_t{run} * kAddressBytes, kAddressBytes) == 0) {
    ++run;
  }
  return run;
}

}  // namespace tunkit::wireguard
