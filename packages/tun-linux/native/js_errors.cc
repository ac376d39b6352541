#include "js_errors.hh"

#include <exception>
#include <new>
#include <system_error>

#include "os_error.hh"

namespace tunkit::linux_tun {

// JS thread.
Napi::Error osErrorToJs(Napi::Env env, const std::string& message, const std::string& errnoName, const std::string& syscall) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("errno", Napi::String::New(env, errnoName));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

// JS thread, inside a catch block.
Napi::Error currentExceptionToJs(Napi::Env env) {
  try {
    throw;
  } catch (const Napi::Error& error) {
    return error;
  } catch (const OsError& error) {
    return osErrorToJs(env, error.what(), error.errnoName(), error.syscall());
  } catch (const std::system_error& error) {
    return osErrorToJs(env, error.what(), errnoName(error.code().value()), "system_error");
  } catch (const std::bad_alloc&) {
    return osErrorToJs(env, "out of memory in the tun-linux addon: lower inboundSlots/outboundSlots or queues", "ENOMEM", "malloc");
  } catch (const std::exception& error) {
    return Napi::Error::New(env, std::string("tun-linux addon: ") + error.what());
  } catch (...) {
    return Napi::Error::New(env, "tun-linux addon: unknown native exception");
  }
}

}  // namespace tunkit::linux_tun
