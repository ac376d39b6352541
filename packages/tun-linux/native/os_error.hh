// tun-linux's OsError is tun-core's (tunkit/os_error.hh). This forwarding header remains only
// for udp_socket.cc, which still includes it; drop it once that file includes the tun-core one.
#pragma once

#include <tunkit/os_error.hh>
