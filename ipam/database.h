#pragma once
// The one SQLite database behind every store: opened, checked and migrated here; every write runs
// in one transaction that is durable (WAL, synchronous=FULL) before the caller answers anyone.

#include <SQLiteCpp/SQLiteCpp.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "ipam/error.h"

namespace mvlan::store {

class Database {
 public:
  enum class Mode { ReadWrite, ReadOnly };

  // ReadWrite creates the file if missing and migrates it; a foreign, corrupt or newer database is
  // refused with Error(Store) naming the file and what to do. It is never re-initialised.
  Database(const std::string& path, Mode mode);

  // Runs `fn` in one IMMEDIATE transaction under the writer lock and commits; on any exception it
  // rolls back, so a failed request changes nothing.
  template <class Fn>
  auto write(Fn&& fn) -> decltype(fn()) {
    std::lock_guard lock(mutex_);
    return guarded([&] {
      SQLite::Transaction txn(db_, SQLite::TransactionBehavior::IMMEDIATE);
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        txn.commit();
      } else {
        auto result = fn();
        txn.commit();
        return result;
      }
    });
  }

  // Reads under the same lock (the connection is shared); a snapshot by virtue of the lock.
  template <class Fn>
  auto read(Fn&& fn) -> decltype(fn()) {
    std::lock_guard lock(mutex_);
    return guarded(fn);
  }

  // A prepared statement, compiled once and reset for each use. Only inside write() or read().
  SQLite::Statement& statement(const char* sql);

  const std::string& path() const { return path_; }
  int schema_version();

  static constexpr int kApplicationId = 0x6d766c6e;  // "mvln": tells our files from foreign ones

 private:
  template <class Fn>
  auto guarded(Fn&& fn) -> decltype(fn()) {
    try {
      return fn();
    } catch (const SQLite::Exception& e) {
      throw store_error(e);
    }
  }
  Error store_error(const SQLite::Exception& e) const;
  void check_identity();
  void migrate();

  std::string path_;
  Mode mode_;
  SQLite::Database db_;
  std::mutex mutex_;
  std::unordered_map<const char*, std::unique_ptr<SQLite::Statement>> statements_;
};

// Blob helpers: addresses are stored as fixed-width big-endian bytes so SQLite orders them.
void bind_bytes(SQLite::Statement& s, int index, const std::string& bytes);
std::string column_bytes(const SQLite::Column& c);

}  // namespace mvlan::store
