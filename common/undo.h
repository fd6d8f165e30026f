#pragma once
// A change made in steps (an IPAM grant, a record, a link) must not stay half made when a later
// step fails. Each step registers how to take itself back right after it succeeded; leaving the
// scope without commit() takes back every registered step, the newest first, as Go's deferred
// cleanups do. commit() keeps them all.

#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/log.h"

namespace mvlan {

class Undo {
 public:
  Undo() = default;
  Undo(const Undo&) = delete;
  Undo& operator=(const Undo&) = delete;
  ~Undo() {
    for (auto step = steps_.rbegin(); step != steps_.rend(); ++step) {
      // The failure that started the undo is the one the caller reports; a cleanup's own failure
      // (it runs during unwinding, so it cannot be thrown) is logged.
      try {
        (*step)();
      } catch (const std::exception& e) {
        log::warn(std::string("undoing a failed change: ") + e.what());
      }
    }
  }

  void add(std::function<void()> step) { steps_.push_back(std::move(step)); }
  void commit() { steps_.clear(); }

 private:
  std::vector<std::function<void()>> steps_;
};

}  // namespace mvlan
