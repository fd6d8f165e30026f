// The network driver on a kernel with 802.1Q and dummy support (user-mode Linux): VLAN parents
// made, shared, kept or removed, dummy parents, and reconciliation after a parent is lost.
// Runs in-process (driver + real netlink + a temporary database), each case in a fresh namespace.

#include <sched.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <system_error>

#include "store/database.h"
#include "store/network_store.h"
#include "netlink/libnl_kernel.h"
#include "plugin/network_driver.h"
#include "tests/support/network_request.h"

using namespace mvlan;

namespace {

const std::string kNet1 = "aa884eff7552ed298b061a016836dcba0cf0383a87432ce88b41be817f47685d";
const std::string kNet2 = "bb6d82eb95174b22a54d00fbe0c8d177975d095458fa4a656cbdca367f298f6f";
const std::string kEp1 = "c86048c5dbd0dc2ae5343b39705c208bcfda9d6cb5c194954118d742d76546ad";

struct Lab {
  Lab() {
    if (::unshare(CLONE_NEWNET) != 0) throw std::system_error(errno, std::generic_category(), "unshare");
    char tmpl[] = "/tmp/mvlan-uml-driver-XXXXXX";
    dir = ::mkdtemp(tmpl);
    nl = std::make_unique<kernel::Netlink>();
    nl->create_dummy("d0");  // plays the host's NIC
    restart();
  }
  ~Lab() {
    driver.reset();
    networks.reset();
    db.reset();
    std::filesystem::remove_all(dir);
  }
  void restart() {
    driver.reset();
    networks.reset();
    db.reset();
    db = std::make_unique<store::Database>(dir + "/mvlan.db", store::Database::Mode::ReadWrite);
    networks = std::make_unique<store::NetworkStore>(*db);
    driver = std::make_unique<plugin::NetworkDriver>(*networks, *nl);
    driver->reconcile();
  }
  test::NetworkBody net(const std::string& id, const std::string& parent) {
    test::NetworkBody r;
    r.network_id = id;
    if (!parent.empty()) r.generic["parent"] = parent;
    r.ipv4 = {{"203.0.113.0/24", "203.0.113.1/24"}};
    return r;
  }
  std::string dir;
  std::unique_ptr<kernel::Netlink> nl;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::NetworkStore> networks;
  std::unique_ptr<plugin::NetworkDriver> driver;
};

}  // namespace

TEST_CASE("a NAME.VID parent is created as an 802.1Q link, brought up, and carries endpoints",
          "[uml]") {
  Lab lab;
  lab.driver->create_network(lab.net(kNet1, "d0.10"));
  auto vlan = lab.nl->find_link("d0.10");
  REQUIRE(vlan);
  CHECK(vlan->kind == "vlan");
  CHECK(vlan->vlan_id == 10);
  CHECK(vlan->up);
  lab.driver->create_endpoint({kNet1, kEp1, ipam::Cidr::parse("203.0.113.10/24"), {}, {}});
  auto joined = lab.driver->join(kNet1, kEp1);
  auto link = lab.nl->find_link(joined.link);
  REQUIRE(link);
  CHECK(link->parent_index == vlan->index);
}

TEST_CASE("a VLAN link shared by two networks goes only with the last, in either order",
          "[uml]") {
  for (bool creator_first : {true, false}) {
    INFO("creator removed first: " << creator_first);
    Lab lab;
    lab.driver->create_network(lab.net(kNet1, "d0.20"));
    lab.driver->create_network(lab.net(kNet2, "d0.20"));
    lab.driver->delete_network(creator_first ? kNet1 : kNet2);
    CHECK(lab.nl->find_link("d0.20"));
    lab.driver->delete_network(creator_first ? kNet2 : kNet1);
    CHECK_FALSE(lab.nl->find_link("d0.20"));
  }
}

TEST_CASE("a VLAN parent the user made survives the network", "[uml]") {
  Lab lab;
  lab.nl->create_vlan("d0", 30, "d0.30");
  lab.driver->create_network(lab.net(kNet1, "d0.30"));
  lab.driver->delete_network(kNet1);
  CHECK(lab.nl->find_link("d0.30"));
}

TEST_CASE("a network without parent gets a dummy dm-<id> parent, removed with it", "[uml]") {
  Lab lab;
  lab.driver->create_network(lab.net(kNet1, ""));
  const std::string dummy = "dm-" + kNet1.substr(0, 12);
  auto link = lab.nl->find_link(dummy);
  REQUIRE(link);
  CHECK(link->kind == "dummy");
  lab.driver->create_endpoint({kNet1, kEp1, ipam::Cidr::parse("203.0.113.10/24"), {}, {}});
  CHECK(lab.driver->join(kNet1, kEp1).gateway4.empty());  // internal: no gateway
  lab.driver->leave(kNet1, kEp1);
  lab.driver->delete_endpoint(kNet1, kEp1);
  lab.driver->delete_network(kNet1);
  CHECK_FALSE(lab.nl->find_link(dummy));
}

TEST_CASE("reconciliation re-creates a VLAN parent deleted behind mvlan's back", "[uml]") {
  Lab lab;
  lab.driver->create_network(lab.net(kNet1, "d0.40"));
  lab.nl->delete_link("d0.40");  // what a reboot does
  lab.restart();
  auto vlan = lab.nl->find_link("d0.40");
  REQUIRE(vlan);
  CHECK(vlan->vlan_id == 40);
  CHECK(vlan->up);
}
