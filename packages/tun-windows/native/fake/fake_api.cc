// The fake backend's WinApi table and loader. The loader honours the same search order as the
// Windows one (explicit paths, then the application directory and System32) and can be told the
// DLL is missing, so the "where it looked" error is tested on Linux.
#include <atomic>

#include "../platform.hh"
#include "fake_table.hh"

namespace tunkit::windows_tun {

namespace fake {
std::atomic<bool> dllPresent{true};
}  // namespace fake

namespace {

std::string narrow(const std::u16string& text) {
  std::string out;
  for (char16_t c : text) out.push_back(c < 0x80 ? static_cast<char>(c) : '?');
  return out;
}

}  // namespace

// JS thread.
const WinApi& loadWinApi(const std::vector<std::u16string>& explicitPaths) {
  if (fake::dllPresent.load()) return fake::table();
  std::vector<std::string> tried;
  for (const auto& path : explicitPaths) tried.push_back(narrow(path));
  tried.push_back("C:\\fake\\node-directory\\wintun.dll");
  tried.push_back("C:\\Windows\\System32\\wintun.dll");
  throw LoadError("WINTUN_MISSING", "wintun.dll was not found", tried);
}

bool isFakeBackend() { return true; }

}  // namespace tunkit::windows_tun
