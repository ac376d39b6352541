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
  // For a TUN device whose details the kernel reports (IFLA_LINKINFO kind "tun" with
  // IFLA_INFO_DATA, Linux 4.15+): whether it outlives its fds, and how many queue fds are
  // attached (enabled + disabled). `tun` is false when unknown.
  bool tun = false;
  bool tunPersistent = false;
  uint32_t tunQueues = 0;
};

struct Prefix {
  int family = 0;           // AF_INET or AF_INET6
  uint8_t address[16] = {};  // 4 or 16 bytes used
  unsigned length = 0;      // prefix length
};

/** A policy routing rule (`ip rule`): traffic matching it looks up `table`. */
struct Rule {
  int family = 0;                    // AF_INET or AF_INET6
  uint32_t priority = 0;             // order among rules (lower first)
  uint32_t table = 0;                // routing table to look up
  uint8_t ipProtocol = 0;            // match this IP protocol (IPPROTO_UDP...), 0 for any
  uint16_t sourcePort = 0;           // match this source port (with ipProtocol), 0 for any
  int suppressPrefixLength = -1;     // ignore routes of prefix length <= this from `table`, -1 off
};

/** `what` describes the operation for error messages ("adding address 10.0.0.1/24 dev tun0"). */
int linkIndex(const std::string& name);
Link getLink(int index);
void setMtu(int index, uint32_t mtu, const std::string& what);
void setTxQueueLen(int index, uint32_t length, const std::string& what);
void setUp(int index, bool up, const std::string& what);
void changeAddress(bool add, int index, const Prefix& prefix, const std::string& what);
/** A route through interface `index` in routing table `table` (RT_TABLE_MAIN is 254). */
void changeRoute(bool add, int index, const Prefix& destination, uint32_t table, const std::string& what);
/**
 * An unreachable route (`ip route add unreachable <destination> table <table> metric <metric>`):
 * through no interface, so it outlives any device; what it matches is refused
 * (EHOSTUNREACH for IPv4, ENETUNREACH for IPv6).
 */
void changeUnreachableRoute(bool add, const Prefix& destination, uint32_t table, uint32_t metric, const std::string& what);
void changeRule(bool add, const Rule& rule, const std::string& what);
std::vector<Prefix> listAddresses(int index);
std::vector<Prefix> listRoutes(int index, uint32_t table);

}  // namespace tunkit::linux_tun::netlink
