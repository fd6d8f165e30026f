#pragma once
// Docker's ids are 64 hex characters; people see them as the 12 that `docker network ls` and
// `docker ps` show, so messages, logs and link names use the same 12.

#include <string>

namespace mvlan {

inline std::string short_id(const std::string& id) {
  return id.substr(0, 12);
}

}  // namespace mvlan
