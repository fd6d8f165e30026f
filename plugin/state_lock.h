#pragma once
// One `serve` per state directory: two writers would each trust their own cursor and view of the
// links. The lock file holds the owner's PID so the refusal can name it.

#include <string>

namespace mvlan::plugin {

class StateLock {
 public:
  // Throws std::runtime_error naming the running owner when the directory is taken.
  explicit StateLock(const std::string& state_dir);
  ~StateLock();
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace mvlan::plugin
