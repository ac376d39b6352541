// The WinApi table over the fake WinTun, fake kernel32 and fake IP Helper (no N-API: the C++
// unit tests use it directly).
#pragma once

#include "../win_api.hh"

namespace tunkit::windows_tun::fake {

const WinApi& table();

}  // namespace tunkit::windows_tun::fake
