// Sticky addresses over the wire, with engine 29's request bodies (the container's name in
// com.docker.network.endpoint.name), through SIGKILLs: a name whose release was answered always
// gets its address back, and no address is ever held by two names.

#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/daemon.h"

namespace mvlan::test {
namespace {

constexpr const char* kPoolId = "LocalDefault/198.19.0.0/26";  // 62 usable: no pressure
constexpr int kClients = 4;
constexpr int kNamesPerClient = 12;
constexpr int kRounds = 4;

// Engine 29's RequestAddress for a container (docker run --name NAME), as captured.
json request_for(const std::string& name) {
  return json{{"PoolID", kPoolId},
              {"Address", ""},
              {"Options", {{"com.docker.network.endpoint.name", name}}}};
}

enum class State { Unknown, Held, Parked };
struct Name {
  State state = State::Unknown;
  std::string address;  // the last one answered
};

struct Ledger {
  std::mutex mutex;
  std::map<std::string, std::string> held_by;  // address -> name, answered grants
  std::vector<std::string> errors;
  size_t answered = 0, came_back = 0;
};

std::string address_of(const std::string& body) {
  const std::string cidr = json::parse(body)["Address"].get<std::string>();
  return cidr.substr(0, cidr.find('/'));
}

// One engine connection starting and stopping its own containers until the daemon dies. `names`
// carries what this client knows across rounds.
void client_loop(const std::string& socket, Ledger& ledger, std::map<std::string, Name>& names,
                 unsigned seed) {
  auto connection = plugin_connection(socket, 10);
  httplib::Client& http = *connection;
  const httplib::Headers& headers = plugin_headers();
  std::mt19937 rng(seed);
  std::vector<std::string> all;
  for (const auto& [n, _] : names) all.push_back(n);
  for (;;) {
    const std::string& n = all[rng() % all.size()];
    Name& me = names[n];
    if (me.state == State::Held) {
      me.state = State::Unknown;  // until the answer comes
      auto res = http.Post("/IpamDriver.ReleaseAddress", headers,
                           json{{"PoolID", kPoolId}, {"Address", me.address}}.dump(), "");
      if (!res) return;
      std::lock_guard lock(ledger.mutex);
      if (res->status != 200) {
        ledger.errors.push_back("release of " + me.address + " answered " + res->body);
        return;
      }
      ledger.held_by.erase(me.address);
      me.state = State::Parked;
      ++ledger.answered;
      continue;
    }
    const State before = me.state;
    me.state = State::Unknown;
    auto res = http.Post("/IpamDriver.RequestAddress", headers, request_for(n).dump(), "");
    if (!res) return;
    std::lock_guard lock(ledger.mutex);
    if (res->status != 200) {
      ledger.errors.push_back("grant for " + n + " answered " + res->body);
      return;
    }
    const std::string a = address_of(res->body);
    if (before == State::Parked && a != me.address) {
      ledger.errors.push_back(n + " was parked on " + me.address + " but got " + a);
    }
    if (before == State::Parked) ++ledger.came_back;
    if (auto [it, fresh] = ledger.held_by.emplace(a, n); !fresh) {
      ledger.errors.push_back(a + " granted to " + n + " while " + it->second + " holds it");
    }
    me.address = a;
    me.state = State::Held;
    ++ledger.answered;
  }
}

}  // namespace

TEST_CASE("engine 29: a name whose release was answered gets its address back, through SIGKILLs",
          "[protocol][fault][sticky]") {
  const unsigned seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  Daemon d;
  d.start();
  REQUIRE(d.post("/IpamDriver.RequestPool",
                 std::string(R"({"AddressSpace":"LocalDefault","Pool":"198.19.0.0/26",)"
                             R"("SubPool":"","Options":{},"V6":false})"))
              .status == 200);

  Ledger ledger;
  std::vector<std::map<std::string, Name>> names(kClients);
  for (int c = 0; c < kClients; ++c) {
    for (int k = 0; k < kNamesPerClient; ++k) {
      names[static_cast<size_t>(c)]["ctr-" + std::to_string(c) + "-" + std::to_string(k)] = {};
    }
  }
  for (int round = 0; round < kRounds; ++round) {
    INFO("round " << round);
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back(client_loop, d.socket(), std::ref(ledger),
                           std::ref(names[static_cast<size_t>(c)]), static_cast<unsigned>(rng()));
    }
    const size_t kill_after = 80 + rng() % 120;
    size_t start = 0;
    {
      std::lock_guard lock(ledger.mutex);
      start = ledger.answered;
    }
    for (const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
         std::chrono::steady_clock::now() < give_up;) {
      {
        std::lock_guard lock(ledger.mutex);
        if (ledger.answered >= start + kill_after || !ledger.errors.empty()) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    d.signal(SIGKILL);
    CHECK(d.wait() == 128 + SIGKILL);
    for (auto& t : clients) t.join();
    for (const auto& e : ledger.errors) FAIL_CHECK(e);
    ledger.errors.clear();
    // A request cut off by the kill leaves its name Unknown: its address may be held or parked,
    // so that name is not checked until it is granted again (the ledger forgets its address).
    for (auto& client : names) {
      for (auto& [n, me] : client) {
        if (me.state == State::Unknown) {
          std::lock_guard lock(ledger.mutex);
          for (auto it = ledger.held_by.begin(); it != ledger.held_by.end();) {
            it = it->second == n ? ledger.held_by.erase(it) : std::next(it);
          }
        }
      }
    }
    d.start();
  }
  INFO("answered " << ledger.answered << ", parked names back on their address " << ledger.came_back);
  CHECK(ledger.came_back > 100);  // the promise was exercised, not vacuous

  // After the last restart, every parked name is listed as parked on its address.
  int code = 0;
  const json status = json::parse(d.run_cli({"status", "--state-dir", d.state_dir(), "--json"}, &code));
  REQUIRE(code == 0);
  std::map<std::string, std::pair<std::string, std::string>> bound;  // name -> (address, state)
  for (const auto& b : status["Pools"][0]["Bindings"]) {
    bound[b["Name"].get<std::string>()] = {b["Address"].get<std::string>(),
                                           b["State"].get<std::string>()};
  }
  for (const auto& client : names) {
    for (const auto& [n, me] : client) {
      if (me.state == State::Unknown) continue;
      INFO(n);
      REQUIRE(bound.count(n) == 1);
      CHECK(bound[n].first == me.address);
      CHECK(bound[n].second == (me.state == State::Held ? "held" : "parked"));
    }
  }
}

TEST_CASE("a name that cannot be a container's never fails a start: granted, bound to nothing, "
          "one log line quoting it safely",
          "[protocol][sticky]") {
  Daemon d;
  d.start();
  REQUIRE(d.post("/IpamDriver.RequestPool",
                 std::string(R"({"AddressSpace":"LocalDefault","Pool":"203.0.113.0/24",)"
                             R"("SubPool":"","Options":{},"V6":false})"))
              .status == 200);
  // Invalid UTF-8 cannot reach a plugin raw: Go's JSON encoder turns it into U+FFFD.
  const std::vector<std::string> hostile = {
      std::string("web\nINFO forged line"), std::string(300, 'a'),
      std::string("w\xef\xbf\xbd\xef\xbf\xbd"), std::string("-leading-dash")};
  for (const auto& name : hostile) {
    // Written by hand, so that the bytes on the wire are exactly these.
    std::string body = R"({"PoolID":"LocalDefault/203.0.113.0/24","Address":"","Options":{)"
                       R"("com.docker.network.endpoint.name":")";
    for (char c : name) {
      if (c == '\n') {
        body += "\\n";
      } else {
        body += c;
      }
    }
    body += R"("}})";
    const Answer a = d.post("/IpamDriver.RequestAddress", body);
    INFO(body);
    CHECK(a.status == 200);
  }
  int code = 0;
  const json status =
      json::parse(d.run_cli({"status", "--state-dir", d.state_dir(), "--json"}, &code));
  REQUIRE(code == 0);
  CHECK(status["Pools"][0]["Allocations"].size() == hostile.size());
  CHECK(status["Pools"][0]["Bindings"].empty());
  const std::string log = d.log();
  size_t warnings = 0;
  for (size_t at = 0; (at = log.find("is not a container name", at)) != std::string::npos; ++at) {
    ++warnings;
  }
  CHECK(warnings == hostile.size());
  CHECK(log.find("\nINFO forged line") == std::string::npos);  // the newline is escaped
  CHECK(log.find("web\\nINFO forged line") != std::string::npos);
}

}  // namespace mvlan::test
