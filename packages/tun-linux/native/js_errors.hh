// C++ failures → JS errors, at the N-API boundary. An OsError becomes an Error with `errno` and
// `syscall` (tun-core's osErrorToJs; src/native.ts wraps it in TunOsError); bad_alloc becomes ENOMEM; any other exception
// an Error with its message. Every entry point that can fail funnels through here, so no C++
// exception reaches N-API (where it would abort the process); binding.gyp also defines
// NODE_ADDON_API_CPP_EXCEPTIONS_ALL, the net under anything missed. JS thread only.
#pragma once

#include <napi.h>

#include <tunkit/os_error_js.hh>

namespace tunkit::linux_tun {

/** The JS error for the exception being handled; call only inside a catch block. JS thread. */
Napi::Error currentExceptionToJs(Napi::Env env);

/** Runs `body`; any C++ exception leaves it as the JS error currentExceptionToJs makes. JS thread. */
template <typename F>
auto translate(Napi::Env env, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw currentExceptionToJs(env);
  }
}

}  // namespace tunkit::linux_tun
