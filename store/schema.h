#pragma once
// Forward-only schema migrations; PRAGMA user_version counts those applied. Never edit a
// released migration: append a new one, so every existing database upgrades in place.

#include <vector>

namespace mvlan::store {

const std::vector<const char*>& migrations();

}  // namespace mvlan::store
