#pragma once
// The SQLite rows that find a free address fast: an address set's taken runs (maximal intervals
// of consecutive granted addresses, which allocator.h's first_free walks in O(log n)) and its
// round-robin cursors. Which address is granted is SqlitePoolStore's business; these rows only
// follow the allocations. Only inside Database::write()/read().

#include <optional>

#include "ipam/allocator.h"
#include "store/database.h"

namespace mvlan::ipam {

// An address column; throws Error(Store) when it holds no address.
Address address_column(const SQLite::Column& c);

class SqliteAddressSets {
 public:
  explicit SqliteAddressSets(store::Database& db) : db_(db) {}

  // The taken run with the greatest lower end <= x, if any.
  std::optional<Run> run_at_or_before(long long set_id, const Address& x);
  // `a` was just granted: it joins the runs next to it, or starts its own.
  void taken(long long set_id, const Address& a);
  // `a` was just freed: the run holding it splits around it.
  void freed(long long set_id, const Address& a);
  // The runs again from the set's allocations (after pools or sets changed wholesale).
  void rebuild_runs(long long set_id);

  // The last dynamic grant from `bounds` (an ip-range, or the subnet's usable addresses).
  std::optional<Address> cursor(long long set_id, const Bounds& bounds);
  void set_cursor(long long set_id, const Bounds& bounds, const Address& last);

 private:
  void add_run(long long set_id, const Address& lo, const Address& hi);
  void drop_run(long long set_id, const Address& lo);

  store::Database& db_;
};

}  // namespace mvlan::ipam
