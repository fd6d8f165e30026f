#pragma once
// An in-memory kernel for handler tests: links by name, with the few rules of the real one that
// the driver's logic depends on (parents must exist, passthru is exclusive, names <= 15).

#include <map>
#include <set>
#include <string>
#include <vector>

#include "netlink/kernel.h"

namespace mvlan::test {

class FakeKernel final : public kernel::Kernel {
 public:
  bool has_8021q = true;
  bool has_dummy = true;
  std::vector<std::string> calls;  // "create_vlan eth0.100", "delete mv..." in order
  // Per link: its addresses ("192.0.2.254/32") and the routes out of it ("192.0.2.10/32 src
  // 192.0.2.254"); both go with the link, as in the kernel.
  std::map<std::string, std::set<std::string>> addresses;
  std::map<std::string, std::set<std::string>> routes;

  void add_device(const std::string& name, unsigned mtu = 1500) {
    kernel::Link l;
    l.name = name;
    l.index = next_index_++;
    l.mtu = mtu;
    l.up = true;
    links_[name] = l;
  }
  bool has(const std::string& name) const { return links_.count(name) > 0; }
  const kernel::Link& link(const std::string& name) const { return links_.at(name); }
  size_t count_kind(const std::string& kind) const {
    size_t n = 0;
    for (auto& [_, l] : links_) n += l.kind == kind;
    return n;
  }

  std::optional<kernel::Link> find_link(const std::string& name) override {
    auto it = links_.find(name);
    if (it == links_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<kernel::Link> list_links() override {
    std::vector<kernel::Link> out;
    for (auto& [_, l] : links_) out.push_back(l);
    return out;
  }
  void create_vlan(const std::string& base, int vid, const std::string& name) override {
    calls.push_back("create_vlan " + name);
    if (!has_8021q) throw kernel::KernelError("no 802.1Q VLAN support (module 8021q)", -10);
    if (!has(base)) throw kernel::KernelError("base link " + base + " does not exist", -31);
    add_device(name, links_[base].mtu);
    links_[name].kind = "vlan";
    links_[name].vlan_id = vid;
    links_[name].parent_index = links_[base].index;
  }
  void create_dummy(const std::string& name) override {
    calls.push_back("create_dummy " + name);
    if (!has_dummy) throw kernel::KernelError("no dummy link support (module dummy)", -10);
    add_device(name);
    links_[name].kind = "dummy";
  }
  void create_macvlan(const std::string& parent, const std::string& name, kernel::MacvlanMode mode,
                      const kernel::Mac& mac, unsigned mtu) override {
    calls.push_back("create_macvlan " + name + " on " + parent);
    if (name.size() > 15) throw kernel::KernelError("name too long", -34);
    if (has(name)) throw kernel::KernelError("a link named " + name + " already exists", -6);
    if (!has(parent)) throw kernel::KernelError("parent link " + parent + " does not exist", -31);
    for (auto& [_, l] : links_) {
      if (l.kind == "macvlan" && l.parent_index == links_[parent].index &&
          (l.macvlan_mode == kernel::MacvlanMode::Passthru || mode == kernel::MacvlanMode::Passthru)) {
        throw kernel::KernelError("parent " + parent + " is held by passthru link " + l.name,
                                  kernel::kLibnlInvalid);
      }
    }
    add_device(name, mtu ? mtu : links_[parent].mtu);
    auto& l = links_[name];
    l.kind = "macvlan";
    l.mac = mac;
    l.parent_index = links_[parent].index;
    l.macvlan_mode = mode;
    l.up = false;
  }
  bool delete_link(const std::string& name) override {
    calls.push_back("delete " + name);
    addresses.erase(name);
    routes.erase(name);
    return links_.erase(name) > 0;
  }
  void set_up(const std::string& name) override {
    calls.push_back("set_up " + name);
    if (!has(name)) throw kernel::KernelError("link " + name + " does not exist", -31);
    links_[name].up = true;
  }
  bool add_address(const std::string& link, const std::string& cidr) override {
    calls.push_back("add_address " + cidr + " to " + link);
    if (!has(link)) throw kernel::KernelError("link " + link + " does not exist", -31);
    return addresses[link].insert(cidr).second;
  }
  bool add_route(const std::string& dst, const std::string& link,
                 const std::string& source) override {
    calls.push_back("add_route " + dst + " via " + link);
    if (!has(link)) throw kernel::KernelError("link " + link + " does not exist", -31);
    for (const auto& r : routes[link]) {
      if (r.substr(0, r.find(' ')) == dst) return false;
    }
    return routes[link].insert(source.empty() ? dst : dst + " src " + source).second;
  }
  bool delete_route(const std::string& dst, const std::string& link) override {
    calls.push_back("delete_route " + dst + " via " + link);
    auto it = routes.find(link);
    if (it == routes.end()) return false;
    for (const auto& r : it->second) {
      if (r.substr(0, r.find(' ')) == dst) {
        it->second.erase(r);
        return true;
      }
    }
    return false;
  }

 private:
  std::map<std::string, kernel::Link> links_;
  int next_index_ = 2;
};

}  // namespace mvlan::test
