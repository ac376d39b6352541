// Win32 error names ("ERROR_ACCESS_DENIED"...) for messages and TunOsError's `errno`, and the
// exception that carries one from a Win32 or WinTun call to the N-API glue.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "win_api.hh"

namespace tunkit::windows_tun {

inline std::string win32ErrorName(uint32_t error) {
  switch (error) {
    case win32_error::kSuccess: return "ERROR_SUCCESS";
    case win32_error::kFileNotFound: return "ERROR_FILE_NOT_FOUND";
    case win32_error::kAccessDenied: return "ERROR_ACCESS_DENIED";
    case win32_error::kNotEnoughMemory: return "ERROR_NOT_ENOUGH_MEMORY";
    case win32_error::kInvalidData: return "ERROR_INVALID_DATA";
    case win32_error::kHandleEof: return "ERROR_HANDLE_EOF";
    case win32_error::kNotSupported: return "ERROR_NOT_SUPPORTED";
    case win32_error::kInvalidParameter: return "ERROR_INVALID_PARAMETER";
    case win32_error::kBufferOverflow: return "ERROR_BUFFER_OVERFLOW";
    case win32_error::kModNotFound: return "ERROR_MOD_NOT_FOUND";
    case win32_error::kProcNotFound: return "ERROR_PROC_NOT_FOUND";
    case win32_error::kAlreadyExists: return "ERROR_ALREADY_EXISTS";
    case win32_error::kNoMoreItems: return "ERROR_NO_MORE_ITEMS";
    case win32_error::kNotFound: return "ERROR_NOT_FOUND";
    case win32_error::kObjectAlreadyExists: return "ERROR_OBJECT_ALREADY_EXISTS";
    case 1: return "ERROR_INVALID_FUNCTION";
    case 6: return "ERROR_INVALID_HANDLE";
    case 21: return "ERROR_NOT_READY";
    case 31: return "ERROR_GEN_FAILURE";
    case 1060: return "ERROR_SERVICE_DOES_NOT_EXIST";
    case 1223: return "ERROR_CANCELLED";
    case 1231: return "ERROR_NETWORK_UNREACHABLE";
    case 1232: return "ERROR_HOST_UNREACHABLE";
    case 1460: return "ERROR_TIMEOUT";
    case 3758096928u: return "ERROR_DRIVER_BLOCKED";  // 0xE0000220, SetupAPI
    default: return "WIN32_ERROR_" + std::to_string(error);
  }
}

/** A failed Win32 / WinTun call: the error code, the call's name, and a message saying what failed. */
class WinError : public std::runtime_error {
 public:
  WinError(uint32_t code, std::string call, const std::string& what)
      : std::runtime_error(what + " (" + call + ": " + win32ErrorName(code) + ")"), code_(code), call_(std::move(call)) {}
  uint32_t code() const { return code_; }
  const std::string& call() const { return call_; }
  std::string name() const { return win32ErrorName(code_); }

 private:
  uint32_t code_;
  std::string call_;
};

}  // namespace tunkit::windows_tun
