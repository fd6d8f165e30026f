#include "ipam/schema.h"

namespace mvlan::store {

const std::vector<const char*>& migrations() {
  static const std::vector<const char*> all = {
      // 1: the IPAM. Addresses are fixed-width big-endian blobs (4 or 16 bytes).
      R"sql(
      CREATE TABLE address_sets (
        id     INTEGER PRIMARY KEY,
        space  TEXT NOT NULL,
        cursor BLOB                     -- last dynamic grant; round-robin continues after it
      );
      CREATE TABLE pools (
        id         TEXT PRIMARY KEY,
        space      TEXT NOT NULL,
        family     INTEGER NOT NULL,   -- 4 or 6
        subnet     TEXT NOT NULL,
        first      BLOB NOT NULL,
        last       BLOB NOT NULL,
        ip_range   TEXT,
        allocation TEXT NOT NULL,
        set_id     INTEGER NOT NULL REFERENCES address_sets(id),
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
      );
      CREATE INDEX pools_by_range ON pools(space, family, first);
      CREATE TABLE allocations (
        set_id     INTEGER NOT NULL,
        address    BLOB NOT NULL,
        pool_id    TEXT NOT NULL,
        kind       TEXT NOT NULL,      -- gateway | reserved | container
        mac        TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        PRIMARY KEY (set_id, address)
      ) WITHOUT ROWID;
      CREATE INDEX allocations_by_pool ON allocations(pool_id);
      -- Maximal runs of consecutive granted addresses: the next free address is one lookup away.
      CREATE TABLE taken_runs (
        set_id INTEGER NOT NULL,
        lo     BLOB NOT NULL,
        hi     BLOB NOT NULL,
        PRIMARY KEY (set_id, lo)
      ) WITHOUT ROWID;
      )sql",
  };
  return all;
}

}  // namespace mvlan::store
