#pragma once
// A throw-away state directory, removed with everything in it when the test ends.

#include <cstdlib>
#include <filesystem>
#include <string>

namespace mvlan::test {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/mvlan-store-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string db() const { return path + "/mvlan.db"; }
};

}  // namespace mvlan::test
