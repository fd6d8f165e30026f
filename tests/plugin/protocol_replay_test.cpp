// Scenario B of the Docker 20.10.24 wire capture (shared/reference/docker-20.10-wire-capture.txt),
// replayed against the real `mvlan serve`: every Plugin.Activate and IpamDriver request, in order,
// with the request bodies transcribed from the capture. Docker would send back the address space
// and the pool ids mvlan answered, so those are threaded through ($SPACE, $POOL...).

#include <signal.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "tests/plugin/wire.h"
#include "tests/support/daemon.h"

namespace mvlan::test {
namespace {

using Vars = std::map<std::string, std::string>;

std::string fill(std::string text, const Vars& vars) {
  for (const auto& [name, value] : vars) {
    for (size_t at = text.find(name); at != std::string::npos; at = text.find(name, at)) {
      text.replace(at, name.size(), value);
      at += value.size();
    }
  }
  return text;
}

// Every answer, success or error, must be a JSON object: Docker's decoder fails on anything else.
json body_of(const Answer& a) {
  INFO("body: " << a.body);
  REQUIRE_FALSE(a.body.empty());
  json parsed;
  REQUIRE_NOTHROW(parsed = json::parse(a.body));
  REQUIRE(parsed.is_object());
  return parsed;
}

// A successful call: status 200 and a JSON object.
json ok(Daemon& d, const std::string& path, const std::string& body) {
  const Answer a = d.post(path, body);
  INFO(path << " " << body << " -> " << a.status << " " << a.body);
  REQUIRE(a.status == 200);
  return body_of(a);
}

void expect_empty_object(Daemon& d, const std::string& path, const std::string& body) {
  const json reply = ok(d, path, body);
  INFO(path << " " << body << " -> " << reply.dump());
  CHECK(reply == json::object());
}

void expect_granted(Daemon& d, const std::string& body, const std::string& address) {
  const json reply = ok(d, "/IpamDriver.RequestAddress", body);
  INFO(body << " -> " << reply.dump());
  CHECK(reply["Address"] == address);
  CHECK(reply["Data"] == json::object());
}

// The allocations `mvlan status --json` shows for one pool: address -> kind (and MAC).
std::map<std::string, std::string> allocations_of(const Daemon& d, const std::string& pool_id) {
  int code = -1;
  const std::string out = d.run_cli({"status", "--state-dir", d.state_dir(), "--json"}, &code);
  INFO(out);
  REQUIRE(code == 0);
  std::map<std::string, std::string> result;
  const json doc = json::parse(out);
  for (const auto& pool : doc["Pools"]) {
    if (pool["PoolID"] != pool_id) continue;
    for (const auto& a : pool["Allocations"]) {
      std::string kind = a["Kind"].get<std::string>();
      if (a.contains("MacAddress")) kind += " " + a["MacAddress"].get<std::string>();
      result[a["Address"].get<std::string>()] = kind;
    }
  }
  return result;
}

}  // namespace

TEST_CASE(
    "Scenario B of the Docker 20.10 capture replays against mvlan with the answers Docker "
    "needs",
    "[protocol]") {
  Daemon d;
  d.start();
  Vars v;

  // $ docker network create ... --ip-range 198.51.100.64/26 --aux-address router2=198.51.100.2
  //   --aux-address dnsx=198.51.100.70 --ipam-opt foo=bar ... n2
  const json activate = ok(d, "/Plugin.Activate", "");
  CHECK(activate["Implements"] == json::array({"NetworkDriver", "IpamDriver"}));
  const json caps = ok(d, "/IpamDriver.GetCapabilities", "");
  CHECK(caps["RequiresMACAddress"] == false);
  CHECK(caps["RequiresRequestReplay"] == false);
  const json spaces = ok(d, "/IpamDriver.GetDefaultAddressSpaces", "");
  REQUIRE(spaces["LocalDefaultAddressSpace"].is_string());
  REQUIRE(spaces["GlobalDefaultAddressSpace"].is_string());
  CHECK(spaces["LocalDefaultAddressSpace"] == "LocalDefault");
  CHECK(spaces["GlobalDefaultAddressSpace"] == "GlobalDefault");
  v["$SPACE"] = spaces["LocalDefaultAddressSpace"].get<std::string>();

  {
    // --ipam-opt foo=bar: refused (the only option is allocation=...), and nothing is kept.
    const std::string before = dump_state(d.state_dir());
    const Answer refused = d.post(
        "/IpamDriver.RequestPool",
        fill(
            R"({"AddressSpace":"$SPACE","Pool":"198.51.100.0/24","SubPool":"198.51.100.64/26","Options":{"foo":"bar"},"V6":false})",
            v));
    INFO(refused.body);
    CHECK(refused.status == 400);
    const json err = body_of(refused);
    CHECK_THAT(err["Err"].get<std::string>(),
               Catch::Contains("\"foo\"") && Catch::Contains("allocation=round-robin|lowest"));
    CHECK(err["Error"] == err["Err"]);
    CHECK(dump_state(d.state_dir()) == before);
  }
  // The user drops the option and runs the same command again.
  const json n2 = ok(
      d, "/IpamDriver.RequestPool",
      fill(
          R"({"AddressSpace":"$SPACE","Pool":"198.51.100.0/24","SubPool":"198.51.100.64/26","Options":{},"V6":false})",
          v));
  CHECK(n2["PoolID"] == "LocalDefault/198.51.100.0/24/198.51.100.64/26");
  CHECK(n2["Pool"] == "198.51.100.0/24");
  CHECK(n2["Data"] == json::object());
  v["$N2"] = n2["PoolID"].get<std::string>();
  expect_granted(
      d,
      fill(
          R"({"PoolID":"$N2","Address":"198.51.100.1","Options":{"RequestAddressType":"com.docker.network.gateway"}})",
          v),
      "198.51.100.1/24");
  expect_granted(d, fill(R"({"PoolID":"$N2","Address":"198.51.100.2","Options":null})", v),
                 "198.51.100.2/24");
  expect_granted(d, fill(R"({"PoolID":"$N2","Address":"198.51.100.70","Options":null})", v),
                 "198.51.100.70/24");

  // $ docker run --rm --network n2 --ip 198.51.100.10 ...
  expect_granted(
      d,
      fill(
          R"({"PoolID":"$N2","Address":"198.51.100.10","Options":{"com.docker.network.endpoint.macaddress":"02:42:14:c9:05:cc"}})",
          v),
      "198.51.100.10/24");
  expect_empty_object(d, "/IpamDriver.ReleaseAddress",
                      fill(R"({"PoolID":"$N2","Address":"198.51.100.10"})", v));

  // $ docker run -d --name pb --network n2 ... (dynamic): the first address of the ip-range.
  expect_granted(
      d,
      fill(
          R"({"PoolID":"$N2","Address":"","Options":{"com.docker.network.endpoint.macaddress":"02:42:b6:de:6a:26"}})",
          v),
      "198.51.100.64/24");
  {
    const auto held = allocations_of(d, v["$N2"]);
    const std::map<std::string, std::string> expected{
        {"198.51.100.1", "gateway"},
        {"198.51.100.2", "reserved"},
        {"198.51.100.64", "container 02:42:b6:de:6a:26"},
        {"198.51.100.70", "reserved"}};
    CHECK(held == expected);
  }

  // $ docker network create ... --ipv6 --subnet 203.0.113.0/24 --subnet 2001:db8:5::/64
  //   --gateway 2001:db8:5::1 ... n3
  const json n3v4 = ok(
      d, "/IpamDriver.RequestPool",
      fill(
          R"({"AddressSpace":"$SPACE","Pool":"203.0.113.0/24","SubPool":"","Options":{},"V6":false})",
          v));
  CHECK(n3v4["PoolID"] == "LocalDefault/203.0.113.0/24");
  CHECK(n3v4["Pool"] == "203.0.113.0/24");
  v["$N3V4"] = n3v4["PoolID"].get<std::string>();
  expect_granted(
      d,
      fill(
          R"({"PoolID":"$N3V4","Address":"","Options":{"RequestAddressType":"com.docker.network.gateway"}})",
          v),
      "203.0.113.1/24");
  const json n3v6 = ok(
      d, "/IpamDriver.RequestPool",
      fill(
          R"({"AddressSpace":"$SPACE","Pool":"2001:db8:5::/64","SubPool":"","Options":{},"V6":true})",
          v));
  CHECK(n3v6["PoolID"] == "LocalDefault/2001:db8:5::/64");
  CHECK(n3v6["Pool"] == "2001:db8:5::/64");
  CHECK(n3v6["Data"] == json::object());
  v["$N3V6"] = n3v6["PoolID"].get<std::string>();
  expect_granted(
      d,
      fill(
          R"({"PoolID":"$N3V6","Address":"2001:db8:5::1","Options":{"RequestAddressType":"com.docker.network.gateway"}})",
          v),
      "2001:db8:5::1/64");

  // $ docker network connect --ip 203.0.113.20 --ip6 2001:db8:5::20 n3 pb
  expect_granted(
      d,
      fill(
          R"({"PoolID":"$N3V4","Address":"203.0.113.20","Options":{"com.docker.network.endpoint.macaddress":"02:42:6a:74:72:d1"}})",
          v),
      "203.0.113.20/24");
  expect_granted(
      d,
      fill(
          R"({"PoolID":"$N3V6","Address":"2001:db8:5::20","Options":{"com.docker.network.endpoint.macaddress":"02:42:6a:74:72:d1"}})",
          v),
      "2001:db8:5::20/64");

  // $ docker network disconnect n3 pb
  expect_empty_object(d, "/IpamDriver.ReleaseAddress",
                      fill(R"({"PoolID":"$N3V4","Address":"203.0.113.20"})", v));
  expect_empty_object(d, "/IpamDriver.ReleaseAddress",
                      fill(R"({"PoolID":"$N3V6","Address":"2001:db8:5::20"})", v));

  // $ docker network rm n3
  expect_empty_object(d, "/IpamDriver.ReleaseAddress",
                      fill(R"({"PoolID":"$N3V4","Address":"203.0.113.1"})", v));
  expect_empty_object(d, "/IpamDriver.ReleasePool", fill(R"({"PoolID":"$N3V4"})", v));
  expect_empty_object(d, "/IpamDriver.ReleaseAddress",
                      fill(R"({"PoolID":"$N3V6","Address":"2001:db8:5::1"})", v));
  expect_empty_object(d, "/IpamDriver.ReleasePool", fill(R"({"PoolID":"$N3V6"})", v));

  // $ docker network create -d ... n4 (no subnet: the IPAM picks a default pool)
  const json n4 =
      ok(d, "/IpamDriver.RequestPool",
         fill(R"({"AddressSpace":"$SPACE","Pool":"","SubPool":"","Options":{},"V6":false})", v));
  CHECK(n4["Pool"] == "198.18.0.0/24");
  CHECK(n4["PoolID"] == "LocalDefault/198.18.0.0/24");
  v["$N4"] = n4["PoolID"].get<std::string>();
  expect_granted(
      d,
      fill(
          R"({"PoolID":"$N4","Address":"","Options":{"RequestAddressType":"com.docker.network.gateway"}})",
          v),
      "198.18.0.1/24");

  // $ docker network rm n4
  expect_empty_object(d, "/IpamDriver.ReleaseAddress",
                      fill(R"({"PoolID":"$N4","Address":"198.18.0.1"})", v));
  expect_empty_object(d, "/IpamDriver.ReleasePool", fill(R"({"PoolID":"$N4"})", v));

  // $ docker stop -t 1 pb: Docker releases what mvlan granted (.64; the capture's toy said .65).
  expect_empty_object(d, "/IpamDriver.ReleaseAddress",
                      fill(R"({"PoolID":"$N2","Address":"198.51.100.64"})", v));

  // $ docker network rm n2
  expect_empty_object(d, "/IpamDriver.ReleaseAddress",
                      fill(R"({"PoolID":"$N2","Address":"198.51.100.1"})", v));
  expect_empty_object(d, "/IpamDriver.ReleaseAddress",
                      fill(R"({"PoolID":"$N2","Address":"198.51.100.2"})", v));
  expect_empty_object(d, "/IpamDriver.ReleaseAddress",
                      fill(R"({"PoolID":"$N2","Address":"198.51.100.70"})", v));
  expect_empty_object(d, "/IpamDriver.ReleasePool", fill(R"({"PoolID":"$N2"})", v));

  // $ docker network create ... --subnet 198.51.100.0/24 --gateway 198.51.100.1 ... n5:
  // the same subnet again, now without an ip-range, is free once n2 is gone.
  const json n5 = ok(
      d, "/IpamDriver.RequestPool",
      fill(
          R"({"AddressSpace":"$SPACE","Pool":"198.51.100.0/24","SubPool":"","Options":{},"V6":false})",
          v));
  CHECK(n5["PoolID"] == "LocalDefault/198.51.100.0/24");
  CHECK(n5["Pool"] == "198.51.100.0/24");
  v["$N5"] = n5["PoolID"].get<std::string>();
  expect_granted(
      d,
      fill(
          R"({"PoolID":"$N5","Address":"198.51.100.1","Options":{"RequestAddressType":"com.docker.network.gateway"}})",
          v),
      "198.51.100.1/24");

  // $ docker run -d --restart=always --name pr --network n5 --ip 198.51.100.33 ...
  expect_granted(
      d,
      fill(
          R"({"PoolID":"$N5","Address":"198.51.100.33","Options":{"com.docker.network.endpoint.macaddress":"02:42:68:c1:e2:d8"}})",
          v),
      "198.51.100.33/24");

  // $ kill -TERM dockerd
  expect_empty_object(d, "/IpamDriver.ReleaseAddress",
                      fill(R"({"PoolID":"$N5","Address":"198.51.100.33"})", v));

  // While dockerd is down the host restarts mvlan too: Docker keeps using the PoolID it has.
  d.signal(SIGTERM);
  REQUIRE(d.wait() == 0);
  d.start();

  // $ start dockerd again: no RequestPool, no gateway request; only the container's address.
  CHECK(ok(d, "/Plugin.Activate", "") == activate);
  CHECK(ok(d, "/IpamDriver.GetCapabilities", "") == caps);
  CHECK(ok(d, "/IpamDriver.GetDefaultAddressSpaces", "") == spaces);
  expect_granted(
      d,
      fill(
          R"({"PoolID":"$N5","Address":"198.51.100.33","Options":{"com.docker.network.endpoint.macaddress":"02:42:70:01:e7:94"}})",
          v),
      "198.51.100.33/24");
  {
    const auto held = allocations_of(d, v["$N5"]);
    const std::map<std::string, std::string> expected{
        {"198.51.100.1", "gateway"}, {"198.51.100.33", "container 02:42:70:01:e7:94"}};
    CHECK(held == expected);
  }

  // $ docker rm -f pr
  expect_empty_object(d, "/IpamDriver.ReleaseAddress",
                      fill(R"({"PoolID":"$N5","Address":"198.51.100.33"})", v));
  // $ docker network rm n5
  expect_empty_object(d, "/IpamDriver.ReleaseAddress",
                      fill(R"({"PoolID":"$N5","Address":"198.51.100.1"})", v));
  expect_empty_object(d, "/IpamDriver.ReleasePool", fill(R"({"PoolID":"$N5"})", v));

  // Every network is gone, so mvlan holds nothing.
  int code = -1;
  const std::string status = d.run_cli({"status", "--state-dir", d.state_dir()}, &code);
  CHECK(code == 0);
  CHECK_THAT(status, Catch::Contains("no pools"));
  CHECK(dump_state(d.state_dir()) ==
        "[address_sets]\n[cursors]\n[pools]\n[allocations]\n[taken_runs]\n");
}

TEST_CASE("A released pool's id is refused afterwards, while releasing it again is harmless",
          "[protocol]") {
  Daemon d;
  d.start();
  const json pool = ok(d, "/IpamDriver.RequestPool",
                       R"({"AddressSpace":"LocalDefault","Pool":"192.0.2.0/24","SubPool":"",)"
                       R"("Options":{},"V6":false})");
  const std::string id = pool["PoolID"];
  CHECK(id == "LocalDefault/192.0.2.0/24");
  expect_empty_object(d, "/IpamDriver.ReleasePool", json{{"PoolID", id}}.dump());
  // Docker only logs errors of Release*; a second release (e.g. after a failed create) is fine.
  expect_empty_object(d, "/IpamDriver.ReleasePool", json{{"PoolID", id}}.dump());
  expect_empty_object(d, "/IpamDriver.ReleaseAddress",
                      json{{"PoolID", id}, {"Address", "192.0.2.1"}}.dump());

  const Answer gone =
      d.post("/IpamDriver.RequestAddress", json{{"PoolID", id}, {"Address", ""}, {"Options", {}}});
  CHECK(gone.status == 404);
  const json err = body_of(gone);
  CHECK_THAT(err["Error"].get<std::string>(), Catch::Contains(id));
}

TEST_CASE("Dynamic addresses go round-robin through the ip-range and wrap to its start",
          "[protocol]") {
  Daemon d;
  d.start();
  const std::string id = ok(
      d, "/IpamDriver.RequestPool",
      R"({"AddressSpace":"LocalDefault","Pool":"198.51.100.0/24","SubPool":"198.51.100.248/29","Options":{},"V6":false})")
      ["PoolID"];
  auto dynamic = [&] {
    return ok(d, "/IpamDriver.RequestAddress",
              json{{"PoolID", id}, {"Address", ""}}.dump())["Address"]
        .get<std::string>();
  };
  auto release = [&](const std::string& a) {
    expect_empty_object(d, "/IpamDriver.ReleaseAddress",
                        json{{"PoolID", id}, {"Address", a}}.dump());
  };
  // .248 .. .254 (.255 is the subnet's broadcast).
  CHECK(dynamic() == "198.51.100.248/24");
  CHECK(dynamic() == "198.51.100.249/24");
  release("198.51.100.248");
  // A just-released address rests: the next grant continues after the last one.
  CHECK(dynamic() == "198.51.100.250/24");
  for (int i = 251; i <= 254; ++i) CHECK(dynamic() == "198.51.100." + std::to_string(i) + "/24");
  // Past the end it wraps to the free .248.
  CHECK(dynamic() == "198.51.100.248/24");
  const Answer full = d.post("/IpamDriver.RequestAddress", json{{"PoolID", id}, {"Address", ""}});
  CHECK(full.status == 507);
  CHECK_THAT(body_of(full)["Error"].get<std::string>(), Catch::Contains("198.51.100.248/29"));
}

TEST_CASE(
    "Round-robin in one network continues after its own last grant even when a network "
    "sharing its subnet allocates in between",
    "[protocol]") {
  // Two networks may share 198.51.100.0/24 when each has its own --ip-range (one address set).
  Daemon d;
  d.start();
  const std::string a = ok(
      d, "/IpamDriver.RequestPool",
      R"({"AddressSpace":"LocalDefault","Pool":"198.51.100.0/24","SubPool":"198.51.100.64/26","Options":{},"V6":false})")
      ["PoolID"];
  const std::string b = ok(
      d, "/IpamDriver.RequestPool",
      R"({"AddressSpace":"LocalDefault","Pool":"198.51.100.0/24","SubPool":"198.51.100.128/26","Options":{},"V6":false})")
      ["PoolID"];
  auto dynamic = [&](const std::string& pool) {
    return ok(d, "/IpamDriver.RequestAddress",
              json{{"PoolID", pool}, {"Address", ""}}.dump())["Address"]
        .get<std::string>();
  };
  CHECK(dynamic(a) == "198.51.100.64/24");
  expect_empty_object(d, "/IpamDriver.ReleaseAddress",
                      json{{"PoolID", a}, {"Address", "198.51.100.64"}}.dump());
  CHECK(dynamic(b) == "198.51.100.128/24");
  // The container that just left network A must not see its address reused at once.
  CHECK(dynamic(a) == "198.51.100.65/24");
}

TEST_CASE("Calls Docker sends without a body are answered whatever form the empty body takes",
          "[protocol]") {
  Daemon d;
  d.start();
  const std::vector<std::string> paths = {"/Plugin.Activate", "/IpamDriver.GetCapabilities",
                                          "/IpamDriver.GetDefaultAddressSpaces"};
  for (const auto& path : paths) {
    INFO(path);
    const std::vector<std::string> requests = {
        docker_request(path, ""),       // Content-Length: 0, as Docker sends it
        docker_request(path, " \r\n"),  // whitespace
        docker_request(path, "{}"),
    };
    for (const auto& request : requests) {
      RawConnection c(d.socket());
      REQUIRE(c.connected());
      REQUIRE(c.send(request));
      const auto answer = c.read_answer(std::chrono::seconds(10));
      REQUIRE(answer);
      INFO(request << " -> " << answer->headers << answer->body);
      CHECK(answer->status == 200);
      CHECK_THAT(answer->headers, Catch::Contains("application/vnd.docker.plugins.v1+json",
                                                  Catch::CaseSensitive::No));
      const json body = json::parse(answer->body);
      CHECK(body.is_object());
      CHECK_FALSE(body.empty());
    }
  }
}

TEST_CASE("A path mvlan does not serve is answered 404 with a JSON error naming it", "[protocol]") {
  Daemon d;
  d.start();
  struct Row {
    std::string method, path;
    bool ipam;
  };
  const std::vector<Row> rows = {
      {"POST", "/IpamDriver.RequestPools", true},
      {"POST", "/IpamDriver.", true},
      {"POST", "/Plugin.Deactivate", false},
      {"POST", "/VolumeDriver.Create", false},
      {"POST", "/", false},
      {"POST", "/IpamDriver/RequestPool", false},
      {"GET", "/Plugin.Activate", false},
      {"PUT", "/IpamDriver.RequestPool", true},
  };
  for (const auto& row : rows) {
    RawConnection c(d.socket());
    REQUIRE(c.connected());
    REQUIRE(
        c.send(row.method + " " + row.path + " HTTP/1.1\r\nHost: \r\nContent-Length: 2\r\n\r\n{}"));
    const auto answer = c.read_answer(std::chrono::seconds(10));
    REQUIRE(answer);
    INFO(row.method << " " << row.path << " -> " << answer->status << " " << answer->body);
    CHECK(answer->status == 404);
    json body;
    REQUIRE_NOTHROW(body = json::parse(answer->body));
    REQUIRE(body.is_object());
    REQUIRE(body["Err"].is_string());
    CHECK_THAT(body["Err"].get<std::string>(), Catch::Contains(row.path));
    if (row.ipam) CHECK(body["Error"] == body["Err"]);
  }
}

TEST_CASE("An error answer leaves the keep-alive connection usable for Docker's next call",
          "[protocol]") {
  Daemon d;
  d.start();
  RawConnection c(d.socket());
  REQUIRE(c.connected());
  // Go's transport sends the next request on a reused connection once the previous answer is in.
  REQUIRE(c.send(docker_request("/Plugin.Activate", "")));
  const auto a1 = c.read_answer(std::chrono::seconds(10));
  REQUIRE(c.send(docker_request("/IpamDriver.RequestPool", "{bad")));
  const auto a2 = c.read_answer(std::chrono::seconds(10));
  REQUIRE(c.send(
      docker_request("/IpamDriver.RequestAddress", R"({"PoolID":"LocalDefault/192.0.2.0/24"})")));
  const auto a3 = c.read_answer(std::chrono::seconds(10));
  REQUIRE(c.send(docker_request("/IpamDriver.GetDefaultAddressSpaces", "")));
  const auto a4 = c.read_answer(std::chrono::seconds(10));
  REQUIRE(a1);
  REQUIRE(a2);
  REQUIRE(a3);
  REQUIRE(a4);
  CHECK(a1->status == 200);
  CHECK(json::parse(a1->body).contains("Implements"));
  CHECK(a2->status == 400);
  CHECK_THAT(json::parse(a2->body)["Error"].get<std::string>(), Catch::Contains("not valid JSON"));
  CHECK(a3->status == 404);
  CHECK_THAT(json::parse(a3->body)["Error"].get<std::string>(),
             Catch::Contains("LocalDefault/192.0.2.0/24"));
  CHECK(a4->status == 200);
  CHECK(json::parse(a4->body).contains("LocalDefaultAddressSpace"));
}

}  // namespace mvlan::test
