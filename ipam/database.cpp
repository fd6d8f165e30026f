#include "ipam/database.h"

#include <sqlite3.h>

#include "ipam/schema.h"

namespace mvlan::store {
namespace {

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
} catch (const SQLite::Exception& e) {
  throw Error(ErrorKind::Store, "cannot open the state database " + path + ": " + e.what());
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
  switch (e.getErrorCode() & 0xff) {
    case SQLITE_FULL:
      hint = "; the disk holding it is full: free space and retry (nothing was changed)";
      break;
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
    default:
      break;
  }
  return Error(ErrorKind::Store, "state database " + path_ + ": " + e.what() + hint);
}

void bind_bytes(SQLite::Statement& s, int index, const std::string& bytes) {
  s.bind(index, bytes.data(), static_cast<int>(bytes.size()));
}

std::string column_bytes(const SQLite::Column& c) {
  const int n = c.getBytes();
  const void* p = c.getBlob();
  return n > 0 && p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n))
                    : std::string();
}

}  // namespace mvlan::store
