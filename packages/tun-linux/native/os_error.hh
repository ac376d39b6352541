// OsError: a failed system call, carrying the errno so the JS side can build a TunOsError with
// the symbolic name ("EPERM") and a message that says what to do.
#pragma once

#include <stdexcept>
#include <string>

#include <tunkit/errno_name.hh>

namespace tunkit::linux_tun {

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

}  // namespace tunkit::linux_tun
