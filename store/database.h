#pragma once
// The one SQLite database behind every store: opened, checked and migrated here; every write runs
// in one transaction that is durable (WAL, synchronous=FULL) before the caller answers anyone.

#include <SQLiteCpp/SQLiteCpp.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/error.h"

namespace mvlan::store {

// Bytes bound as a blob (a std::string binds as text): addresses are stored as fixed-width
// big-endian bytes so SQLite orders them.
struct Blob {
  std::string bytes;
};

class Database {
 public:
  enum class Mode { ReadWrite, ReadOnly };

  // ReadWrite creates the file if missing and migrates it; a foreign, corrupt or newer database is
  // refused with Error(Store) naming the file and what to do. It is never re-initialised.
  Database(const std::string& path, Mode mode);

  // Runs `fn` atomically and durably: it has committed (fsync'd) when write() returns, and on any
  // exception nothing it did remains, so a failed request changes nothing. Concurrent writes are
  // committed together (group commit: one transaction, one savepoint per caller, one fsync), so
  // 16 clients cost about one disk flush, not 16.
  template <class Fn>
  auto write(Fn&& fn) -> decltype(fn()) {
    return run(std::forward<Fn>(fn));
  }

  // Reads go through the same single connection and queue: a consistent view between writes.
  template <class Fn>
  auto read(Fn&& fn) -> decltype(fn()) {
    return run(std::forward<Fn>(fn));
  }

  // A prepared statement, compiled once and reset for each use. Only inside write() or read().
  SQLite::Statement& statement(const char* sql);

  // statement(sql) with `args` bound to its parameters in order, the first to ?1: a Blob as a
  // blob, an empty std::optional as NULL, anything else as Statement::bind takes it (text, int,
  // int64_t, double; a long long or size_t is ambiguous there, so cast it). Only inside write()
  // or read().
  template <class... Args>
  SQLite::Statement& bound(const char* sql, const Args&... args) {
    SQLite::Statement& s = statement(sql);
    int index = 0;
    (bind_at(s, ++index, args), ...);
    return s;
  }

  const std::string& path() const { return path_; }
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  int schema_version();

  static constexpr int kApplicationId = 0x6d766c6e;  // "mvln": tells our files from foreign ones

 private:
  template <class Fn>
  auto run(Fn&& fn) -> decltype(fn()) {
    using Result = decltype(fn());
    // Read-only handles (mvlan status) have no writer thread; a store method called from inside
    // another one's job is already in the transaction.
    if (mode_ == Mode::ReadOnly) {
      std::lock_guard lock(inline_mutex_);
      return guarded(fn);
    }
    if (std::this_thread::get_id() == writer_id_) return guarded(fn);
    if constexpr (std::is_void_v<Result>) {
      submit([&] { guarded(fn); });
    } else {
      std::optional<Result> result;
      submit([&] { result.emplace(guarded(fn)); });
      return std::move(*result);
    }
  }

  template <class T>
  static void bind_at(SQLite::Statement& s, int index, const T& value) {
    s.bind(index, value);
  }
  template <class T>
  static void bind_at(SQLite::Statement& s, int index, const std::optional<T>& value) {
    if (value) {
      bind_at(s, index, *value);
    } else {
      s.bind(index);
    }
  }
  static void bind_at(SQLite::Statement& s, int index, const Blob& blob);

  struct Job;
  void submit(std::function<void()> body);
  void writer_loop();
  void run_batch(const std::vector<Job*>& batch);
  void reset_statements();

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
  std::unordered_map<const char*, std::unique_ptr<SQLite::Statement>> statements_;
  std::mutex inline_mutex_;

  std::mutex queue_mutex_;
  std::condition_variable queued_;
  std::condition_variable finished_;
  std::vector<Job*> queue_;
  bool stopping_ = false;
  std::thread writer_;
  std::thread::id writer_id_;
};

// A blob column's bytes (see Blob).
std::string column_bytes(const SQLite::Column& c);

// Every row `s` yields, each made into a value by `from(s)`, in the order they come.
template <class From>
auto rows(SQLite::Statement& s, From&& from) -> std::vector<decltype(from(s))> {
  std::vector<decltype(from(s))> out;
  while (s.executeStep()) out.push_back(from(s));
  return out;
}

}  // namespace mvlan::store
