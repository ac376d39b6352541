// The few private-header definitions the darwin sources need when the SDK in use lacks
// <sys/sys_domain.h> and <netinet6/in6_var.h>: Apple's macOS SDK ships both, the macOS headers
// bundled with Zig (which cross-builds the prebuilds on Linux, scripts/prebuilds.mjs) do not.
// Checked against xnu's own sources (apple-oss-distributions/xnu: bsd/sys/sys_domain.h,
// bsd/netinet6/in6_var.h): the same values and the same field order and types as there, so the
// ioctl number (which encodes sizeof(in6_aliasreq)) and the layout match the kernel's.
// Included only through __has_include fallbacks (utun_darwin.cc, interface_config_darwin.cc).
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioccom.h>
#include <sys/types.h>

#include <cstdint>
#include <ctime>

// sys/sys_domain.h: the kernel-control protocol of PF_SYSTEM sockets, and its address subtype.
#ifndef SYSPROTO_CONTROL
#define SYSPROTO_CONTROL 2
#endif
#ifndef AF_SYS_CONTROL
#define AF_SYS_CONTROL 2
#endif

// netinet6/in6_var.h: adding an IPv6 address (ifconfig's SIOCAIFADDR_IN6).
struct in6_addrlifetime {
  time_t ia6t_expire;
  time_t ia6t_preferred;
  uint32_t ia6t_vltime;
  uint32_t ia6t_pltime;
};

struct in6_aliasreq {
  char ifra_name[IFNAMSIZ];
  struct sockaddr_in6 ifra_addr;
  struct sockaddr_in6 ifra_dstaddr;
  struct sockaddr_in6 ifra_prefixmask;
  int ifra_flags;
  struct in6_addrlifetime ifra_lifetime;
};

#ifndef SIOCAIFADDR_IN6
#define SIOCAIFADDR_IN6 _IOW('i', 26, struct in6_aliasreq)
#endif
