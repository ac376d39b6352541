// flowHash: the symmetric 5-tuple hash that picks a packet's queue, the same function as
// tun-core's TS flowHash (packages/tun-core/src/ip.ts), so one flow, in either direction, always
// maps to one queue. Malformed packets hash to 0 (queue 0).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tunkit::linux_tun {

uint32_t flowHash(const uint8_t* packet, size_t length);

}  // namespace tunkit::linux_tun
