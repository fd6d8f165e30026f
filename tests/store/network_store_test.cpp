// The state the network driver keeps: what a restart of the plugin finds again, and what
// removing a network leaves for the kernel to clean.

#include "store/network_store.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "store/database.h"
#include "tests/support/temp_dir.h"

using namespace mvlan;
using namespace mvlan::store;
using mvlan::test::TempDir;

namespace {

// The database closed and opened again, as a plugin restart does.
struct Reopened {
  TempDir dir;
  std::unique_ptr<Database> db;
  std::unique_ptr<NetworkStore> networks;
  Reopened() { open(); }
  void restart() {
    networks.reset();
    db.reset();
    open();
  }

 private:
  void open() {
    db = std::make_unique<Database>(dir.db(), Database::Mode::ReadWrite);
    networks = std::make_unique<NetworkStore>(*db);
  }
};

NetworkRecord vlan_network(const char* id) {
  NetworkRecord n;
  n.id = id;
  n.parent = "eth9.100";
  n.mode = MacvlanMode::Private;
  n.mtu = 1400;
  n.ipv6 = true;
  n.subnets = {{4, "192.0.2.0/24", "192.0.2.1", ""}, {6, "2001:db8::/64", "2001:db8::1", "p6"}};
  n.host_access = "192.0.2.254";
  n.host_pool = "p4";
  return n;
}

}  // namespace

TEST_CASE("a network, its subnets, its endpoints and the parent mvlan made survive a restart",
          "[store]") {
  Reopened s;
  s.networks->add_network(vlan_network("n1"),
                          OwnedParent{"eth9.100", ParentKind::Vlan, "eth9", 100});
  s.networks->add_endpoint(
      {"e1", "n1", "02:42:c0:00:02:02", "192.0.2.2/24", "2001:db8::2/64", "mvl1"});
  s.restart();

  const auto n = s.networks->network("n1");
  REQUIRE(n);
  CHECK(n->parent == "eth9.100");
  CHECK(n->mode == MacvlanMode::Private);
  CHECK(n->mtu == 1400);
  CHECK(n->ipv6);
  REQUIRE(n->subnets.size() == 2);
  CHECK(n->subnets[0].subnet == "192.0.2.0/24");
  CHECK(n->subnets[1].gateway == "2001:db8::1");
  CHECK(n->subnets[1].gateway_pool == "p6");
  CHECK(n->host_access == "192.0.2.254");

  const auto parent = s.networks->owned_parent("eth9.100");
  REQUIRE(parent);
  CHECK(parent->kind == ParentKind::Vlan);
  CHECK(parent->base == "eth9");
  CHECK(parent->vlan_id == 100);

  const auto e = s.networks->endpoint("e1");
  REQUIRE(e);
  CHECK(e->link == "mvl1");
  CHECK(s.networks->endpoints_holding("2001:db8::2").size() == 1);
  CHECK(s.networks->endpoints_holding("192.0.2.3").empty());
  CHECK(s.networks->link_name_taken("mvl1"));
}

TEST_CASE("removing a network leaves its endpoints' links, and its parent once no network uses it",
          "[store]") {
  Reopened s;
  s.networks->add_network(vlan_network("n1"),
                          OwnedParent{"eth9.100", ParentKind::Vlan, "eth9", 100});
  s.networks->add_network(vlan_network("n2"), std::nullopt);
  s.networks->add_endpoint({"e1", "n1", "02:42:c0:00:02:02", "192.0.2.2/24", "", "mvl1"});
  CHECK(s.networks->networks_on_parent("eth9.100").size() == 2);

  const auto first = s.networks->remove_network("n1");
  CHECK(first.endpoint_links == std::vector<std::string>{"mvl1"});
  CHECK_FALSE(first.orphan_parent);  // n2 still runs on it
  CHECK_FALSE(s.networks->endpoint("e1"));

  const auto last = s.networks->remove_network("n2");
  REQUIRE(last.orphan_parent);
  CHECK(last.orphan_parent->name == "eth9.100");
  CHECK(s.networks->networks().empty());

  const auto unknown = s.networks->remove_network("n3");
  CHECK(unknown.endpoint_links.empty());
  CHECK_FALSE(unknown.orphan_parent);
}

TEST_CASE("a foreign or corrupt database file is refused and left untouched", "[store]") {
  TempDir dir;
  {
    SQLite::Database other(dir.db(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    other.exec("CREATE TABLE photos (id INTEGER)");
  }
  const auto size = std::filesystem::file_size(dir.db());
  CHECK_THROWS_WITH(store::Database(dir.db(), store::Database::Mode::ReadWrite),
                    Catch::Contains("not an mvlan database") && Catch::Contains(dir.db()));
  CHECK(std::filesystem::file_size(dir.db()) == size);

  TempDir garbage;
  {
    std::FILE* f = std::fopen(garbage.db().c_str(), "w");
    std::fputs("this is not sqlite at all, just some text that fills a header........", f);
    std::fclose(f);
  }
  CHECK_THROWS_WITH(store::Database(garbage.db(), store::Database::Mode::ReadWrite),
                    Catch::Contains(garbage.db()));
  CHECK(std::filesystem::exists(garbage.db()));
}
