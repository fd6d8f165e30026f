// Sticky addresses in the SQLite store: the rule suite (tests/ipam/sticky_rules.h, which the
// etcd store runs too) on a throw-away database, and how container names become binding keys.

#include <catch2/catch.hpp>
#include <memory>

#include "ipam/binding_key.h"
#include "store/database.h"
#include "ipam/sqlite_pool_store.h"
#include "tests/ipam/store_fixtures.h"

namespace mvlan::ipam::test {

// A fresh database; restart() closes it and opens it again, as a plugin restart does.
class StickyStore {
 public:
  static constexpr int kChurnSteps = 3000;
  StickyStore() { open(); }
  PoolStore& pools() { return *store_; }
  void restart() {
    store_.reset();
    db_.reset();
    open();
  }

 private:
  void open() {
    db_ = std::make_unique<store::Database>(dir_.db(), store::Database::Mode::ReadWrite);
    store_ = std::make_unique<SqlitePoolStore>(*db_, std::vector<DefaultPool>{});
  }
  TempDir dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<SqlitePoolStore> store_;
};

}  // namespace mvlan::ipam::test

#include "tests/ipam/sticky_rules.h"
#include "tests/ipam/pool_store_rules.h"

using namespace mvlan::ipam;

TEST_CASE("binding keys: container names as they are, swarm tasks by service and slot",
          "[sticky]") {
  CHECK(binding_key("web") == "web");
  CHECK(binding_key("/web") == "web");
  CHECK(binding_key("proj-web-1") == "proj-web-1");
  CHECK(binding_key("api.3.k2v4d7pmxqz0a1b2c3d4e5f6g") == "api.3");
  CHECK(binding_key("agent.ttx2n8v0r7w6q5p4o3n2m1l0k.k2v4d7pmxqz0a1b2c3d4e5f6g") ==
        "agent.ttx2n8v0r7w6q5p4o3n2m1l0k");
  CHECK(binding_key("my.dotted.name") == "my.dotted.name");
  CHECK(binding_key("api.3.short") == "api.3.short");
  CHECK_FALSE(binding_key(""));
  CHECK_FALSE(binding_key("-web"));
  CHECK_FALSE(binding_key("we b"));
  CHECK_FALSE(binding_key("web\n"));
  CHECK_FALSE(binding_key("w\xff"));
  CHECK_FALSE(binding_key(std::string(254, 'a')));
  CHECK(binding_key(std::string(253, 'a')));
}
