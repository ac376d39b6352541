// The N-API side of OsError: a JS Error carrying `errno` (symbolic name) and `syscall`, which an
// addon's native.ts turns into tun-core's TunOsError; and the one exceptions policy of every addon
// (STYLE §7): each entry point that can fail funnels through translateOsError, so no C++ exception
// reaches N-API, and every binding.gyp defines NODE_ADDON_API_CPP_EXCEPTIONS_ALL, the net under
// anything missed, and NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: while a worker is being terminated
// napi_throw fails, and without it node-addon-api throws a new Napi::Error out of its C callback
// wrapper, which aborts the whole process (seen once in the worker.terminate() lifecycle test).
// JS thread only.
#pragma once

#include <napi.h>

#include <exception>
#include <new>
#include <string>
#include <system_error>
#include <utility>

#include "device_end.hh"
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

/** A device's `endedBy` for JS: undefined while it runs, else its OsError as osErrorToJs makes it. JS thread. */
inline Napi::Value endedByToJs(Napi::Env env, const DeviceEnd<OsError>& end) {
  if (!end.ended()) return env.Undefined();
  return osErrorToJs(env, *end.endedBy()).Value();
}

/**
 * The JS error for the exception being handled; call only inside a catch block. An OsError or a
 * std::system_error gets `errno` and `syscall`; bad_alloc becomes ENOMEM; any other exception an
 * Error with its message, prefixed with `addon` ("tun-linux"). JS thread.
 */
inline Napi::Error currentExceptionToJs(Napi::Env env, const char* addon = "tunkit") {
  try {
    throw;
  } catch (const Napi::Error& error) {
    return error;
  } catch (const OsError& error) {
    return osErrorToJs(env, error);
  } catch (const std::system_error& error) {
    return osErrorToJs(env, error.what(), errnoName(error.code().value()), "system_error");
  } catch (const std::bad_alloc&) {
    return osErrorToJs(env, std::string("out of memory in the ") + addon + " addon: lower the device's slot counts (inboundSlots, outboundSlots) or its queues",
                       "ENOMEM", "malloc");
  } catch (const std::exception& error) {
    return Napi::Error::New(env, std::string(addon) + " addon: " + error.what());
  } catch (...) {
    return Napi::Error::New(env, std::string(addon) + " addon: unknown native exception");
  }
}

/** Runs `body`; any C++ exception leaves it as the JS error currentExceptionToJs makes. JS thread. */
template <typename F>
auto translateOsError(Napi::Env env, const char* addon, F&& body) -> decltype(body()) {
  try {
    return std::forward<F>(body)();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw currentExceptionToJs(env, addon);
  }
}

/** translateOsError with the generic addon name "tunkit" in messages. JS thread. */
template <typename F>
auto translateOsError(Napi::Env env, F&& body) -> decltype(body()) {
  return translateOsError(env, "tunkit", std::forward<F>(body));
}

}  // namespace tunkit
