#include "ipam/sqlite_bindings.h"

#include <algorithm>
#include <chrono>

#include "common/error.h"

namespace mvlan::ipam {
namespace {

using store::Blob;
using store::column_bytes;
using store::rows;

Binding binding_from(SQLite::Statement& s, int first) {
  // Columns from `first`: name, address, parked_at
  auto a = Address::from_bytes(column_bytes(s.getColumn(first + 1)));
  if (!a) throw Error(ErrorKind::Store, "state database holds a malformed bound address");
  Binding b{s.getColumn(first).getString(), *a, std::nullopt};
  if (!s.getColumn(first + 2).isNull()) b.parked_at = s.getColumn(first + 2).getInt64();
  return b;
}

long long now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::optional<Binding> SqliteBindings::find(const std::string& pool_id, const std::string& name) {
  auto& s =
      db_.bound("SELECT name, address, parked_at FROM bindings WHERE pool_id = ? AND name = ?",
                pool_id, name);
  if (!s.executeStep()) return std::nullopt;
  return binding_from(s, 0);
}

std::optional<PlacedBinding> SqliteBindings::at(long long set_id, const Address& a) {
  auto& s = db_.bound(
      "SELECT pool_id, name, address, parked_at FROM bindings WHERE set_id = ? AND address = ?",
      static_cast<int64_t>(set_id), Blob{a.bytes()});
  if (!s.executeStep()) return std::nullopt;
  return PlacedBinding{s.getColumn(0).getString(), binding_from(s, 1)};
}

void SqliteBindings::bind(const std::string& pool_id, long long set_id, const std::string& name,
                          const Address& a) {
  db_.bound(
         "INSERT INTO bindings (pool_id, name, set_id, address, parked_at) "
         "VALUES (?, ?, ?, ?, NULL)",
         pool_id, name, static_cast<int64_t>(set_id), Blob{a.bytes()})
      .exec();
}

void SqliteBindings::hold(const std::string& pool_id, const std::string& name) {
  db_.bound("UPDATE bindings SET parked_at = NULL WHERE pool_id = ? AND name = ?", pool_id, name)
      .exec();
}

void SqliteBindings::park(long long set_id, const Address& a) {
  // The clock may step back (NTP, a reboot without RTC): eviction order must not. The set's last
  // stamp is read once, then kept (only this process parks; a rolled-back one only skips ahead).
  auto cached = last_parked_.find(set_id);
  if (cached == last_parked_.end()) {
    auto& last =
        db_.bound("SELECT max(parked_at) FROM bindings WHERE set_id = ? AND parked_at IS NOT NULL",
                  static_cast<int64_t>(set_id));
    long long known = 0;
    if (last.executeStep() && !last.getColumn(0).isNull()) known = last.getColumn(0).getInt64();
    cached = last_parked_.emplace(set_id, known).first;
  }
  const long long stamp = std::max(now_ms(), cached->second + 1);
  cached->second = stamp;
  db_.bound("UPDATE bindings SET parked_at = ? WHERE set_id = ? AND address = ?",
            static_cast<int64_t>(stamp), static_cast<int64_t>(set_id), Blob{a.bytes()})
      .exec();
}

void SqliteBindings::drop(const std::string& pool_id, const std::string& name) {
  db_.bound("DELETE FROM bindings WHERE pool_id = ? AND name = ?", pool_id, name).exec();
}

std::optional<PlacedBinding> SqliteBindings::oldest_parked(long long set_id, const Bounds& within) {
  auto& s = db_.bound(
      "SELECT pool_id, name, address, parked_at FROM bindings WHERE set_id = ? AND parked_at IS "
      "NOT NULL AND address >= ? AND address <= ? ORDER BY parked_at LIMIT 1",
      static_cast<int64_t>(set_id), Blob{within.lo.bytes()}, Blob{within.hi.bytes()});
  if (!s.executeStep()) return std::nullopt;
  return PlacedBinding{s.getColumn(0).getString(), binding_from(s, 1)};
}

std::vector<Binding> SqliteBindings::of_pool(const std::string& pool_id) {
  auto& s = db_.bound(
      "SELECT name, address, parked_at FROM bindings WHERE pool_id = ? ORDER BY name", pool_id);
  return rows(s, [](SQLite::Statement& row) { return binding_from(row, 0); });
}

void SqliteBindings::drop_pool(const std::string& pool_id) {
  db_.bound("DELETE FROM bindings WHERE pool_id = ?", pool_id).exec();
}

void SqliteBindings::move_set(long long from, long long into) {
  last_parked_.erase(from);
  last_parked_.erase(into);
  db_.bound("UPDATE bindings SET set_id = ? WHERE set_id = ?", static_cast<int64_t>(into),
            static_cast<int64_t>(from))
      .exec();
}

}  // namespace mvlan::ipam
