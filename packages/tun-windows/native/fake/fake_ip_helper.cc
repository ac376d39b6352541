// The fake IP Helper: records each configuration call on the adapter (by LUID) so tests check
// what openTun asked Windows for, and fails a call on request (fake.failNext) to test errors.
#include "fake_ip_helper.hh"

#include <string>

#include "fake_wintun.hh"

namespace tunkit::windows_tun::fake {

namespace {

std::string formatPrefix(const IpPrefix& prefix) {
  std::string text;
  if (prefix.family == 4) {
    for (int i = 0; i < 4; ++i) text += (i ? "." : "") + std::to_string(prefix.address[i]);
  } else {
    static const char* hex = "0123456789abcdef";
    for (int i = 0; i < 16; i += 2) {
      if (i) text += ':';
      const unsigned group = (prefix.address[i] << 8) | prefix.address[i + 1];
      char buffer[5];
      int n = 0;
      bool started = false;
      for (int shift = 12; shift >= 0; shift -= 4) {
        const unsigned digit = (group >> shift) & 0xF;
        if (digit != 0 || started || shift == 0) {
          buffer[n++] = hex[digit];
          started = true;
        }
      }
      text.append(buffer, n);
    }
  }
  return text + "/" + std::to_string(prefix.length);
}

uint32_t record(uint64_t luid, const char* call, const std::string& entry) {
  if (const uint32_t error = takeFailure(call)) return error;
  recordConfig(luid, entry);
  return 0;
}

}  // namespace

uint32_t setInterfaceMtu(uint64_t luid, int family, uint32_t mtu) {
  return record(luid, "SetIpInterfaceEntry", "mtu v" + std::to_string(family) + " " + std::to_string(mtu));
}

uint32_t addUnicastAddress(uint64_t luid, const IpPrefix& prefix) {
  return record(luid, "CreateUnicastIpAddressEntry", "address " + formatPrefix(prefix));
}

uint32_t addRoute(uint64_t luid, const IpPrefix& prefix, uint32_t metric) {
  return record(luid, "CreateIpForwardEntry2", "route add " + formatPrefix(prefix) + " metric " + std::to_string(metric));
}

uint32_t deleteRoute(uint64_t luid, const IpPrefix& prefix) {
  return record(luid, "DeleteIpForwardEntry2", "route delete " + formatPrefix(prefix));
}

}  // namespace tunkit::windows_tun::fake
