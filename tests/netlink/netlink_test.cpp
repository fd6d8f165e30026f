// The real kernel layer against a real kernel. Every test case enters a fresh network namespace of
// its own, so the host's links are never seen or touched and everything vanishes with it.
// [.uml] cases need VLAN and dummy support, which only the user-mode Linux kernel has.

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "netlink/libnl_kernel.h"
#include "tests/support/netlink_probe.h"
#include "tests/support/refusal.h"

using namespace mvlan::kernel;
using Catch::Matchers::Contains;

namespace {

struct FreshNamespace {
  FreshNamespace() {
    if (unshare(CLONE_NEWNET) != 0) {
      throw std::system_error(errno, std::generic_category(),
                              "unshare(CLONE_NEWNET): the netlink tests must run as root");
    }
  }
};

// Member order matters: the namespace must exist before the socket that binds to it.
struct Lab {
  FreshNamespace ns;
  Netlink nl;

  // A veth pair with `parent` up, the way a NIC would be.
  void make_parent(const std::string& parent, const std::string& peer) {
    mvlan::test::create_veth_pair(parent, peer);
    nl.set_up(parent);
  }

  Link must_find(const std::string& name) {
    auto link = nl.find_link(name);
    REQUIRE(link.has_value());
    return *link;
  }
};

const Mac kMac{0x02, 0x42, 0xc6, 0x33, 0x64, 0x0a};

std::string message_of(const std::function<void()>& act) {
  return mvlan::test::refusal_of<KernelError>(act);
}

}  // namespace

// ---- macvlan ----

TEST_CASE("a macvlan link is created down in the mode asked for and reports that mode",
          "[macvlan]") {
  const auto mode =
      GENERATE(MacvlanMode::Bridge, MacvlanMode::Private, MacvlanMode::Vepa, MacvlanMode::Passthru);
  CAPTURE(name_of(mode));
  Lab lab;
  lab.make_parent("p0", "p1");
  lab.nl.create_macvlan("p0", "mv0", mode, kMac, 0);
  const Link link = lab.must_find("mv0");
  CHECK(link.kind == "macvlan");
  CHECK(link.macvlan_mode == mode);
  CHECK(link.parent_index == lab.must_find("p0").index);
  CHECK_FALSE(link.up);
}

TEST_CASE("the MAC given to a macvlan link is the MAC the kernel reports", "[macvlan]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  lab.nl.create_macvlan("p0", "mv0", MacvlanMode::Bridge, kMac, 0);
  CHECK(lab.must_find("mv0").mac == kMac);
}

TEST_CASE("an all-zero MAC lets the kernel choose a unicast one", "[macvlan]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  lab.nl.create_macvlan("p0", "mv0", MacvlanMode::Bridge, Mac{}, 0);
  const Mac mac = lab.must_find("mv0").mac;
  CHECK(mac != Mac{});
  CHECK((mac[0] & 0x01) == 0);
}

TEST_CASE("a macvlan link with MTU 0 inherits its parent's MTU", "[macvlan]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  mvlan::test::set_mtu("p0", 9000);
  lab.nl.create_macvlan("p0", "mv0", MacvlanMode::Bridge, kMac, 0);
  CHECK(lab.must_find("mv0").mtu == 9000);
}

TEST_CASE("a macvlan link keeps an explicit MTU below its parent's", "[macvlan]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  lab.nl.create_macvlan("p0", "mv0", MacvlanMode::Bridge, kMac, 1400);
  CHECK(lab.must_find("mv0").mtu == 1400);
}

TEST_CASE("a macvlan MTU above the parent's is refused naming both values", "[macvlan]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  const auto text = message_of(
      [&] { lab.nl.create_macvlan("p0", "mv0", MacvlanMode::Bridge, kMac, 9000); });
  CHECK_THAT(text, Contains("mv0") && Contains("p0") && Contains("9000") && Contains("1500"));
  CHECK_FALSE(lab.nl.find_link("mv0"));
}

TEST_CASE("a link name of 16 characters is refused naming the name and the limit", "[macvlan]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  const std::string name = "abcdefghijklmnop";
  REQUIRE(name.size() == 16);
  const auto text =
      message_of([&] { lab.nl.create_macvlan("p0", name, MacvlanMode::Bridge, kMac, 0); });
  CHECK_THAT(text, Contains(name) && Contains("15"));
  // libnl would have truncated it silently: make sure nothing with the first 15 characters exists.
  CHECK_FALSE(lab.nl.find_link(name.substr(0, 15)));
}

TEST_CASE("a macvlan on a parent that does not exist is refused naming the parent", "[macvlan]") {
  Lab lab;
  const auto text =
      message_of([&] { lab.nl.create_macvlan("nosuch0", "mv0", MacvlanMode::Bridge, kMac, 0); });
  CHECK_THAT(text, Contains("parent link nosuch0 does not exist"));
}

TEST_CASE("a macvlan on a loopback parent is refused", "[macvlan]") {
  Lab lab;
  const auto text =
      message_of([&] { lab.nl.create_macvlan("lo", "mv0", MacvlanMode::Bridge, kMac, 0); });
  CHECK_THAT(text, Contains("lo is not an Ethernet link"));
}

TEST_CASE("a macvlan with a multicast MAC is refused naming the MAC", "[macvlan]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  const Mac multicast{0x03, 0, 0, 0, 0, 1};
  const auto text =
      message_of([&] { lab.nl.create_macvlan("p0", "mv0", MacvlanMode::Bridge, multicast, 0); });
  CHECK_THAT(text, Contains("03:00:00:00:00:01") && Contains("multicast"));
}

TEST_CASE("a second macvlan on a parent held by a passthru macvlan is refused saying so",
          "[macvlan]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  lab.nl.create_macvlan("p0", "pt0", MacvlanMode::Passthru, kMac, 0);
  const auto mode = GENERATE(MacvlanMode::Bridge, MacvlanMode::Passthru);
  KernelError error("", 0);
  try {
    lab.nl.create_macvlan("p0", "mv1", mode, Mac{}, 0);
    FAIL("the kernel accepted a second macvlan on a passthru parent");
  } catch (const KernelError& e) {
    error = e;
  }
  CHECK_THAT(error.what(), Contains("p0 is held by passthru macvlan link pt0"));
  CHECK(error.code == -7);  // the kernel's EINVAL, as libnl's NLE_INVAL
  CHECK_FALSE(lab.nl.find_link("mv1"));
}

TEST_CASE("a passthru macvlan on a parent that already carries a macvlan is refused saying so",
          "[macvlan]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  lab.nl.create_macvlan("p0", "mv0", MacvlanMode::Bridge, kMac, 0);
  const auto text =
      message_of([&] { lab.nl.create_macvlan("p0", "pt0", MacvlanMode::Passthru, Mac{}, 0); });
  CHECK_THAT(text, Contains("needs its parent to itself") && Contains("mv0"));
}

TEST_CASE("a macvlan whose name is taken is refused naming it", "[macvlan]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  const auto text =
      message_of([&] { lab.nl.create_macvlan("p0", "p1", MacvlanMode::Bridge, kMac, 0); });
  CHECK_THAT(text, Contains("a link named p1 already exists"));
}

TEST_CASE("macvlan links made from several threads at once are all created and deleted",
          "[macvlan]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  constexpr int kThreads = 8;
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string name = "mv" + std::to_string(t);
      try {
        for (int round = 0; round < 5; ++round) {
          lab.nl.create_macvlan("p0", name, MacvlanMode::Bridge, Mac{}, 0);
          if (!lab.nl.find_link(name)) throw std::runtime_error(name + " not found");
          if (!lab.nl.delete_link(name)) throw std::runtime_error(name + " not deleted");
        }
      } catch (const std::exception& e) {
        failures[t] = e.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& failure : failures) CHECK(failure.empty());
}

// ---- delete, find, list ----

TEST_CASE("deleting a link that does not exist returns false", "[delete]") {
  Lab lab;
  CHECK_FALSE(lab.nl.delete_link("nosuch0"));
  CHECK_FALSE(lab.nl.delete_link("a-name-far-too-long-to-exist"));
}

TEST_CASE("deleting a macvlan link removes it and leaves its parent", "[delete]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  lab.nl.create_macvlan("p0", "mv0", MacvlanMode::Bridge, kMac, 0);
  CHECK(lab.nl.delete_link("mv0"));
  CHECK_FALSE(lab.nl.find_link("mv0"));
  CHECK(lab.nl.find_link("p0"));
  CHECK_FALSE(lab.nl.delete_link("mv0"));
}

TEST_CASE("find_link of a missing link returns nothing", "[find]") {
  Lab lab;
  CHECK_FALSE(lab.nl.find_link("nosuch0"));
}

TEST_CASE("find_link and list_links report kind, parent, mode, MTU and state", "[find]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  lab.nl.create_macvlan("p0", "mv0", MacvlanMode::Vepa, kMac, 1400);
  const Link parent = lab.must_find("p0");
  CHECK(parent.kind == "veth");
  CHECK(parent.up);
  CHECK(parent.parent_index == 0);  // a veth's peer is not its parent
  CHECK_FALSE(parent.macvlan_mode);

  const auto links = lab.nl.list_links();
  auto named = [&](const std::string& name) {
    auto it = std::find_if(links.begin(), links.end(), [&](const Link& l) { return l.name == name; });
    REQUIRE(it != links.end());
    return *it;
  };
  // The namespace is fresh: besides lo and a kernel's fallback tunnels, only what this test made.
  for (const std::string name : {"p0", "p1", "mv0"}) {
    CHECK(std::count_if(links.begin(), links.end(), [&](const Link& l) { return l.name == name; }) ==
          1);
  }
  CHECK(named("lo").kind.empty());
  const Link mv = named("mv0");
  CHECK(mv.kind == "macvlan");
  CHECK(mv.parent_index == parent.index);
  CHECK(mv.macvlan_mode == MacvlanMode::Vepa);
  CHECK(mv.mtu == 1400);
  CHECK(mv.mac == kMac);
  CHECK(mv.vlan_id == 0);
  CHECK(mv.index == lab.must_find("mv0").index);
}

// ---- VLAN and dummy: refused here, created in user-mode Linux ----

TEST_CASE("creating a VLAN link on this host kernel names the missing 8021q module",
          "[vlan][hostkernel]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  KernelError error("", 0);
  try {
    lab.nl.create_vlan("p0", 100, "p0.100");
    FAIL("this host kernel was expected to lack 802.1Q support");
  } catch (const KernelError& e) {
    error = e;
  }
  CHECK_THAT(error.what(), Contains("p0.100") && Contains("8021q") && Contains("modprobe 8021q"));
  CHECK(error.code == -10);  // NLE_OPNOTSUPP: the kernel's EOPNOTSUPP, "Unknown device type"
  CHECK_FALSE(lab.nl.find_link("p0.100"));
}

TEST_CASE("a VLAN id outside 1-4094 is refused naming it", "[vlan]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  const auto vid = GENERATE(0, 4095);
  const auto text = message_of([&] { lab.nl.create_vlan("p0", vid, "p0.x"); });
  CHECK_THAT(text, Contains(std::to_string(vid)) && Contains("1-4094"));
}

TEST_CASE("a VLAN link on a base that does not exist is refused naming the base", "[vlan]") {
  Lab lab;
  const auto text = message_of([&] { lab.nl.create_vlan("nosuch0", 10, "nosuch0.10"); });
  CHECK_THAT(text, Contains("base link nosuch0 does not exist"));
}

TEST_CASE("a VLAN link on the loopback link is refused", "[vlan]") {
  Lab lab;
  const auto text = message_of([&] { lab.nl.create_vlan("lo", 10, "lo.10"); });
  CHECK_THAT(text, Contains("loopback"));
}

TEST_CASE("a VLAN link is created up and reports its VLAN id and base", "[.uml][vlan]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  lab.nl.create_vlan("p0", 100, "p0.100");
  const Link vlan = lab.must_find("p0.100");
  CHECK(vlan.kind == "vlan");
  CHECK(vlan.vlan_id == 100);
  CHECK(vlan.parent_index == lab.must_find("p0").index);
  CHECK(vlan.up);
  CHECK_FALSE(vlan.macvlan_mode);
  const auto links = lab.nl.list_links();
  CHECK(std::any_of(links.begin(), links.end(),
                    [](const Link& l) { return l.name == "p0.100" && l.vlan_id == 100; }));
}

TEST_CASE("a macvlan link sits on top of a VLAN link", "[.uml][vlan][macvlan]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  lab.nl.create_vlan("p0", 20, "p0.20");
  lab.nl.create_macvlan("p0.20", "mv0", MacvlanMode::Bridge, kMac, 0);
  const Link mv = lab.must_find("mv0");
  CHECK(mv.kind == "macvlan");
  CHECK(mv.parent_index == lab.must_find("p0.20").index);
  CHECK(mv.mac == kMac);
}

TEST_CASE("a VLAN link whose name is taken is refused naming it", "[.uml][vlan]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  lab.nl.create_vlan("p0", 30, "p0.30");
  const auto text = message_of([&] { lab.nl.create_vlan("p0", 31, "p0.30"); });
  CHECK_THAT(text, Contains("a link named p0.30 already exists"));
}

TEST_CASE("deleting a VLAN link removes it and leaves its base", "[.uml][vlan][delete]") {
  Lab lab;
  lab.make_parent("p0", "p1");
  lab.nl.create_vlan("p0", 100, "p0.100");
  CHECK(lab.nl.delete_link("p0.100"));
  CHECK_FALSE(lab.nl.find_link("p0.100"));
  CHECK(lab.nl.find_link("p0"));
}

TEST_CASE("a dummy link is created up", "[.uml][dummy]") {
  Lab lab;
  lab.nl.create_dummy("dm-0123456789a");
  const Link dummy = lab.must_find("dm-0123456789a");
  CHECK(dummy.kind == "dummy");
  CHECK(dummy.up);
  CHECK(dummy.parent_index == 0);
}

TEST_CASE("a macvlan link sits on top of a dummy link", "[.uml][dummy][macvlan]") {
  Lab lab;
  lab.nl.create_dummy("d0");
  lab.nl.create_macvlan("d0", "mv0", MacvlanMode::Bridge, kMac, 0);
  CHECK(lab.must_find("mv0").parent_index == lab.must_find("d0").index);
}

// ---- addresses and routes (host access) ----

TEST_CASE("an address is added once to a link as given, and adding it again returns false",
          "[address]") {
  Lab lab;
  lab.make_parent("p0", "p0-p");
  lab.nl.create_macvlan("p0", "mhshim", MacvlanMode::Bridge, Mac{}, 0);
  lab.nl.set_up("mhshim");
  CHECK(lab.nl.add_address("mhshim", "198.51.100.254/32"));
  CHECK_FALSE(lab.nl.add_address("mhshim", "198.51.100.254/32"));
  auto addresses = mvlan::test::link_addresses("mhshim");
  CHECK(std::count(addresses.begin(), addresses.end(), "198.51.100.254/32") == 1);
  CHECK(lab.must_find("mhshim").up);
}

TEST_CASE("an address for a missing link or that is no prefix is refused naming it",
          "[address]") {
  Lab lab;
  CHECK_THAT(message_of([&] { lab.nl.add_address("nosuch0", "198.51.100.254/32"); }),
             Contains("nosuch0") && Contains("does not exist"));
  lab.make_parent("p0", "p0-p");
  CHECK_THAT(message_of([&] { lab.nl.add_address("p0", "198.51.100.254"); }),
             Contains("'198.51.100.254' is not an IPv4 or IPv6 prefix"));
}

TEST_CASE("a host route goes out of the link with the source asked for, once, and is deleted "
          "once",
          "[route]") {
  Lab lab;
  lab.make_parent("p0", "p0-p");
  lab.nl.create_macvlan("p0", "mhshim", MacvlanMode::Bridge, Mac{}, 0);
  lab.nl.add_address("mhshim", "198.51.100.254/32");
  lab.nl.set_up("mhshim");
  CHECK(lab.nl.add_route("198.51.100.7/32", "mhshim", "198.51.100.254"));
  CHECK_FALSE(lab.nl.add_route("198.51.100.7/32", "mhshim", "198.51.100.254"));
  CHECK(lab.nl.add_route("198.51.100.8/32", "mhshim", ""));
  CHECK(mvlan::test::link_routes("mhshim") ==
        std::vector<std::string>{"198.51.100.7/32 src 198.51.100.254", "198.51.100.8/32"});
  CHECK(mvlan::test::link_routes("p0").empty());  // the /32 address adds no subnet route anywhere
  CHECK(lab.nl.delete_route("198.51.100.7/32", "mhshim"));
  CHECK_FALSE(lab.nl.delete_route("198.51.100.7/32", "mhshim"));
  CHECK(mvlan::test::link_routes("mhshim") == std::vector<std::string>{"198.51.100.8/32"});
  lab.nl.delete_link("mhshim");
  CHECK_FALSE(lab.nl.delete_route("198.51.100.8/32", "mhshim"));  // went with its link
}

// [ipv6]: the user-mode Linux kernel has no IPv6.
TEST_CASE("an IPv6 address and host route go on the link", "[route][ipv6]") {
  Lab lab;
  lab.make_parent("p0", "p0-p");
  lab.nl.create_macvlan("p0", "mhshim", MacvlanMode::Bridge, Mac{}, 0);
  CHECK(lab.nl.add_address("mhshim", "2001:db8::fe/128"));
  CHECK_FALSE(lab.nl.add_address("mhshim", "2001:db8::fe/128"));
  auto addresses = mvlan::test::link_addresses("mhshim");
  CHECK(std::count(addresses.begin(), addresses.end(), "2001:db8::fe/128") == 1);
  lab.nl.set_up("mhshim");
  CHECK(lab.nl.add_route("2001:db8::7/128", "mhshim", "2001:db8::fe"));
  auto routes = mvlan::test::link_routes("mhshim");
  CHECK(std::count(routes.begin(), routes.end(), "2001:db8::7/128 src 2001:db8::fe") == 1);
  CHECK(lab.nl.delete_route("2001:db8::7/128", "mhshim"));
}

TEST_CASE("a route via a missing link is refused naming the link", "[route]") {
  Lab lab;
  CHECK_THAT(message_of([&] { lab.nl.add_route("198.51.100.7/32", "nosuch0", ""); }),
             Contains("nosuch0") && Contains("does not exist"));
}
