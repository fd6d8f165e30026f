#pragma once
// A request a test expects the daemon to grant: Catch assertions, so include it from test files
// only (tests/support's library itself has no Catch).

#include <catch2/catch.hpp>
#include <string>

#include "tests/support/daemon.h"

namespace mvlan::test {

// POSTs `body` to `path`, requires HTTP 200 (a failure shows the request and the answer) and
// returns the parsed answer.
inline json ok(Daemon& d, const std::string& path, const json& body) {
  const Answer a = d.post(path, body);
  INFO(path << " " << body.dump() << " -> " << a.status << " " << a.body);
  REQUIRE(a.status == 200);
  return a.parsed();
}

}  // namespace mvlan::test
