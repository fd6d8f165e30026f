#pragma once
// The kinds of failure every layer reports. The HTTP edge maps a kind to a status; the message is
// what the user reads in `docker ...` output, so it names the field, the value and what is valid.

#include <stdexcept>
#include <string>

namespace mvlan {

enum class ErrorKind {
  Invalid,    // the request itself is wrong: nothing was changed
  NotFound,   // it names a pool, network or endpoint mvlan does not have
  Conflict,   // valid, but clashes with what exists (address in use, overlapping pool)
  Exhausted,  // no free address or pool left
  Kernel,     // the kernel refused a link change
  Store,      // the state database failed (disk full, read-only, corrupt)
};

struct Error : std::runtime_error {
  Error(ErrorKind k, const std::string& message) : std::runtime_error(message), kind(k) {}
  ErrorKind kind;
};

inline Error invalid(const std::string& m) {
  return Error(ErrorKind::Invalid, m);
}
inline Error not_found(const std::string& m) {
  return Error(ErrorKind::NotFound, m);
}
inline Error conflict(const std::string& m) {
  return Error(ErrorKind::Conflict, m);
}

}  // namespace mvlan
