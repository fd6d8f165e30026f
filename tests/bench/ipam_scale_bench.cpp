// ipam_scale_bench: fill a big pool through the socket, one durable grant at a time, and see
// whether a grant costs more as the pool fills (issue #5, item 5).
//
//   ipam_scale_bench --mvlan BIN --json FILE [--v4 N] [--v6 N] [--clients C]
//
// An IPv4 /16 gets N (default 60,000) addresses, then an IPv6 /64 gets N (default 100,000), asked
// for as Docker does by C (default 16) clients at once: one client would wait for one fsync per
// grant and take minutes. Per-grant time is the median latency of the 1,000 grants (in the order
// they were asked) ending at the 1,000th, the 10,000th and the last one; the serve process's
// VmRSS and VmHWM are read from /proc at the full fill.

#include <cstdio>
#include <cstdlib>
#include <atomic>
#include <string>
#include <thread>

#include "tests/bench/bench_support.h"

namespace {

using namespace mvlan::bench;

constexpr double kMaxGrowth = 1.5;
constexpr double kMaxRssMb = 32;
constexpr long kWindow = 1000;

struct Settings {
  std::string mvlan, json_path;
  long v4 = 60000, v6 = 100000;
  int clients = 16;
};

Settings parse(int argc, char** argv) {
  const Flags f(argc, argv, {"--mvlan", "--json", "--v4", "--v6", "--clients"},
                "ipam_scale_bench --mvlan BIN --json FILE [--v4 N>=10000] [--v6 N>=10000] "
                "[--clients 1..256]");
  Settings s;
  s.mvlan = f.text("--mvlan");
  s.json_path = f.text("--json");
  s.v4 = f.number("--v4", s.v4);
  s.v6 = f.number("--v6", s.v6);
  const long clients = f.number("--clients", s.clients);
  if (s.mvlan.empty() || s.json_path.empty() || s.v4 < 10 * kWindow || s.v6 < 10 * kWindow ||
      clients < 1 || clients > 256) {
    f.usage_error();
  }
  s.clients = static_cast<int>(clients);
  return s;
}

struct Fill {
  std::string name;
  long count = 0;
  double at_1k = 0, at_10k = 0, at_full = 0, seconds = 0;
  Memory memory;
};

Fill fill(const std::string& socket, int clients, pid_t server, const std::string& subnet, bool v6,
          long count) {
  Client c(socket);
  const std::string pool = c.call("/IpamDriver.RequestPool", {{"AddressSpace", "LocalDefault"},
                                                               {"Pool", subnet},
                                                               {"SubPool", ""},
                                                               {"Options", json::object()},
                                                               {"V6", v6}})["PoolID"];
  std::vector<double> ms(static_cast<size_t>(count));
  const json body{{"PoolID", pool}, {"Address", ""}, {"Options", json::object()}};
  std::atomic<long> next{0};
  std::vector<std::string> errors(static_cast<size_t>(clients));
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < clients; ++w) {
    threads.emplace_back([&, w] {
      try {
        Client mine(socket);
        for (long i; (i = next++) < count;) {
          const auto t = Clock::now();
          mine.call("/IpamDriver.RequestAddress", body);
          ms[static_cast<size_t>(i)] = ms_since(t);
          if ((i + 1) % 20000 == 0) std::fprintf(stderr, "  %s: %ld asked\n", subnet.c_str(), i + 1);
        }
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(w)] = e.what();
        next = count;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (!e.empty()) throw std::runtime_error(subnet + ": " + e);
  Fill f;
  f.name = subnet;
  f.count = count;
  f.seconds = ms_since(t0) / 1000;
  f.memory = memory_of(server);
  auto window_ending_at = [&](long end) {
    return median(std::vector<double>(ms.begin() + (end - kWindow), ms.begin() + end));
  };
  f.at_1k = window_ending_at(kWindow);
  f.at_10k = window_ending_at(10 * kWindow);
  f.at_full = window_ending_at(count);
  return f;
}

}  // namespace

int main(int argc, char** argv) try {
  const Settings s = parse(argc, argv);
  Serve serve(s.mvlan);
  serve.start();
  const Fill fills[2] = {
      fill(serve.socket(), s.clients, serve.pid(), "198.18.0.0/16", false, s.v4),
      fill(serve.socket(), s.clients, serve.pid(), "2001:db8:5ca1:e::/64", true, s.v6)};
  const Memory end = memory_of(serve.pid());
  serve.stop();

  json rows = json::array(), raw{{"fills", json::array()}};
  for (const auto& f : fills) {
    const double growth = f.at_full / f.at_1k;
    rows.push_back(row("IPAM fill " + f.name + " to " + fixed(static_cast<double>(f.count), 0) +
                           ", " + std::to_string(s.clients) +
                           " clients: grant median at 1k / 10k / full, growth last/first",
                       "<= 1.5",
                       fixed(f.at_1k, 3) + " / " + fixed(f.at_10k, 3) + " / " +
                           fixed(f.at_full, 3) + " ms: " + fixed(growth, 2),
                       growth <= kMaxGrowth));
    raw["fills"].push_back({{"subnet", f.name},
                            {"count", f.count},
                            {"clients", s.clients},
                            {"seconds", f.seconds},
                            {"median_ms_at_1k", f.at_1k},
                            {"median_ms_at_10k", f.at_10k},
                            {"median_ms_at_full", f.at_full},
                            {"growth", growth},
                            {"rss_mb", f.memory.rss_mb},
                            {"hwm_mb", f.memory.hwm_mb}});
    std::printf("fill %s: %ld grants in %.1f s; median %.3f / %.3f / %.3f ms; RSS %.1f MB\n",
                f.name.c_str(), f.count, f.seconds, f.at_1k, f.at_10k, f.at_full,
                f.memory.rss_mb);
  }
  raw["rss_mb_at_end"] = end.rss_mb;
  raw["hwm_mb_at_end"] = end.hwm_mb;
  rows.push_back(row("IPAM RSS at the full fill (both pools held; VmHWM)", "<= 32 MB",
                     fixed(end.rss_mb, 1) + " MB (peak " + fixed(end.hwm_mb, 1) + " MB)",
                     end.hwm_mb <= kMaxRssMb));
  write_section(s.json_path, "ipam_scale", rows, raw);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "ipam_scale_bench: %s\n", e.what());
  return 1;
}
