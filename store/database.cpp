#include "store/database.h"

#include <fcntl.h>
#include <malloc.h>
#include <sqlite3.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "store/schema.h"

namespace mvlan::store {
namespace {

// Why the file system under `dir` refuses writes ("read-only", "full" or ""), asked of the kernel:
// SQLite reports both as a plain I/O error, and the errno behind it is gone by then. An unnamed
// temporary file probes it without touching the database's files or locks.
std::string write_refusal(const std::string& dir) {
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) == 0) {
    if (fs.f_flag & ST_RDONLY) return "read-only";
    if (fs.f_bavail == 0) return "full";
  }
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return "";
  }
  if (errno == EROFS) return "read-only";
  if (errno == ENOSPC || errno == EDQUOT) return "full";
  return "";
}

int open_flags(Database::Mode mode) {
  return mode == Database::Mode::ReadOnly ? SQLite::OPEN_READONLY
                                          : SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE;
}

}  // namespace

Database::Database(const std::string& path, Mode mode) try
    : path_(path), mode_(mode), db_(path, open_flags(mode)) {
  db_.setBusyTimeout(5000);
  guarded([&] {
    check_identity();
    if (mode_ == Mode::ReadWrite) {
      db_.exec("PRAGMA journal_mode=WAL");
      db_.exec("PRAGMA synchronous=FULL");
      db_.exec("PRAGMA foreign_keys=ON");
      migrate();
    }
  });
  // The start-up check read every page of the file into SQLite's cache; hand those pages back,
  // or an idle daemon keeps up to the cache's 2 MB for good.
  sqlite3_db_release_memory(db_.getHandle());
  ::malloc_trim(0);
  if (mode_ == Mode::ReadWrite) {
    writer_ = std::thread([this] { writer_loop(); });
    std::unique_lock lock(queue_mutex_);
    finished_.wait(lock, [this] { return writer_id_ != std::thread::id(); });
  }
} catch (const SQLite::Exception& e) {
  throw Error(ErrorKind::Store, "cannot open the state database " + path + ": " + e.what());
}

struct Database::Job {
  std::function<void()> body;
  std::exception_ptr error;
  bool done = false;
};

Database::~Database() {
  if (!writer_.joinable()) return;
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queued_.notify_all();
  writer_.join();
}

void Database::submit(std::function<void()> body) {
  Job job{std::move(body), nullptr, false};
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(&job);
  }
  queued_.notify_one();
  std::unique_lock lock(queue_mutex_);
  finished_.wait(lock, [&] { return job.done; });
  if (job.error) std::rethrow_exception(job.error);
}

void Database::writer_loop() {
  {
    std::lock_guard lock(queue_mutex_);
    writer_id_ = std::this_thread::get_id();
  }
  finished_.notify_all();
  constexpr size_t kMaxBatch = 64;
  for (;;) {
    std::vector<Job*> batch;
    {
      std::unique_lock lock(queue_mutex_);
      queued_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every caller answered
      const size_t n = std::min(queue_.size(), kMaxBatch);
      batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    run_batch(batch);
    {
      std::lock_guard lock(queue_mutex_);
      for (Job* job : batch) job->done = true;
    }
    finished_.notify_all();
  }
}

void Database::reset_statements() {
  for (auto& [sql, statement] : statements_) {
    try {
      statement->reset();
    } catch (const SQLite::Exception&) {
      // A statement that failed stays failed until reset; its error was already reported.
    }
  }
}

void Database::run_batch(const std::vector<Job*>& batch) {
  auto fail_all = [&](std::exception_ptr error) {
    for (Job* job : batch)
      if (!job->error) job->error = error;
  };
  // Gives up the whole batch: every job not yet failed fails with `e`, and nothing of it stays.
  auto abandon = [&](const SQLite::Exception& e) {
    fail_all(std::make_exception_ptr(store_error(e)));
    try {
      db_.exec("ROLLBACK");
    } catch (const SQLite::Exception&) {
      // The jobs already carry the error that matters; a failed ROLLBACK adds nothing to it.
    }
  };
  try {
    db_.exec("BEGIN IMMEDIATE");
  } catch (const SQLite::Exception& e) {
    fail_all(std::make_exception_ptr(store_error(e)));
    return;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    Job* job = batch[i];
    try {
      db_.exec("SAVEPOINT job");
      job->body();
      reset_statements();
      db_.exec("RELEASE job");
      continue;
    } catch (const SQLite::Exception& e) {
      job->error = std::make_exception_ptr(store_error(e));
    } catch (...) {
      job->error = std::current_exception();
    }
    reset_statements();
    // Some errors (disk full, I/O) make SQLite roll back the whole transaction by itself: then
    // the jobs before this one lost their work too, and the rest must not run outside one.
    if (sqlite3_get_autocommit(db_.getHandle())) {
      fail_all(job->error);
      return;
    }
    try {
      db_.exec("ROLLBACK TO job");
      db_.exec("RELEASE job");
    } catch (const SQLite::Exception& e) {
      abandon(e);
      return;
    }
  }
  try {
    db_.exec("COMMIT");
  } catch (const SQLite::Exception& e) {
    abandon(e);
  }
}

void Database::check_identity() {
  const int app_id = db_.execAndGet("PRAGMA application_id").getInt();
  const int version = db_.execAndGet("PRAGMA user_version").getInt();
  const int tables = db_.execAndGet("SELECT count(*) FROM sqlite_master").getInt();
  if (app_id != kApplicationId && tables > 0) {
    throw Error(ErrorKind::Store,
                "the state database " + path_ +
                    " is not an mvlan database (foreign application id); move it away or point "
                    "--state-dir elsewhere; mvlan never overwrites it");
  }
  const int known = static_cast<int>(migrations().size());
  if (version > known) {
    throw Error(ErrorKind::Store, "the state database " + path_ + " has schema version " +
                                      std::to_string(version) + ", newer than this mvlan knows (" +
                                      std::to_string(known) + "); run a newer mvlan");
  }
  if (tables > 0) {
    const std::string check = db_.execAndGet("PRAGMA quick_check").getString();
    if (check != "ok") {
      throw Error(ErrorKind::Store, "the state database " + path_ + " is corrupt (" + check +
                                        "); restore it from a backup or move it away; mvlan "
                                        "never deletes it");
    }
  }
}

void Database::migrate() {
  const auto& all = migrations();
  int version = db_.execAndGet("PRAGMA user_version").getInt();
  while (version < static_cast<int>(all.size())) {
    SQLite::Transaction txn(db_, SQLite::TransactionBehavior::EXCLUSIVE);
    db_.exec(all[static_cast<size_t>(version)]);
    ++version;
    db_.exec("PRAGMA user_version=" + std::to_string(version));
    db_.exec("PRAGMA application_id=" + std::to_string(kApplicationId));
    txn.commit();
  }
}

int Database::schema_version() {
  return read([&] { return db_.execAndGet("PRAGMA user_version").getInt(); });
}

SQLite::Statement& Database::statement(const char* sql) {
  auto& slot = statements_[sql];
  if (!slot) {
    slot = std::make_unique<SQLite::Statement>(db_, sql);
  } else {
    slot->reset();
    slot->clearBindings();
  }
  return *slot;
}

Error Database::store_error(const SQLite::Exception& e) const {
  std::string hint;
  const int code = e.getErrorCode() & 0xff;
  const bool io = code == SQLITE_IOERR || code == SQLITE_FULL || code == SQLITE_READONLY ||
                  code == SQLITE_CANTOPEN;
  const std::string refusal = io ? write_refusal(std::filesystem::path(path_).parent_path()) : "";
  if (refusal == "read-only") {
    hint =
        "; the file system holding it is read-only: make it writable and retry (nothing was "
        "changed)";
  } else if (code == SQLITE_FULL || refusal == "full") {
    hint = "; the disk holding it is full: free space and retry (nothing was changed)";
  } else {
    switch (code) {
      case SQLITE_READONLY:
      case SQLITE_PERM:
      case SQLITE_CANTOPEN:
        hint = "; it cannot be written (read-only file system or permissions): nothing was changed";
        break;
      case SQLITE_IOERR:
        hint = "; an I/O error occurred (disk full or failing?): nothing was changed";
        break;
      case SQLITE_CORRUPT:
      case SQLITE_NOTADB:
        hint = "; the file is damaged: stop mvlan and restore it from a backup";
        break;
      default: break;
    }
  }
  return Error(ErrorKind::Store, "state database " + path_ + ": " + e.what() + hint);
}

void Database::bind_at(SQLite::Statement& s, int index, const Blob& blob) {
  s.bind(index, blob.bytes.data(), static_cast<int>(blob.bytes.size()));
}

std::string column_bytes(const SQLite::Column& c) {
  const int n = c.getBytes();
  const void* p = c.getBlob();
  return n > 0 && p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n))
                    : std::string();
}

}  // namespace mvlan::store
