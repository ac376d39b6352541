#include "js_errors.hh"

#include <exception>
#include <new>
#include <system_error>

#include <string>

namespace tunkit::linux_tun {

// JS thread, inside a catch block.
Napi::Error currentExceptionToJs(Napi::Env env) {
  try {
    throw;
  } catch (const Napi::Error& error) {
    return error;
  } catch (const OsError& error) {
    return osErrorToJs(env, error);
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
