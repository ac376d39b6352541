// rtnetlink requests, built by hand on a NETLINK_ROUTE socket (no libmnl dependency): a request
// with NLM_F_ACK, then read until the ACK (an NLMSG_ERROR with error 0) or an error.
#include "netlink.hh"

#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include <tunkit/os_error.hh>

namespace tunkit::linux_tun::netlink {

namespace {

constexpr size_t kBufferSize = 32768;

/** A request message being built: header, family-specific struct, attributes. */
class Request {
 public:
  Request(uint16_t type, uint16_t flags) {
    header()->nlmsg_type = type;
    header()->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    header()->nlmsg_len = NLMSG_LENGTH(0);
  }
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buffer_); }
  template <typename T>
  T* body() {
    T* at = reinterpret_cast<T*>(NLMSG_DATA(header()));
    header()->nlmsg_len = NLMSG_LENGTH(sizeof(T));
    return at;
  }
  void attribute(uint16_t type, const void* data, size_t size) {
    const size_t at = NLMSG_ALIGN(header()->nlmsg_len);
    auto* rta = reinterpret_cast<rtattr*>(buffer_ + at);
    rta->rta_type = type;
    rta->rta_len = static_cast<uint16_t>(RTA_LENGTH(size));
    std::memcpy(RTA_DATA(rta), data, size);
    header()->nlmsg_len = static_cast<uint32_t>(at + RTA_ALIGN(rta->rta_len));
  }
  void attribute32(uint16_t type, uint32_t value) { attribute(type, &value, sizeof value); }

 private:
  alignas(nlmsghdr) char buffer_[512] = {};
};

class Socket {
 public:
  explicit Socket(const std::string& what) {
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd_ < 0) throw OsError(errno, "socket(NETLINK_ROUTE)", errnoName(errno) + " opening rtnetlink for " + what);
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
      const int error = errno;
      close(fd_);
      throw OsError(error, "bind(NETLINK_ROUTE)", errnoName(error) + " binding rtnetlink for " + what);
    }
  }
  ~Socket() { close(fd_); }

  /** Sends `request` and calls `onMessage` for each reply until the ACK or the end of a dump. */
  void transact(Request& request, const std::string& syscall, const std::string& what,
                const std::function<void(const nlmsghdr*)>& onMessage = {}) {
    request.header()->nlmsg_seq = ++sequence_;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd_, request.header(), request.header()->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
      throw OsError(errno, syscall, errnoName(errno) + " " + what);
    }
    alignas(nlmsghdr) static thread_local char buffer[kBufferSize];
    for (;;) {
      const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw OsError(errno, syscall, errnoName(errno) + " " + what);
      }
      int remaining = static_cast<int>(n);
      for (auto* message = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(message, remaining);
           message = NLMSG_NEXT(message, remaining)) {
        if (message->nlmsg_seq != sequence_) continue;
        if (message->nlmsg_type == NLMSG_DONE) return;
        if (message->nlmsg_type == NLMSG_ERROR) {
          const auto* error = reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(message));
          if (error->error == 0) return;  // the ACK
          const int code = -error->error;
          throw OsError(code, syscall, errnoName(code) + " " + what + ": " + std::strerror(code));
        }
        if (onMessage) onMessage(message);
      }
    }
  }

 private:
  int fd_ = -1;
  uint32_t sequence_ = 0;
};

void changeLink(int index, unsigned flags, unsigned change, int attributeType, uint32_t attributeValue, const std::string& what) {
  Request request(RTM_NEWLINK, NLM_F_ACK);
  auto* info = request.body<ifinfomsg>();
  info->ifi_family = AF_UNSPEC;
  info->ifi_index = index;
  info->ifi_flags = flags;
  info->ifi_change = change;
  if (attributeType >= 0) request.attribute32(static_cast<uint16_t>(attributeType), attributeValue);
  Socket(what).transact(request, "rtnetlink RTM_NEWLINK", what);
}

size_t addressSize(int family) { return family == AF_INET6 ? 16 : 4; }

/** Reads IFLA_LINKINFO: kind "tun" and its IFLA_INFO_DATA (persist flag, attached queues). */
void parseLinkInfo(const rtattr* linkInfo, Link& link) {
  int length = static_cast<int>(RTA_PAYLOAD(linkInfo));
  const rtattr* data = nullptr;
  bool tun = false;
  for (auto* rta = static_cast<const rtattr*>(RTA_DATA(linkInfo)); RTA_OK(rta, length); rta = RTA_NEXT(rta, length)) {
    if (rta->rta_type == IFLA_INFO_KIND) tun = std::strncmp(static_cast<const char*>(RTA_DATA(rta)), "tun", RTA_PAYLOAD(rta)) == 0;
    if (rta->rta_type == IFLA_INFO_DATA) data = rta;
  }
  // Kernels before 4.15 name the kind but give no details: then `tun` stays false (unknown).
  link.tun = tun && data != nullptr;
  if (!link.tun) return;
  length = static_cast<int>(RTA_PAYLOAD(data));
  for (auto* rta = static_cast<const rtattr*>(RTA_DATA(data)); RTA_OK(rta, length); rta = RTA_NEXT(rta, length)) {
    if (rta->rta_type == IFLA_TUN_PERSIST) link.tunPersistent = *static_cast<const uint8_t*>(RTA_DATA(rta)) != 0;
    if (rta->rta_type == IFLA_TUN_NUM_QUEUES || rta->rta_type == IFLA_TUN_NUM_DISABLED_QUEUES) {
      link.tunQueues += *static_cast<const uint32_t*>(RTA_DATA(rta));
    }
  }
}

}  // namespace

int linkIndex(const std::string& name) {
  const unsigned index = if_nametoindex(name.c_str());
  if (index == 0) throw OsError(errno, "if_nametoindex", errnoName(errno) + " looking up interface " + name);
  return static_cast<int>(index);
}

Link getLink(int index) {
  Request request(RTM_GETLINK, NLM_F_ACK);
  auto* info = request.body<ifinfomsg>();
  info->ifi_family = AF_UNSPEC;
  info->ifi_index = index;
  Link link;
  link.index = index;
  const std::string what = "reading interface " + std::to_string(index);
  Socket(what).transact(request, "rtnetlink RTM_GETLINK", what, [&](const nlmsghdr* message) {
    if (message->nlmsg_type != RTM_NEWLINK) return;
    const auto* reply = reinterpret_cast<const ifinfomsg*>(NLMSG_DATA(message));
    link.up = (reply->ifi_flags & IFF_UP) != 0;
    int length = static_cast<int>(IFLA_PAYLOAD(message));
    for (auto* rta = IFLA_RTA(reply); RTA_OK(rta, length); rta = RTA_NEXT(rta, length)) {
      if (rta->rta_type == IFLA_MTU) link.mtu = *reinterpret_cast<const uint32_t*>(RTA_DATA(rta));
      if (rta->rta_type == IFLA_TXQLEN) link.txQueueLen = *reinterpret_cast<const uint32_t*>(RTA_DATA(rta));
      if (rta->rta_type == IFLA_IFNAME) link.name = reinterpret_cast<const char*>(RTA_DATA(rta));
      if (rta->rta_type == IFLA_LINKINFO) parseLinkInfo(rta, link);
      if (rta->rta_type == IFLA_STATS64 && RTA_PAYLOAD(rta) >= sizeof(rtnl_link_stats64)) {
        rtnl_link_stats64 stats;
        std::memcpy(&stats, RTA_DATA(rta), sizeof stats);
        link.txDropped = stats.tx_dropped;
        link.rxDropped = stats.rx_dropped;
      }
    }
  });
  return link;
}

void setMtu(int index, uint32_t mtu, const std::string& what) { changeLink(index, 0, 0, IFLA_MTU, mtu, what); }

void setTxQueueLen(int index, uint32_t length, const std::string& what) { changeLink(index, 0, 0, IFLA_TXQLEN, length, what); }

void setUp(int index, bool up, const std::string& what) { changeLink(index, up ? IFF_UP : 0, IFF_UP, -1, 0, what); }

void changeAddress(bool add, int index, const Prefix& prefix, const std::string& what) {
  Request request(add ? RTM_NEWADDR : RTM_DELADDR, NLM_F_ACK | (add ? (NLM_F_CREATE | NLM_F_EXCL) : 0));
  auto* message = request.body<ifaddrmsg>();
  message->ifa_family = static_cast<uint8_t>(prefix.family);
  message->ifa_prefixlen = static_cast<uint8_t>(prefix.length);
  message->ifa_index = static_cast<uint32_t>(index);
  message->ifa_scope = RT_SCOPE_UNIVERSE;
  if (prefix.family == AF_INET6) message->ifa_flags = IFA_F_NODAD;  // usable at once: no duplicate detection on a point-to-point tunnel
  request.attribute(IFA_LOCAL, prefix.address, addressSize(prefix.family));
  request.attribute(IFA_ADDRESS, prefix.address, addressSize(prefix.family));
  Socket(what).transact(request, add ? "rtnetlink RTM_NEWADDR" : "rtnetlink RTM_DELADDR", what);
}

namespace {

/** An RTM_NEWROUTE/RTM_DELROUTE request for `destination` in `table`, of `type` and `scope`. */
Request routeRequest(bool add, const Prefix& destination, uint32_t table, uint8_t type, uint8_t scope) {
  Request request(add ? RTM_NEWROUTE : RTM_DELROUTE, NLM_F_ACK | (add ? (NLM_F_CREATE | NLM_F_EXCL) : 0));
  auto* message = request.body<rtmsg>();
  message->rtm_family = static_cast<uint8_t>(destination.family);
  message->rtm_dst_len = static_cast<uint8_t>(destination.length);
  message->rtm_table = table < 256 ? static_cast<uint8_t>(table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
  message->rtm_protocol = RTPROT_STATIC;
  message->rtm_scope = scope;
  message->rtm_type = type;
  request.attribute(RTA_DST, destination.address, addressSize(destination.family));
  request.attribute32(RTA_TABLE, table);
  return request;
}

}  // namespace

void changeRoute(bool add, int index, const Prefix& destination, uint32_t table, const std::string& what) {
  Request request = routeRequest(add, destination, table, RTN_UNICAST, RT_SCOPE_LINK);
  request.attribute32(RTA_OIF, static_cast<uint32_t>(index));
  Socket(what).transact(request, add ? "rtnetlink RTM_NEWROUTE" : "rtnetlink RTM_DELROUTE", what);
}

void changeUnreachableRoute(bool add, const Prefix& destination, uint32_t table, uint32_t metric, const std::string& what) {
  Request request = routeRequest(add, destination, table, RTN_UNREACHABLE, RT_SCOPE_UNIVERSE);
  request.attribute32(RTA_PRIORITY, metric);
  Socket(what).transact(request, add ? "rtnetlink RTM_NEWROUTE" : "rtnetlink RTM_DELROUTE", what);
}

void changeRule(bool add, const Rule& rule, const std::string& what) {
  Request request(add ? RTM_NEWRULE : RTM_DELRULE, NLM_F_ACK | (add ? (NLM_F_CREATE | NLM_F_EXCL) : 0));
  auto* message = request.body<fib_rule_hdr>();
  message->family = static_cast<uint8_t>(rule.family);
  message->table = rule.table < 256 ? static_cast<uint8_t>(rule.table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
  message->action = FR_ACT_TO_TBL;
  request.attribute32(FRA_PRIORITY, rule.priority);
  request.attribute32(FRA_TABLE, rule.table);
  if (rule.ipProtocol != 0) request.attribute(FRA_IP_PROTO, &rule.ipProtocol, sizeof rule.ipProtocol);
  if (rule.sourcePort != 0) {
    const fib_rule_port_range range{rule.sourcePort, rule.sourcePort};
    request.attribute(FRA_SPORT_RANGE, &range, sizeof range);
  }
  if (rule.suppressPrefixLength >= 0) request.attribute32(FRA_SUPPRESS_PREFIXLEN, static_cast<uint32_t>(rule.suppressPrefixLength));
  Socket(what).transact(request, add ? "rtnetlink RTM_NEWRULE" : "rtnetlink RTM_DELRULE", what);
}

std::vector<Prefix> listAddresses(int index) {
  std::vector<Prefix> result;
  for (const int family : {AF_INET, AF_INET6}) {
    Request request(RTM_GETADDR, NLM_F_DUMP);
    request.body<ifaddrmsg>()->ifa_family = static_cast<uint8_t>(family);
    const std::string what = "listing addresses";
    Socket(what).transact(request, "rtnetlink RTM_GETADDR", what, [&](const nlmsghdr* message) {
      if (message->nlmsg_type != RTM_NEWADDR) return;
      const auto* reply = reinterpret_cast<const ifaddrmsg*>(NLMSG_DATA(message));
      if (static_cast<int>(reply->ifa_index) != index) return;
      Prefix prefix;
      prefix.family = reply->ifa_family;
      prefix.length = reply->ifa_prefixlen;
      int length = static_cast<int>(IFA_PAYLOAD(message));
      for (auto* rta = IFA_RTA(reply); RTA_OK(rta, length); rta = RTA_NEXT(rta, length)) {
        // IFA_LOCAL is the interface's own address; IPv6 reports only IFA_ADDRESS.
        if (rta->rta_type == IFA_LOCAL || (rta->rta_type == IFA_ADDRESS && prefix.address[0] == 0)) {
          std::memcpy(prefix.address, RTA_DATA(rta), addressSize(prefix.family));
        }
      }
      result.push_back(prefix);
    });
  }
  return result;
}

std::vector<Prefix> listRoutes(int index, uint32_t table) {
  std::vector<Prefix> result;
  for (const int family : {AF_INET, AF_INET6}) {
    Request request(RTM_GETROUTE, NLM_F_DUMP);
    request.body<rtmsg>()->rtm_family = static_cast<uint8_t>(family);
    const std::string what = "listing routes";
    Socket(what).transact(request, "rtnetlink RTM_GETROUTE", what, [&](const nlmsghdr* message) {
      if (message->nlmsg_type != RTM_NEWROUTE) return;
      const auto* reply = reinterpret_cast<const rtmsg*>(NLMSG_DATA(message));
      if (reply->rtm_type != RTN_UNICAST) return;
      Prefix prefix;
      prefix.family = reply->rtm_family;
      prefix.length = reply->rtm_dst_len;
      int oif = 0;
      uint32_t routeTable = reply->rtm_table;
      int length = static_cast<int>(RTM_PAYLOAD(message));
      for (auto* rta = RTM_RTA(reply); RTA_OK(rta, length); rta = RTA_NEXT(rta, length)) {
        if (rta->rta_type == RTA_DST) std::memcpy(prefix.address, RTA_DATA(rta), addressSize(prefix.family));
        if (rta->rta_type == RTA_OIF) oif = *reinterpret_cast<const int*>(RTA_DATA(rta));
        if (rta->rta_type == RTA_TABLE) routeTable = *reinterpret_cast<const uint32_t*>(RTA_DATA(rta));
      }
      if (oif == index && routeTable == table) result.push_back(prefix);
    });
  }
  return result;
}

}  // namespace tunkit::linux_tun::netlink
