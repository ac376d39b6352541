// Turns the addon's C++ errors into JS errors that src/native.ts wraps in tun-core's types:
// WinError → { errno: "ERROR_…", syscall, win32 } (TunOsError); LoadError → { code, tried } (TunConfigError).
#pragma once

#include <napi.h>

#include <tunkit/os_error_js.hh>

#include "platform.hh"
#include "win_error.hh"

namespace tunkit::windows_tun {

/** tun-core's osErrorToJs (errno, syscall) plus the numeric Win32 code. JS thread. */
inline Napi::Error toJsError(Napi::Env env, const WinError& error) {
  Napi::Error e = osErrorToJs(env, error.what(), error.name(), error.call());
  e.Set("win32", Napi::Number::New(env, error.code()));
  return e;
}

inline Napi::Error toJsError(Napi::Env env, const LoadError& error) {
  Napi::Error e = Napi::Error::New(env, error.what());
  e.Set("wintunCode", Napi::String::New(env, error.code()));
  Napi::Array tried = Napi::Array::New(env, error.tried().size());
  for (size_t i = 0; i < error.tried().size(); ++i) tried.Set(static_cast<uint32_t>(i), error.tried()[i]);
  e.Set("tried", tried);
  return e;
}

}  // namespace tunkit::windows_tun
