// Interface configuration through IP Helper (netioapi): CreateUnicastIpAddressEntry for each
// address, CreateIpForwardEntry2 / DeleteIpForwardEntry2 for on-link routes, and
// GetIpInterfaceEntry + SetIpInterfaceEntry for the MTU of each family.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <winsock2.h>
#include <ws2ipdef.h>
#include <windows.h>
#include <iphlpapi.h>
#include <netioapi.h>

#include <cstring>

#include "ip_helper_win32.hh"

namespace tunkit::windows_tun::iphelper {

namespace {

void toSockaddr(const IpPrefix& prefix, SOCKADDR_INET& out) {
  std::memset(&out, 0, sizeof out);
  if (prefix.family == 6) {
    out.Ipv6.sin6_family = AF_INET6;
    std::memcpy(&out.Ipv6.sin6_addr, prefix.address, 16);
  } else {
    out.Ipv4.sin_family = AF_INET;
    std::memcpy(&out.Ipv4.sin_addr, prefix.address, 4);
  }
}

void routeRow(uint64_t luid, const IpPrefix& prefix, MIB_IPFORWARD_ROW2& row) {
  InitializeIpForwardEntry(&row);
  row.InterfaceLuid.Value = luid;
  toSockaddr(prefix, row.DestinationPrefix.Prefix);
  row.DestinationPrefix.PrefixLength = prefix.length;
  // On-link: the next hop is the unspecified address of the family.
  std::memset(&row.NextHop, 0, sizeof row.NextHop);
  row.NextHop.si_family = prefix.family == 6 ? AF_INET6 : AF_INET;
}

}  // namespace

uint32_t setInterfaceMtu(uint64_t luid, int family, uint32_t mtu) {
  MIB_IPINTERFACE_ROW row;
  InitializeIpInterfaceEntry(&row);
  row.InterfaceLuid.Value = luid;
  row.Family = family == 6 ? AF_INET6 : AF_INET;
  const DWORD error = GetIpInterfaceEntry(&row);
  if (error != NO_ERROR) return error;
  row.NlMtu = mtu;
  // Why: GetIpInterfaceEntry fills SitePrefixLength for IPv4 with a value SetIpInterfaceEntry
  // then refuses (ERROR_INVALID_PARAMETER); it only has meaning for IPv6.
  if (row.Family == AF_INET) row.SitePrefixLength = 0;
  return SetIpInterfaceEntry(&row);
}

uint32_t addUnicastAddress(uint64_t luid, const IpPrefix& prefix) {
  MIB_UNICASTIPADDRESS_ROW row;
  InitializeUnicastIpAddressEntry(&row);
  row.InterfaceLuid.Value = luid;
  toSockaddr(prefix, row.Address);
  row.OnLinkPrefixLength = prefix.length;
  // Usable at once: a point-to-point tunnel has nobody to detect duplicates against.
  row.DadState = IpDadStatePreferred;
  return CreateUnicastIpAddressEntry(&row);
}

uint32_t addRoute(uint64_t luid, const IpPrefix& prefix, uint32_t metric) {
  MIB_IPFORWARD_ROW2 row;
  routeRow(luid, prefix, row);
  row.Metric = metric;
  // A static route, as "route add" makes (the enumerator, not MIB_IPPROTO_NETMGMT: mingw declares that one as an int).
  row.Protocol = RouteProtocolNetMgmt;
  return CreateIpForwardEntry2(&row);
}

uint32_t deleteRoute(uint64_t luid, const IpPrefix& prefix) {
  MIB_IPFORWARD_ROW2 row;
  routeRow(luid, prefix, row);
  return DeleteIpForwardEntry2(&row);
}

}  // namespace tunkit::windows_tun::iphelper
