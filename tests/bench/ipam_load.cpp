// ipam_load: RequestAddress + ReleaseAddress pairs against a running `mvlan serve`, the way
// Docker calls it (POST on the Unix socket, one keep-alive connection per client), timing each
// request. Starts nothing itself.
//
//   ipam_load --socket PATH [--clients N] [--pairs M] [--pool CIDR] [--keep-pool] [--names K]
//             [--json FILE]
//
// --names K sends engine 29's bodies: every RequestAddress names its container
// (com.docker.network.endpoint.name). Each client cycles through K names of its own, as
// containers that restart (a parked name comes back to its address); K = 0 names a new container
// every time (each grant binds a new name, each release parks it, and parked addresses pile up).
// M pairs in total are shared among the N clients. The pool (default 198.18.0.0/16) is created
// first and released at the end unless --keep-pool. --json writes the figures (milliseconds) for
// tests/bench/ipam_pairs.sh.

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Settings {
  std::string socket;
  int clients = 1;
  long pairs = 10000;
  std::string pool = "198.18.0.0/16";
  bool keep_pool = false;
  int names = -1;  // -1: no names (engines before 29)
  std::string json_path;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "ipam_load: %s\nusage: ipam_load --socket PATH [--clients N] [--pairs M] "
               "[--pool CIDR] [--keep-pool] [--names K] [--json FILE]\n",
               why.c_str());
  std::exit(2);
}

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--socket") {
      s.socket = value();
    } else if (a == "--clients") {
      s.clients = std::atoi(value().c_str());
    } else if (a == "--pairs") {
      s.pairs = std::atol(value().c_str());
    } else if (a == "--pool") {
      s.pool = value();
    } else if (a == "--json") {
      s.json_path = value();
    } else if (a == "--keep-pool") {
      s.keep_pool = true;
    } else if (a == "--names") {
      s.names = std::atoi(value().c_str());
    } else {
      usage("unknown argument \"" + a + "\"");
    }
  }
  if (s.socket.empty()) usage("--socket is required");
  if (s.clients < 1 || s.pairs < 1) usage("--clients and --pairs must be at least 1");
  if (s.names < -1) usage("--names takes a count of names per client, 0 for a new one each time");
  return s;
}

std::unique_ptr<httplib::Client> connect(const std::string& socket) {
  auto c = std::make_unique<httplib::Client>(socket);
  c->set_address_family(AF_UNIX);
  c->set_keep_alive(true);
  c->set_read_timeout(60, 0);
  return c;
}

const httplib::Headers kHeaders{{"Accept", "application/vnd.docker.plugins.v1.2+json"}};

struct ClientResult {
  std::vector<double> request_us, release_us, pair_us;
  long errors = 0;
  std::string first_error;
};

void run_client(const std::string& socket, const std::string& pool_id, long pairs, int client,
                int names, ClientResult& out) {
  auto http = connect(socket);
  json request{{"PoolID", pool_id},
               {"Address", ""},
               {"Options", {{"com.docker.network.endpoint.macaddress", "02:42:c6:12:00:01"}}}};
  std::string request_body = request.dump();
  out.request_us.reserve(static_cast<size_t>(pairs));
  out.release_us.reserve(static_cast<size_t>(pairs));
  out.pair_us.reserve(static_cast<size_t>(pairs));
  long i = 0;
  auto fail = [&](const std::string& what) {
    if (out.errors++ == 0) out.first_error = what;
    if (std::getenv("IPAM_LOAD_VERBOSE")) std::fprintf(stderr, "pair %ld: %s\n", i, what.c_str());
  };
  for (; i < pairs; ++i) {
    if (names >= 0) {
      request["Options"]["com.docker.network.endpoint.name"] =
          "bench-" + std::to_string(client) + "-" + std::to_string(names > 0 ? i % names : i);
      request_body = request.dump();
    }
    const auto t0 = Clock::now();
    auto res = http->Post("/IpamDriver.RequestAddress", kHeaders, request_body, "");
    const auto t1 = Clock::now();
    if (!res || res->status != 200) {
      fail(res ? std::to_string(res->status) + " " + res->body : httplib::to_string(res.error()));
      continue;
    }
    std::string address = json::parse(res->body)["Address"].get<std::string>();
    address = address.substr(0, address.find('/'));
    auto rel = http->Post("/IpamDriver.ReleaseAddress", kHeaders,
                          json{{"PoolID", pool_id}, {"Address", address}}.dump(), "");
    const auto t2 = Clock::now();
    if (!rel || rel->status != 200) {
      fail(rel ? std::to_string(rel->status) + " " + rel->body : httplib::to_string(rel.error()));
      continue;
    }
    out.request_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    out.release_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
    out.pair_us.push_back(std::chrono::duration<double, std::micro>(t2 - t0).count());
  }
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

json latency_ms(const std::vector<double>& us) {
  return {{"p50", quantile(us, 0.50) / 1000}, {"p99", quantile(us, 0.99) / 1000}};
}

void print_latency(const char* name, std::vector<double> v) {
  if (v.empty()) {
    std::printf("%-16s no samples\n", name);
    return;
  }
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))]; };
  std::printf("%-16s p50 %8.3f ms   p99 %8.3f ms   max %8.3f ms\n", name, at(0.50) / 1000,
              at(0.99) / 1000, v.back() / 1000);
}

}  // namespace

int main(int argc, char** argv) {
  const Settings s = parse(argc, argv);
  auto admin = connect(s.socket);
  const json pool_request{{"AddressSpace", "LocalDefault"},
                          {"Pool", s.pool},
                          {"SubPool", ""},
                          {"Options", json::object()},
                          {"V6", s.pool.find(':') != std::string::npos}};
  auto created = admin->Post("/IpamDriver.RequestPool", kHeaders, pool_request.dump(), "");
  if (!created) {
    std::fprintf(stderr, "ipam_load: no answer on %s: %s\n", s.socket.c_str(),
                 httplib::to_string(created.error()).c_str());
    return 1;
  }
  if (created->status != 200) {
    std::fprintf(stderr, "ipam_load: RequestPool %s refused (%d): %s\n", s.pool.c_str(),
                 created->status, created->body.c_str());
    return 1;
  }
  const std::string pool_id = json::parse(created->body)["PoolID"].get<std::string>();

  std::vector<ClientResult> results(static_cast<size_t>(s.clients));
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < s.clients; ++c) {
    const long share = s.pairs / s.clients + (c < s.pairs % s.clients ? 1 : 0);
    threads.emplace_back(run_client, s.socket, pool_id, share, c, s.names,
                         std::ref(results[static_cast<size_t>(c)]));
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  ClientResult all;
  for (auto& r : results) {
    all.request_us.insert(all.request_us.end(), r.request_us.begin(), r.request_us.end());
    all.release_us.insert(all.release_us.end(), r.release_us.begin(), r.release_us.end());
    all.pair_us.insert(all.pair_us.end(), r.pair_us.begin(), r.pair_us.end());
    all.errors += r.errors;
    if (all.first_error.empty()) all.first_error = r.first_error;
  }
  std::printf("pool %s  clients %d  pairs %zu ok / %ld asked  in %.2f s\n", pool_id.c_str(),
              s.clients, all.pair_us.size(), s.pairs, seconds);
  std::printf("throughput       %.0f pairs/s\n", static_cast<double>(all.pair_us.size()) / seconds);
  print_latency("RequestAddress", all.request_us);
  print_latency("ReleaseAddress", all.release_us);
  print_latency("pair", all.pair_us);
  std::printf("errors           %ld%s%s\n", all.errors, all.errors ? ", first: " : "",
              all.first_error.substr(0, 200).c_str());

  if (!s.json_path.empty()) {
    std::ofstream out(s.json_path);
    out << json{{"clients", s.clients},
                {"names", s.names},
                {"pairs_ok", all.pair_us.size()},
                {"pairs_asked", s.pairs},
                {"seconds", seconds},
                {"pairs_per_s", static_cast<double>(all.pair_us.size()) / seconds},
                {"request_ms", latency_ms(all.request_us)},
                {"release_ms", latency_ms(all.release_us)},
                {"pair_ms", latency_ms(all.pair_us)},
                {"errors", all.errors}}
               .dump(2)
        << "\n";
    if (!out) {
      std::fprintf(stderr, "ipam_load: cannot write %s\n", s.json_path.c_str());
      return 1;
    }
  }
  if (!s.keep_pool) {
    auto released =
        admin->Post("/IpamDriver.ReleasePool", kHeaders, json{{"PoolID", pool_id}}.dump(), "");
    if (!released || released->status != 200) {
      std::fprintf(stderr, "ipam_load: ReleasePool %s failed\n", pool_id.c_str());
      return 1;
    }
  }
  return all.errors == 0 ? 0 : 1;
}
