#include "plugin/state_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace mvlan::plugin {

StateLock::StateLock(const std::string& state_dir) {
  const std::string path = state_dir + "/mvlan.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw std::runtime_error("cannot open the lock file " + path + ": " + std::strerror(errno));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    const std::string owner = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("another mvlan serve (pid " + owner.substr(0, owner.find('\n')) +
                             ") already uses the state directory " + state_dir +
                             "; stop it first or give a different --state-dir");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    // The lock itself holds; only the PID shown to a second instance is missing.
  }
}

StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace mvlan::plugin
