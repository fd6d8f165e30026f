#include "plugin/network_options.h"

#include <algorithm>
#include <vector>

#include "common/error.h"
#include "common/macvlan_mode.h"
#include "common/quote.h"
#include "common/short_id.h"
#include "ipam/address.h"

namespace mvlan::plugin {
namespace {

const std::vector<std::string> kKnown = {"parent", "macvlan_mode", "mtu", "host_access"};
constexpr const char* kKnownList = "parent, macvlan_mode, mtu, host_access";

size_t distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string suggestion(const std::string& key) {
  if (key == "mode") return " (did you mean macvlan_mode?)";
  for (const auto& k : kKnown) {
    if (key.size() < 40 && distance(key, k) <= 2) return " (did you mean " + k + "?)";
  }
  return "";
}

// A shim link joins the containers' macvlan links on their parent: only bridge and vepa networks
// let it reach them, and an internal network is cut off from the host on purpose.
void check_host_access(const NetworkOptions& options, bool internal) {
  if (!options.host_access) return;
  const std::string what = "option host_access=" + options.host_access->text + ": ";
  if (internal || !options.parent) {
    throw invalid(what + "an internal network (--internal, or no parent) is cut off from the " +
                  "host on purpose; drop one of the two");
  }
  if (options.mode == kernel::MacvlanMode::Passthru) {
    throw invalid(what + "macvlan_mode=passthru gives the parent to a single container, so the " +
                  "host's link cannot join it; use bridge mode");
  }
  if (options.mode == kernel::MacvlanMode::Private) {
    throw invalid(what + "macvlan_mode=private keeps the macvlan links of a parent apart, so the " +
                  "host's link could not reach the containers; use bridge mode");
  }
}

}  // namespace

void check_link_name(const std::string& option, const std::string& name) {
  const std::string what = "option " + option + "=" + quote(name) + ": ";
  if (name.empty()) throw invalid(what + "a link name is needed, such as eth0 or eth0.100");
  if (name.size() > 15) {
    throw invalid(what + "link names are at most 15 characters (this one has " +
                  std::to_string(name.size()) + ")");
  }
  if (name == "." || name == "..") {
    throw invalid(what + "not a link name; give a link such as eth0 or eth0.100");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) {
      throw invalid(what + "link names may hold letters, digits, '_', '-' and '.' only");
    }
  }
  if (name == "lo") throw invalid(what + "the loopback link cannot carry macvlan links");
}

std::optional<VlanName> parse_vlan_name(const std::string& name) {
  const auto dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return std::nullopt;
  const std::string base = name.substr(0, dot);
  const std::string id = name.substr(dot + 1);
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    throw invalid("option parent=" + quote(name) + ": the VLAN id after the last '.' must be a " +
                  "number from 1 to 4094, as in eth0.100");
  }
  const long vid = id.size() > 5 ? 99999 : std::stol(id);
  if (vid < 1 || vid > 4094) {
    throw invalid("option parent=" + quote(name) + ": VLAN id " + quote_bare(id, 8) +
                  " is outside 1-4094");
  }
  if (base == "lo") throw invalid("option parent=" + quote(name) + ": lo cannot carry VLANs");
  return VlanName{base, static_cast<int>(vid)};
}

NetworkOptions parse_network_options(const std::map<std::string, std::string>& generic,
                                     bool internal) {
  NetworkOptions o;
  for (const auto& [key, value] : generic) {
    if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end()) {
      throw invalid("unknown option " + quote(key) + suggestion(key) + "; mvlan's options are " +
                    kKnownList);
    }
  }
  if (auto it = generic.find("parent"); it != generic.end()) {
    check_link_name("parent", it->second);
    o.parent = it->second;
  }
  if (auto it = generic.find("macvlan_mode"); it != generic.end()) {
    auto mode = parse_macvlan_mode(it->second);
    if (!mode) {
      throw invalid("option macvlan_mode=" + quote(it->second) +
                    ": valid modes are bridge (default), private, vepa and passthru");
    }
    o.mode = *mode;
  }
  if (auto it = generic.find("mtu"); it != generic.end()) {
    const std::string& v = it->second;
    if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(v) < 68) {
      throw invalid("option mtu=" + quote(v) +
                    ": give a whole number from 68 up to the parent link's MTU");
    }
    o.mtu = static_cast<unsigned>(std::stoul(v));
  }
  if (auto it = generic.find("host_access"); it != generic.end()) {
    HostAccessOption host{it->second, std::nullopt};
    if (it->second != "auto") {
      host.address = ipam::Address::parse(it->second);
      if (!host.address) {
        throw invalid("option host_access=" + quote(it->second) +
                      ": give the host's address on the network without a prefix length (such "
                      "as 192.0.2.254, inside the subnet), or auto to take one from the pool");
      }
    }
    o.host_access = std::move(host);
  }
  check_host_access(o, internal);
  return o;
}

void naming_network(const std::string& network_id, const std::function<void()>& check) {
  try {
    check();
  } catch (const Error& e) {
    if (e.kind != ErrorKind::Invalid) throw;
    throw invalid("network " + short_id(network_id) + ": " + e.what());
  }
}

void check_docker_id(const char* field, const std::string& id) {
  const bool ok = !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
  if (!ok) {
    throw invalid(std::string("field ") + field + " " + quote(id) +
                  " is not a Docker id (1 to 128 letters and digits)");
  }
}

}  // namespace mvlan::plugin
