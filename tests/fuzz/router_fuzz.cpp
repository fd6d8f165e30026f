// libFuzzer over the request router: JSON parsing, field validation and every handler, with the
// IPAM and the network driver on a temporary SQLite database and a fake kernel.
//
// An input is a sequence of requests, one per line: "<Interface>.<Method> <body>" (the body may be
// empty). A method name mvlan does not know still picks a route (by a hash of the name), so
// mutated names keep reaching handlers, and one in 32 goes to the unknown-path answer. Each input
// starts from an empty database and a fresh fake kernel, so a crash replays from its input alone.
//
// Beyond crashes and sanitizer reports, it aborts when an answer breaks a promise a user sees:
// every body is one valid JSON object; an error carries "Err" (and "Error" on IpamDriver), one
// line of at most 2000 bytes; nothing ends as "mvlan internal error".

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.h"
#include "store/network_store.h"
#include "ipam/sqlite_pool_store.h"
#include "plugin/ipam_api.h"
#include "plugin/ipam_driver.h"
#include "common/log.h"
#include "plugin/network_api.h"
#include "plugin/network_driver.h"
#include "plugin/router.h"
#include "tests/support/fake_kernel.h"

namespace {

using namespace mvlan;

const std::vector<std::string>& route_paths() {
  static const std::vector<std::string> paths = {
      "/Plugin.Activate",
      "/IpamDriver.GetCapabilities",
      "/IpamDriver.GetDefaultAddressSpaces",
      "/IpamDriver.RequestPool",
      "/IpamDriver.ReleasePool",
      "/IpamDriver.RequestAddress",
      "/IpamDriver.ReleaseAddress",
      "/NetworkDriver.GetCapabilities",
      "/NetworkDriver.GwAllocCheck",
      "/NetworkDriver.CreateNetwork",
      "/NetworkDriver.DeleteNetwork",
      "/NetworkDriver.CreateEndpoint",
      "/NetworkDriver.DeleteEndpoint",
      "/NetworkDriver.Join",
      "/NetworkDriver.Leave",
      "/NetworkDriver.EndpointOperInfo",
      "/NetworkDriver.ProgramExternalConnectivity",
      "/NetworkDriver.RevokeExternalConnectivity",
      "/NetworkDriver.DiscoverNew",
      "/NetworkDriver.DiscoverDelete",
      "/NetworkDriver.AllocateNetwork",
      "/NetworkDriver.FreeNetwork",
  };
  return paths;
}

[[noreturn]] void broken(const char* promise, const std::string& path, const std::string& body,
                         const plugin::Reply& reply) {
  std::fprintf(stderr, "router_fuzz: %s\n  request %s %.300s\n  answer %d %.600s\n", promise,
               path.c_str(), body.c_str(), reply.status, reply.body.c_str());
  std::abort();
}

void check_reply(const std::string& path, const std::string& body, const plugin::Reply& reply) {
  plugin::json parsed;
  try {
    parsed = plugin::json::parse(reply.body);
  } catch (const std::exception&) {
    broken("the answer is not valid JSON", path, body, reply);
  }
  if (!parsed.is_object()) broken("the answer is not a JSON object", path, body, reply);
  if (reply.status == 200) return;
  const auto err = parsed.find("Err");
  if (err == parsed.end() || !err->is_string()) broken("an error without Err", path, body, reply);
  const std::string message = err->get<std::string>();
  if (path.rfind("/IpamDriver.", 0) == 0 && parsed.value("Error", std::string()) != message) {
    broken("an IpamDriver error without the same Error", path, body, reply);
  }
  if (reply.body.size() > 2000) broken("an error message over 2000 bytes", path, body, reply);
  for (const char c : message) {
    if (static_cast<unsigned char>(c) < 0x20)
      broken("a control character in a message", path, body, reply);
  }
  // Only the router starts a message so; the input itself may well contain the words.
  if (message.rfind("mvlan internal error", 0) == 0) {
    broken("an internal error: some input is not validated", path, body, reply);
  }
}

// The plugin with everything behind it, on a database of its own, made once per process (a new
// database per input costs more than the input itself) and emptied before each input.
struct Plugin {
  explicit Plugin(const std::string& db_path)
      : db(db_path, store::Database::Mode::ReadWrite),
        pools(db, ipam::parse_default_pools("198.18.0.0/15/24,2001:db8:f000::/36/64")),
        // As serve wires it (network_driver is built before any request reaches the hook).
        ipam_driver(pools,
                    [this](const ipam::Address& a) { network_driver.drop_endpoints_holding(a); }),
        networks(db),
        network_driver(networks, kernel, &pools) {
    router.add("/Plugin.Activate", plugin::Interface::Plugin, [](const plugin::json&) {
      return plugin::json{{"Implements", plugin::json::array({"NetworkDriver", "IpamDriver"})}};
    });
    plugin::add_ipam_routes(router, ipam_driver);
    plugin::add_network_routes(router, network_driver);
  }
  void reset() {
    db.write([&] {
      // Children first: endpoints name networks.
      for (const char* sql :
           {"DELETE FROM endpoints", "DELETE FROM network_subnets", "DELETE FROM networks",
            "DELETE FROM owned_parents", "DELETE FROM bindings",
            "DELETE FROM allocations", "DELETE FROM taken_runs", "DELETE FROM cursors",
            "DELETE FROM pools", "DELETE FROM address_sets"}) {
        db.statement(sql).exec();
      }
    });
    kernel = test::FakeKernel();
    // The parents the wire capture names, a base for VLANs and a jumbo-frame link.
    for (const char* name : {"w1", "h1-par", "eth0", "eth1"}) kernel.add_device(name, 1500);
    kernel.add_device("jumbo0", 9000);
  }
  store::Database db;
  ipam::SqlitePoolStore pools;
  plugin::IpamDriver ipam_driver;
  store::NetworkStore networks;
  test::FakeKernel kernel;
  plugin::NetworkDriver network_driver;
  plugin::Router router;
};

// On tmpfs when there is one: the database syncs every write.
struct Harness {
  Harness() {
    const std::string base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string tmpl = base + "/mvlan-fuzz-XXXXXX";
    if (!::mkdtemp(tmpl.data())) std::abort();
    dir = tmpl;
    plugin = std::make_unique<Plugin>(dir + "/mvlan.db");
  }
  ~Harness() {
    plugin.reset();
    std::filesystem::remove_all(dir);
  }
  std::string dir;
  std::unique_ptr<Plugin> plugin;
};

Plugin& the_plugin() {
  static Harness harness;
  return *harness.plugin;
}

std::string pick_path(std::string_view method) {
  const auto& paths = route_paths();
  const std::string path = "/" + std::string(method);
  for (const auto& p : paths) {
    if (p == path) return p;
  }
  uint32_t h = 2166136261u;
  for (const char c : method) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  if (h % 32 == 0) return path.substr(0, 300);
  return paths[h % paths.size()];
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mvlan::log::set_level(mvlan::log::Level::Error);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return -1;  // the server refuses bodies over 1 MiB; keep runs fast
  Plugin& plugin = the_plugin();
  plugin.reset();

  const std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  int requests = 0;
  while (start < input.size() && requests++ < 64) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(start, end - start);
    start = end + 1;
    const size_t space = line.find(' ');
    const std::string path = pick_path(line.substr(0, space));
    const std::string body(space == std::string_view::npos ? std::string_view()
                                                           : line.substr(space + 1));
    check_reply(path, body, plugin.router.dispatch(path, body));
  }
  return 0;
}
