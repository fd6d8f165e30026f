// lifecycle_bench: a container's whole life as the network driver sees it, over mvlan's socket,
// against the kernel's own cost of the same links, alternating in one run (issue #5, item 4).
//
//   lifecycle_bench --mvlan BIN --json FILE [--rounds N]
//
// In a fresh network namespace with a veth parent, each round runs
//   mvlan: RequestAddress, CreateEndpoint, Join (makes the macvlan link), Leave (deletes it),
//          DeleteEndpoint, ReleaseAddress, every grant durable;
//   bare:  the same macvlan link made and deleted through the project's libnl layer, nothing else;
// in alternating order (A B, B A, ...) so neither side always runs on a warmer kernel.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "netlink/libnl_kernel.h"
#include "tests/bench/bench_support.h"
#include "tests/support/netlink_probe.h"

namespace {

using namespace mvlan::bench;
namespace kernel = mvlan::kernel;

constexpr double kMaxOverhead = 0.10;
const char* kParent = "bp0";
const std::string kNet = docker_id(0xbe11c1, 1);

struct Settings {
  std::string mvlan, json_path;
  int rounds = 200;
};

Settings parse(int argc, char** argv) {
  const Flags f(argc, argv, {"--mvlan", "--json", "--rounds"},
                "lifecycle_bench --mvlan BIN --json FILE [--rounds N>=2]");
  Settings s;
  s.mvlan = f.text("--mvlan");
  s.json_path = f.text("--json");
  s.rounds = static_cast<int>(f.number("--rounds", s.rounds));
  if (s.mvlan.empty() || s.json_path.empty() || s.rounds < 2) f.usage_error();
  return s;
}

// Each step's milliseconds of one mvlan round, and the total.
struct Round {
  double total = 0;
  double steps[6] = {};
};
const char* kSteps[6] = {"RequestAddress", "CreateEndpoint", "Join", "Leave", "DeleteEndpoint",
                         "ReleaseAddress"};

Round mvlan_round(Client& c, const std::string& pool, unsigned long n) {
  const std::string ep = docker_id(0xe9, n);
  const json ids{{"NetworkID", kNet}, {"EndpointID", ep}};
  Round r;
  const auto t0 = Clock::now();
  auto lap = Clock::now();
  auto step = [&](int i) {
    r.steps[i] = ms_since(lap);
    lap = Clock::now();
  };
  std::string address = c.call("/IpamDriver.RequestAddress",
                                {{"PoolID", pool}, {"Address", ""}, {"Options", json::object()}})
                            ["Address"];
  step(0);
  c.call("/NetworkDriver.CreateEndpoint",
         {{"NetworkID", kNet},
          {"EndpointID", ep},
          {"Interface", {{"Address", address}, {"AddressIPv6", ""}, {"MacAddress", ""}}},
          {"Options", json::object()}});
  step(1);
  c.call("/NetworkDriver.Join", {{"NetworkID", kNet},
                                 {"EndpointID", ep},
                                 {"SandboxKey", "/var/run/docker/netns/bench"},
                                 {"Options", json::object()}});
  step(2);
  c.call("/NetworkDriver.Leave", ids);
  step(3);
  c.call("/NetworkDriver.DeleteEndpoint", ids);
  step(4);
  c.call("/IpamDriver.ReleaseAddress",
         {{"PoolID", pool}, {"Address", address.substr(0, address.find('/'))}});
  step(5);
  r.total = ms_since(t0);
  return r;
}

double bare_round(kernel::Netlink& nl, unsigned long n) {
  const kernel::Mac mac{0x02, 0x42, 0xc6, 0x33, static_cast<uint8_t>(n >> 8),
                        static_cast<uint8_t>(n)};
  const auto t0 = Clock::now();
  nl.create_macvlan(kParent, "bare0", kernel::MacvlanMode::Bridge, mac, 0);
  nl.delete_link("bare0");
  return ms_since(t0);
}

}  // namespace

int main(int argc, char** argv) try {
  const Settings s = parse(argc, argv);
  enter_fresh_netns();
  kernel::Netlink nl;  // bound to the new namespace
  mvlan::test::create_veth_pair(kParent, "bp0-p");
  nl.set_up("bp0-p");
  nl.set_up(kParent);

  Serve serve(s.mvlan);  // log level info, as users run it
  serve.start();
  Client c(serve.socket());
  const std::string pool =
      c.call("/IpamDriver.RequestPool", {{"AddressSpace", "LocalDefault"},
                                          {"Pool", "198.51.100.0/24"},
                                          {"SubPool", ""},
                                          {"Options", json::object()},
                                          {"V6", false}})["PoolID"];
  c.call("/IpamDriver.RequestAddress",
         {{"PoolID", pool},
          {"Address", "198.51.100.1"},
          {"Options", {{"RequestAddressType", "com.docker.network.gateway"}}}});
  c.call("/NetworkDriver.CreateNetwork",
         {{"NetworkID", kNet},
          {"Options", {{"com.docker.network.enable_ipv6", false},
                       {"com.docker.network.generic", {{"parent", kParent}}}}},
          {"IPv4Data", json::array({{{"AddressSpace", "LocalDefault"},
                                     {"Gateway", "198.51.100.1/24"},
                                     {"Pool", "198.51.100.0/24"}}})},
          {"IPv6Data", json::array()}});

  // Warm-up: the first links and the first fsyncs of a fresh file are not the steady state.
  for (unsigned long i = 0; i < 5; ++i) {
    mvlan_round(c, pool, 1000000 + i);
    bare_round(nl, i);
  }
  std::vector<double> mv, bare, steps[6];
  for (int i = 0; i < s.rounds; ++i) {
    const auto n = static_cast<unsigned long>(i);
    auto run_mvlan = [&] {
      const Round r = mvlan_round(c, pool, n);
      mv.push_back(r.total);
      for (int k = 0; k < 6; ++k) steps[k].push_back(r.steps[k]);
    };
    if (i % 2 == 0) {
      run_mvlan();
      bare.push_back(bare_round(nl, n));
    } else {
      bare.push_back(bare_round(nl, n));
      run_mvlan();
    }
  }
  c.call("/NetworkDriver.DeleteNetwork", {{"NetworkID", kNet}});
  serve.stop();

  const double m_mv = median(mv), m_bare = median(bare);
  const double overhead = (m_mv - m_bare) / m_bare;
  json raw{{"rounds", s.rounds},
           {"mvlan_ms", {{"median", m_mv}, {"p99", percentile(mv, 0.99)}}},
           {"bare_ms", {{"median", m_bare}, {"p99", percentile(bare, 0.99)}}},
           {"overhead", overhead}};
  for (int k = 0; k < 6; ++k) raw["mvlan_steps_median_ms"][kSteps[k]] = median(steps[k]);
  json rows = json::array();
  rows.push_back(row("Endpoint lifecycle over the socket vs bare libnl link add+del, median (" +
                         std::to_string(s.rounds) + " alternating rounds)",
                     "overhead <= 10%",
                     fixed(m_mv, 2) + " ms vs " + fixed(m_bare, 2) + " ms: " +
                         (overhead >= 0 ? "+" : "") + fixed(overhead * 100, 0) + "%",
                     overhead <= kMaxOverhead));
  write_section(s.json_path, "lifecycle", rows, raw);
  std::printf("lifecycle: mvlan median %.3f ms p99 %.3f ms; bare median %.3f ms p99 %.3f ms; "
              "overhead %+.1f%%\n",
              m_mv, percentile(mv, 0.99), m_bare, percentile(bare, 0.99), overhead * 100);
  for (int k = 0; k < 6; ++k) std::printf("  %-15s median %.3f ms\n", kSteps[k], median(steps[k]));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "lifecycle_bench: %s\n", e.what());
  return 1;
}
