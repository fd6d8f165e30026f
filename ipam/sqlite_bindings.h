#pragma once
// The SQLite table of sticky bindings (name -> address per pool). Only the rows: which grant a
// binding keeps, and when, is SqlitePoolStore's business. Only inside Database::write()/read().

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ipam/allocator.h"
#include "ipam/pool.h"
#include "store/database.h"

namespace mvlan::ipam {

struct PlacedBinding {
  std::string pool_id;
  Binding binding;
};

class SqliteBindings {
 public:
  explicit SqliteBindings(store::Database& db) : db_(db) {}

  std::optional<Binding> find(const std::string& pool_id, const std::string& name);
  std::optional<PlacedBinding> at(long long set_id, const Address& a);
  // Binds `name` to `a` as held; the pool must have no binding of that name.
  void bind(const std::string& pool_id, long long set_id, const std::string& name,
            const Address& a);
  void hold(const std::string& pool_id, const std::string& name);
  // Parked now, and later than every other parked binding of the set (eviction order).
  void park(long long set_id, const Address& a);
  void drop(const std::string& pool_id, const std::string& name);
  // The binding parked longest whose address lies in `within`.
  std::optional<PlacedBinding> oldest_parked(long long set_id, const Bounds& within);
  std::vector<Binding> of_pool(const std::string& pool_id);
  void drop_pool(const std::string& pool_id);
  void move_set(long long from, long long into);

 private:
  store::Database& db_;
  std::map<long long, long long> last_parked_;  // set -> its latest parked_at
};

}  // namespace mvlan::ipam
