// What each platform backend provides (chosen in binding.gyp: win32/ on Windows, fake/ elsewhere):
// the WinApi table, loaded once per process, and any extra addon exports (the fake's test hooks).
#pragma once

#include <napi.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "win_api.hh"

namespace tunkit::windows_tun {

/** wintun.dll could not be loaded (code "WINTUN_MISSING") or lacks a function ("WINTUN_TOO_OLD"). */
class LoadError : public std::runtime_error {
 public:
  LoadError(std::string code, std::string message, std::vector<std::string> tried)
      : std::runtime_error(std::move(message)), code_(std::move(code)), tried_(std::move(tried)) {}
  const std::string& code() const { return code_; }
  /** Where the loader looked, in order (UTF-8). */
  const std::vector<std::string>& tried() const { return tried_; }

 private:
  std::string code_;
  std::vector<std::string> tried_;
};

/**
 * The table, resolving wintun.dll on first use: each of `explicitPaths` (the dllPath option,
 * then TUNKIT_WINTUN_DLL) in order, then "wintun.dll" from the application directory and
 * System32 only. Throws LoadError. JS thread.
 */
const WinApi& loadWinApi(const std::vector<std::u16string>& explicitPaths);

/** Adds the backend's extra exports (none on Windows; the fake's controls elsewhere). JS thread. */
void registerPlatformExports(Napi::Env env, Napi::Object exports);

/** True in the fake backend (tests), false in the Windows one. */
bool isFakeBackend();

}  // namespace tunkit::windows_tun
