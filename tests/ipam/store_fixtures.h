#pragma once
// What the store suites share: a throw-away database directory and short request builders.

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "ipam/allocator.h"
#include "common/error.h"
#include "tests/support/temp_dir.h"

namespace mvlan::ipam::test {

using mvlan::test::TempDir;

inline PoolSpec spec(const char* subnet, const char* range = nullptr, bool v6 = false) {
  PoolRequest r;
  r.address_space = kLocalSpace;
  r.pool = subnet;
  r.sub_pool = range ? range : "";
  r.v6 = v6;
  return validate_pool_request(r);
}

inline AddressRequest any() { return {}; }
inline AddressRequest at(const char* a, const char* mac = "") {
  AddressRequest r;
  r.address = Address::parse(a);
  r.mac = mac;
  return r;
}
inline AddressRequest gateway(const char* a = nullptr) {
  AddressRequest r;
  if (a) r.address = Address::parse(a);
  r.gateway = true;
  return r;
}

inline ErrorKind kind_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.kind;
  }
  FAIL("no error");
  return ErrorKind::Invalid;
}

}  // namespace mvlan::ipam::test
