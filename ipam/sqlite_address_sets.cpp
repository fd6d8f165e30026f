#include "ipam/sqlite_address_sets.h"

#include <vector>

#include "common/error.h"

namespace mvlan::ipam {

using store::Blob;
using store::column_bytes;

Address address_column(const SQLite::Column& c) {
  auto a = Address::from_bytes(column_bytes(c));
  if (!a) throw Error(ErrorKind::Store, "state database holds a malformed address");
  return *a;
}

std::optional<Run> SqliteAddressSets::run_at_or_before(long long set_id, const Address& x) {
  auto& s = db_.bound(
      "SELECT lo, hi FROM taken_runs WHERE set_id = ? AND lo <= ? ORDER BY lo DESC LIMIT 1",
      static_cast<int64_t>(set_id), Blob{x.bytes()});
  if (!s.executeStep()) return std::nullopt;
  return Run{address_column(s.getColumn(0)), address_column(s.getColumn(1))};
}

void SqliteAddressSets::add_run(long long set_id, const Address& lo, const Address& hi) {
  db_.bound("INSERT INTO taken_runs (set_id, lo, hi) VALUES (?, ?, ?)",
            static_cast<int64_t>(set_id), Blob{lo.bytes()}, Blob{hi.bytes()})
      .exec();
}

void SqliteAddressSets::drop_run(long long set_id, const Address& lo) {
  db_.bound("DELETE FROM taken_runs WHERE set_id = ? AND lo = ?", static_cast<int64_t>(set_id),
            Blob{lo.bytes()})
      .exec();
}

void SqliteAddressSets::taken(long long set_id, const Address& a) {
  // Keep runs maximal: join the run ending just before `a` and the one starting just after it.
  std::optional<Run> left;
  if (a.value() != 0) {
    if (auto r = run_at_or_before(set_id, a.prev()); r && r->hi == a.prev()) left = r;
  }
  std::optional<Run> right;
  if (!a.is_max()) {
    auto& s = db_.bound("SELECT hi FROM taken_runs WHERE set_id = ? AND lo = ?",
                        static_cast<int64_t>(set_id), Blob{a.next().bytes()});
    if (s.executeStep()) right = Run{a.next(), address_column(s.getColumn(0))};
  }
  if (right) drop_run(set_id, right->lo);
  const Address hi = right ? right->hi : a;
  if (left) {
    db_.bound("UPDATE taken_runs SET hi = ? WHERE set_id = ? AND lo = ?", Blob{hi.bytes()},
              static_cast<int64_t>(set_id), Blob{left->lo.bytes()})
        .exec();
  } else {
    add_run(set_id, a, hi);
  }
}

void SqliteAddressSets::freed(long long set_id, const Address& a) {
  auto run = run_at_or_before(set_id, a);
  if (!run || run->hi < a) return;  // runs already agree (cannot happen unless rebuilt meanwhile)
  drop_run(set_id, run->lo);
  if (run->lo < a) add_run(set_id, run->lo, a.prev());
  if (a < run->hi) add_run(set_id, a.next(), run->hi);
}

void SqliteAddressSets::rebuild_runs(long long set_id) {
  db_.bound("DELETE FROM taken_runs WHERE set_id = ?", static_cast<int64_t>(set_id)).exec();
  std::vector<Run> runs;
  {
    auto& s = db_.bound("SELECT address FROM allocations WHERE set_id = ? ORDER BY address",
                        static_cast<int64_t>(set_id));
    while (s.executeStep()) {
      const Address a = address_column(s.getColumn(0));
      if (!runs.empty() && !runs.back().hi.is_max() && runs.back().hi.next() == a) {
        runs.back().hi = a;
      } else {
        runs.push_back({a, a});
      }
    }
  }
  for (const auto& r : runs) add_run(set_id, r.lo, r.hi);
}

std::optional<Address> SqliteAddressSets::cursor(long long set_id, const Bounds& bounds) {
  auto& s =
      db_.bound("SELECT last FROM cursors WHERE set_id = ? AND lo = ? AND hi = ?",
                static_cast<int64_t>(set_id), Blob{bounds.lo.bytes()}, Blob{bounds.hi.bytes()});
  if (!s.executeStep()) return std::nullopt;
  return Address::from_bytes(column_bytes(s.getColumn(0)));
}

void SqliteAddressSets::set_cursor(long long set_id, const Bounds& bounds, const Address& last) {
  db_.bound("INSERT OR REPLACE INTO cursors (set_id, lo, hi, last) VALUES (?, ?, ?, ?)",
            static_cast<int64_t>(set_id), Blob{bounds.lo.bytes()}, Blob{bounds.hi.bytes()},
            Blob{last.bytes()})
      .exec();
}

}  // namespace mvlan::ipam
