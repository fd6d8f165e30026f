// startup_bench: how long `mvlan serve` takes from exec to answering Plugin.Activate with a big
// database, and what it holds when idle (issue #5, item 6).
//
//   startup_bench --mvlan BIN --json FILE [--networks N] [--endpoints-per-network M] [--starts K]
//
// In a fresh network namespace with 10 veth parents, N networks (default 1,000, each its own /26
// pool with a gateway) and N*M endpoints (default 10 each, each with a granted address) are made
// through the socket, as Docker would. Then the daemon is stopped and started K times (default
// 11); each start is timed from fork+exec to the first 200 answer to Plugin.Activate, after the
// same reconciliation a real restart does (every parent exists). Idle RSS is read 1 s after each
// start. The same is done with an empty database for comparison.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "netlink/libnl_kernel.h"
#include "tests/bench/bench_support.h"
#include "tests/support/netlink_probe.h"

namespace {

using namespace mvlan::bench;

constexpr double kMaxStartMs = 200;
constexpr double kMaxIdleRssMb = 8;
constexpr int kParents = 10;
constexpr int kPopulateClients = 8;

struct Settings {
  std::string mvlan, json_path;
  int networks = 1000, per_network = 10, starts = 11;
};

Settings parse(int argc, char** argv) {
  const Flags f(argc, argv,
                {"--mvlan", "--json", "--networks", "--endpoints-per-network", "--starts"},
                "startup_bench --mvlan BIN --json FILE [--networks 1..2048] "
                "[--endpoints-per-network 0..60] [--starts K>=1]");
  Settings s;
  s.mvlan = f.text("--mvlan");
  s.json_path = f.text("--json");
  const long networks = f.number("--networks", s.networks);
  const long per_network = f.number("--endpoints-per-network", s.per_network);
  const long starts = f.number("--starts", s.starts);
  if (s.mvlan.empty() || s.json_path.empty() || networks < 1 || networks > 2048 ||
      per_network < 0 || per_network > 60 || starts < 1 || starts > 1000) {
    f.usage_error();
  }
  s.networks = static_cast<int>(networks);
  s.per_network = static_cast<int>(per_network);
  s.starts = static_cast<int>(starts);
  return s;
}

// The n-th /26 of 198.18.0.0/15, as "198.18.0.0" (without the prefix length).
std::string block(int n, int host) {
  const int offset = n * 64 + host;
  return "198." + std::to_string(18 + offset / 65536) + "." +
         std::to_string(offset / 256 % 256) + "." + std::to_string(offset % 256);
}

void populate_network(Client& c, int n, int endpoints) {
  const std::string subnet = block(n, 0) + "/26", gateway = block(n, 1);
  const std::string net = docker_id(0x57a47, static_cast<unsigned long>(n));
  const std::string pool = c.call("/IpamDriver.RequestPool", {{"AddressSpace", "LocalDefault"},
                                                               {"Pool", subnet},
                                                               {"SubPool", ""},
                                                               {"Options", json::object()},
                                                               {"V6", false}})["PoolID"];
  c.call("/IpamDriver.RequestAddress",
         {{"PoolID", pool},
          {"Address", gateway},
          {"Options", {{"RequestAddressType", "com.docker.network.gateway"}}}});
  c.call("/NetworkDriver.CreateNetwork",
         {{"NetworkID", net},
          {"Options",
           {{"com.docker.network.enable_ipv6", false},
            {"com.docker.network.generic", {{"parent", "bp" + std::to_string(n % kParents)}}}}},
          {"IPv4Data", json::array({{{"AddressSpace", "LocalDefault"},
                                     {"Gateway", gateway + "/26"},
                                     {"Pool", subnet}}})},
          {"IPv6Data", json::array()}});
  for (int e = 0; e < endpoints; ++e) {
    std::string address = c.call("/IpamDriver.RequestAddress",
                                 {{"PoolID", pool}, {"Address", ""}, {"Options", json::object()}})
                              ["Address"];
    c.call("/NetworkDriver.CreateEndpoint",
           {{"NetworkID", net},
            {"EndpointID", docker_id(0xe9000000u + static_cast<unsigned>(n),
                                     static_cast<unsigned long>(e))},
            {"Interface", {{"Address", address}, {"AddressIPv6", ""}, {"MacAddress", ""}}},
            {"Options", json::object()}});
  }
}

struct Starts {
  std::vector<double> ms, idle_rss_mb, idle_anon_mb, idle_pss_mb;
};

Starts restart_many(Serve& serve, int starts) {
  Starts r;
  serve.stop();
  for (int i = 0; i < starts; ++i) {
    r.ms.push_back(serve.start());
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const Memory m = memory_of(serve.pid());
    r.idle_rss_mb.push_back(m.rss_mb);
    r.idle_anon_mb.push_back(m.anon_mb);
    r.idle_pss_mb.push_back(m.pss_mb);
    serve.stop();
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) try {
  const Settings s = parse(argc, argv);
  enter_fresh_netns();
  mvlan::kernel::Netlink nl;
  for (int p = 0; p < kParents; ++p) {
    const std::string name = "bp" + std::to_string(p);
    mvlan::test::create_veth_pair(name, name + "-p");
    nl.set_up(name + "-p");
    nl.set_up(name);
  }

  Serve empty(s.mvlan);
  empty.start();
  const Starts baseline = restart_many(empty, s.starts);

  Serve full(s.mvlan);
  full.start();
  const auto t0 = Clock::now();
  {
    std::vector<std::thread> workers;
    std::vector<std::string> errors(kPopulateClients);
    for (int w = 0; w < kPopulateClients; ++w) {
      workers.emplace_back([&, w] {
        try {
          Client c(full.socket());
          for (int n = w; n < s.networks; n += kPopulateClients) populate_network(c, n, s.per_network);
        } catch (const std::exception& e) {
          errors[static_cast<size_t>(w)] = e.what();
        }
      });
    }
    for (auto& t : workers) t.join();
    for (const auto& e : errors)
      if (!e.empty()) throw std::runtime_error("populating: " + e);
  }
  const double populate_s = ms_since(t0) / 1000;
  std::fprintf(stderr, "  populated %d networks, %d endpoints in %.1f s\n", s.networks,
               s.networks * s.per_network, populate_s);
  const Starts loaded = restart_many(full, s.starts);

  const double start_ms = median(loaded.ms), idle_mb = median(loaded.idle_rss_mb);
  json rows = json::array();
  const std::string size = fixed(s.networks, 0) + " networks, " +
                           fixed(s.networks * s.per_network, 0) + " endpoints";
  rows.push_back(row("Startup, exec to Plugin.Activate answered, " + size + ", median of " +
                         std::to_string(s.starts),
                     "<= 200 ms",
                     fixed(start_ms, 1) + " ms (max " + fixed(percentile(loaded.ms, 1), 1) +
                         "; empty database " + fixed(median(baseline.ms), 1) + " ms)",
                     start_ms <= kMaxStartMs));
  rows.push_back(row("Idle RSS 1 s after start, " + size, "<= 8 MB",
                     fixed(idle_mb, 1) + " MB (anonymous " + fixed(median(loaded.idle_anon_mb), 1) +
                         ", PSS " + fixed(median(loaded.idle_pss_mb), 1) + "; empty database " +
                         fixed(median(baseline.idle_rss_mb), 1) + " MB)",
                     idle_mb <= kMaxIdleRssMb));
  const json raw{{"networks", s.networks},
                 {"endpoints", s.networks * s.per_network},
                 {"populate_seconds", populate_s},
                 {"start_ms", loaded.ms},
                 {"idle_rss_mb", loaded.idle_rss_mb},
                 {"idle_anon_mb", loaded.idle_anon_mb},
                 {"idle_pss_mb", loaded.idle_pss_mb},
                 {"empty_start_ms", baseline.ms},
                 {"empty_idle_rss_mb", baseline.idle_rss_mb},
                 {"empty_idle_pss_mb", baseline.idle_pss_mb}};
  write_section(s.json_path, "startup", rows, raw);
  std::printf("startup: %s: median %.1f ms, idle RSS %.1f MB; empty: %.1f ms, %.1f MB\n",
              size.c_str(), start_ms, idle_mb, median(baseline.ms),
              median(baseline.idle_rss_mb));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "startup_bench: %s\n", e.what());
  return 1;
}
