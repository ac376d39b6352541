// The N-API side of OsError: a JS Error carrying `errno` (symbolic name) and `syscall`, which an
// addon's native.ts turns into tun-core's TunOsError. JS thread only.
#pragma once

#include <napi.h>

#include <string>
#include <utility>

#include "os_error.hh"

namespace tunkit {

/** A JS Error with `errno` (a symbolic name, "EPERM") and `syscall` set. JS thread. */
inline Napi::Error osErrorToJs(Napi::Env env, const std::string& message, const std::string& errnoName, const std::string& syscall) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("errno", Napi::String::New(env, errnoName));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

/** The JS Error for `error`, with `errno` and `syscall` set. JS thread. */
inline Napi::Error osErrorToJs(Napi::Env env, const OsError& error) {
  return osErrorToJs(env, error.what(), error.errnoName(), error.syscall());
}

/** Runs `body`, rethrowing an OsError as the JS Error above. JS thread. */
template <typename F>
auto translateOsError(Napi::Env env, F&& body) -> decltype(body()) {
  try {
    return std::forward<F>(body)();
  } catch (const OsError& error) {
    throw osErrorToJs(env, error);
  }
}

}  // namespace tunkit
