// OsError: a failed system call as a C++ exception that keeps the errno and the call's name, so
// the JS side can throw tun-core's TunOsError ("EPERM", "ioctl") with a message saying what to do.
// Plain C++ (no Napi types): thread code and syscall wrappers throw it; os_error_js.hh converts it.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include "errno_name.hh"

namespace tunkit {

class OsError : public std::runtime_error {
 public:
  OsError(int error, std::string syscall, const std::string& message)
      : std::runtime_error(message), error_(error), syscall_(std::move(syscall)) {}
  int error() const { return error_; }
  const std::string& syscall() const { return syscall_; }
  std::string errnoName() const { return tunkit::errnoName(error_); }

 private:
  int error_;
  std::string syscall_;
};

}  // namespace tunkit
