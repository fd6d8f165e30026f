#include "store/schema.h"

namespace mvlan::store {

const std::vector<const char*>& migrations() {
  static const std::vector<const char*> all = {
      // 1: the IPAM. Addresses are fixed-width big-endian blobs (4 or 16 bytes).
      R"sql(
      CREATE TABLE address_sets (
        id     INTEGER PRIMARY KEY,
        space  TEXT NOT NULL
      );
      -- The last dynamic grant per address set and dynamic range: round-robin continues after
      -- it. Networks sharing a subnet with different ip-ranges each keep their own cycle.
      CREATE TABLE cursors (
        set_id INTEGER NOT NULL,
        lo     BLOB NOT NULL,
        hi     BLOB NOT NULL,
        last   BLOB NOT NULL,
        PRIMARY KEY (set_id, lo, hi)
      ) WITHOUT ROWID;
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
        kind       TEXT NOT NULL,      -- gateway | static | dynamic
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
      // 2: the network driver: networks, their endpoints, and the parent links mvlan created.
      R"sql(
      CREATE TABLE networks (
        id         TEXT PRIMARY KEY,
        parent     TEXT NOT NULL,
        mode       TEXT NOT NULL,       -- bridge | private | vepa | passthru
        mtu        INTEGER NOT NULL,    -- 0: inherit the parent's
        internal   INTEGER NOT NULL,
        ipv6       INTEGER NOT NULL,
        gateway4   TEXT NOT NULL,       -- "" when none
        gateway6   TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
      );
      CREATE INDEX networks_by_parent ON networks(parent);
      -- VLAN and dummy links mvlan made: deleted with the last network on them, re-made at start.
      CREATE TABLE owned_parents (
        name    TEXT PRIMARY KEY,
        kind    TEXT NOT NULL,          -- vlan | dummy
        base    TEXT NOT NULL,          -- the VLAN's base link, "" for dummy
        vlan_id INTEGER NOT NULL        -- 0 for dummy
      );
      CREATE TABLE endpoints (
        id         TEXT PRIMARY KEY,
        network_id TEXT NOT NULL REFERENCES networks(id),
        mac        TEXT NOT NULL,
        address4   TEXT NOT NULL,
        address6   TEXT NOT NULL,
        link       TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
      );
      CREATE INDEX endpoints_by_network ON endpoints(network_id);
      )sql",
      // 3: host access (-o host_access): the host's own address on the network and the pool it
      // is reserved in, so that no container is ever granted it. The shim link's name is derived
      // from the network id ("mh" + 12 characters).
      R"sql(
      ALTER TABLE networks ADD COLUMN host_access TEXT NOT NULL DEFAULT '';  -- plain address
      ALTER TABLE networks ADD COLUMN host_pool   TEXT NOT NULL DEFAULT '';  -- its PoolID
      )sql",
      // 4: ReleaseAddress finds an endpoint still holding the address (one whose CreateEndpoint
      // Docker gave up on) without reading every endpoint.
      R"sql(
      CREATE INDEX endpoints_by_address4 ON endpoints(address4);
      CREATE INDEX endpoints_by_address6 ON endpoints(address6);
      )sql",
      // 5: sticky addresses. A container's name (engines >= 29 send it) bound to the address it
      // was granted in a pool. While no container holds it the binding is parked (parked_at set)
      // and its allocation row stays, so the taken runs keep every other grant off it; only when
      // no other address is free is the oldest parked one given to someone else.
      R"sql(
      ALTER TABLE pools ADD COLUMN sticky INTEGER NOT NULL DEFAULT 1;
      CREATE TABLE bindings (
        pool_id   TEXT NOT NULL,
        name      TEXT NOT NULL,
        set_id    INTEGER NOT NULL,
        address   BLOB NOT NULL,
        parked_at INTEGER,             -- unix ms, strictly increasing per set; NULL while held
        PRIMARY KEY (pool_id, name)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX bindings_by_address ON bindings(set_id, address);
      CREATE INDEX bindings_parked ON bindings(set_id, parked_at) WHERE parked_at IS NOT NULL;
      )sql",
      // 6: every subnet of a network with its own gateway: Join answers the gateway of the subnet
      // holding the endpoint's address. A network stored before keeps its one gateway per family
      // under subnet '' (its subnets were not recorded), which Join matches by the endpoint's own
      // prefix.
      R"sql(
      CREATE TABLE network_subnets (
        network_id   TEXT NOT NULL REFERENCES networks(id),
        family       INTEGER NOT NULL,            -- 4 or 6
        subnet       TEXT NOT NULL,               -- canonical prefix; '' before migration 6
        gateway      TEXT NOT NULL,               -- plain address, '' when none
        gateway_pool TEXT NOT NULL DEFAULT '',    -- PoolID when mvlan reserved the gateway itself
        PRIMARY KEY (network_id, family, subnet)
      );                                          -- rowid order: Docker's order of the subnets
      INSERT INTO network_subnets (network_id, family, subnet, gateway)
        SELECT id, 4, '', gateway4 FROM networks WHERE gateway4 != '';
      INSERT INTO network_subnets (network_id, family, subnet, gateway)
        SELECT id, 6, '', gateway6 FROM networks WHERE gateway6 != '';
      ALTER TABLE networks DROP COLUMN gateway4;
      ALTER TABLE networks DROP COLUMN gateway6;
      )sql",
  };
  return all;
}

}  // namespace mvlan::store
