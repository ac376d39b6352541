// rtnetlink: interface configuration from the addon (addresses, MTU, up/down, txqueuelen,
// routes), and reading it back. Synchronous request/ack over a NETLINK_ROUTE socket; every
// call runs on the JS thread and takes microseconds (kernel-local). Errors are OsError whose
// message starts with the errno name and names the refused argument, e.g.
// "EEXIST adding route 10.0.0.0/8 dev tunkit0".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tunkit::linux_tun::netlink {

struct Link {
  int index = 0;
  std::string name;
  uint32_t mtu = 0;
  uint32_t txQueueLen = 0;
  bool up = false;
  uint64_t txDropped = 0;  // packets the kernel dropped on transmit (to us): IFLA_STATS64
  uint64_t rxDropped = 0;
};

struct Prefix {
  int family = 0;           // AF_INET or AF_INET6
  uint8_t address[16] = {};  // 4 or 16 bytes used
  unsigned length = 0;      // prefix length
};

/** `what` describes the operation for error messages ("adding address 10.0.0.1/24 dev tun0"). */
int linkIndex(const std::string& name);
Link getLink(int index);
void setMtu(int index, uint32_t mtu, const std::string& what);
void setTxQueueLen(int index, uint32_t length, const std::string& what);
void setUp(int index, bool up, const std::string& what);
void changeAddress(bool add, int index, const Prefix& prefix, const std::string& what);
void changeRoute(bool add, int index, const Prefix& destination, const std::string& what);
std::vector<Prefix> listAddresses(int index);
std::vector<Prefix> listRoutes(int index);

}  // namespace tunkit::linux_tun::netlink
