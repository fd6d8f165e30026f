// Hostile and broken requests against the real `mvlan serve`: each is refused with a non-200
// status and a JSON message naming the field or value at fault, and the state is left exactly as
// it was (the IPAM tables are compared byte for byte before and after).

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/plugin/wire.h"
#include "tests/support/daemon.h"

namespace mvlan::test {
namespace {

constexpr const char* kPool = "LocalDefault/198.51.100.0/24/198.51.100.64/26";
constexpr const char* kPoolB = "LocalDefault/198.51.100.0/24/198.51.100.128/26";
constexpr const char* kPool6 = "LocalDefault/2001:db8:7::/64";

struct Row {
  std::string name;
  std::string path;
  std::string body;
  int status;            // the exact status expected
  std::string mentions;  // a substring the error message must contain
};

std::string pool_request(const std::string& fields) {
  return R"({"AddressSpace":"LocalDefault","SubPool":"","Options":{},"V6":false,)" + fields + "}";
}

std::string address_request(const std::string& address, const std::string& options = "null") {
  return std::string(R"({"PoolID":")") + kPool + R"(","Address":")" + address + R"(","Options":)" +
         options + "}";
}

std::vector<Row> rows() {
  const std::string rp = "/IpamDriver.RequestPool";
  const std::string ra = "/IpamDriver.RequestAddress";
  const std::string rel = "/IpamDriver.ReleaseAddress";
  const std::string relp = "/IpamDriver.ReleasePool";
  const std::string mac = R"({"com.docker.network.endpoint.macaddress":"02:42:c6:33:64:63"})";
  std::string deep_options;
  for (int i = 0; i < 40; ++i) deep_options += R"({"a":)";
  deep_options += "1" + std::string(40, '}');
  const std::string very_deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string long_pool(10000, '7');

  return {
      // The body itself
      {"truncated JSON", rp, R"({"AddressSpace":"LocalDefault","Pool":)", 400, "not valid JSON"},
      {"not JSON at all", rp, "AddressSpace=LocalDefault", 400, "not valid JSON"},
      {"trailing garbage after the object", rp, pool_request(R"("Pool":"203.0.113.0/24")") + "}",
       400, "not valid JSON"},
      {"a JSON array", rp, "[]", 400, "must be a JSON object, got an array"},
      {"a JSON string", rp, R"("LocalDefault")", 400, "must be a JSON object, got a string"},
      {"a JSON null", ra, "null", 400, "must be a JSON object, got null"},
      {"a duplicated key", ra,
       std::string(R"({"PoolID":")") + kPool +
           R"(","Address":"198.51.100.20","Address":"198.51.100.21"})",
       400, "repeats the key \"Address\""},
      {"nesting 40 levels deep", rp, pool_request(R"("Pool":"203.0.113.0/24","X":)" + deep_options),
       400, "nests deeper than 32"},
      {"nesting 100000 levels deep", ra, very_deep, 400, "nests deeper than 32"},
      {"invalid UTF-8", rp, "{\"AddressSpace\":\"Local\xff\xfe\",\"Pool\":\"203.0.113.0/24\"}", 400,
       "UTF-8"},
      {"a lone UTF-16 surrogate escape", rp,
       R"({"AddressSpace":"LocalDefault","Pool":"203.0.113.0/24\ud800"})", 400, "not valid JSON"},
      // RequestPool fields
      {"AddressSpace missing", rp, R"({"Pool":"203.0.113.0/24","V6":false})", 400,
       "missing field AddressSpace"},
      {"AddressSpace a number", rp, R"({"AddressSpace":5,"Pool":"203.0.113.0/24"})", 400,
       "field AddressSpace must be a string, got a number 5"},
      {"AddressSpace unknown", rp, R"({"AddressSpace":"testlocal","Pool":"203.0.113.0/24"})", 400,
       "invalid AddressSpace \"testlocal\""},
      {"Pool an array", rp, pool_request(R"("Pool":["203.0.113.0/24"])"), 400,
       "field Pool must be a string, got an array"},
      {"Pool without a prefix length", rp, pool_request(R"("Pool":"203.0.113.0")"), 400,
       "invalid Pool \"203.0.113.0\""},
      {"Pool not an address", rp, pool_request(R"("Pool":"banana/24")"), 400,
       "invalid Pool \"banana/24\""},
      {"Pool with host bits set", rp, pool_request(R"("Pool":"203.0.113.5/24")"), 400,
       "did you mean 203.0.113.0/24"},
      {"Pool /0", rp, pool_request(R"("Pool":"0.0.0.0/0")"), 400, "must be /8 to /32"},
      {"Pool /33", rp, pool_request(R"("Pool":"203.0.113.0/33")"), 400,
       "invalid Pool \"203.0.113.0/33\""},
      {"Pool /4294967320", rp, pool_request(R"("Pool":"203.0.113.0/4294967320")"), 400,
       "invalid Pool \"203.0.113.0/4294967320\""},
      {"Pool /-8", rp, pool_request(R"("Pool":"203.0.113.0/-8")"), 400,
       "invalid Pool \"203.0.113.0/-8\""},
      {"IPv6 Pool /129", rp,
       R"({"AddressSpace":"LocalDefault","Pool":"2001:db8:9::/129","V6":true})", 400,
       "invalid Pool \"2001:db8:9::/129\""},
      {"IPv6 Pool /0", rp, R"({"AddressSpace":"LocalDefault","Pool":"::/0","V6":true})", 400,
       "must be /16 to /128"},
      {"IPv6 Pool while V6 is false", rp, pool_request(R"("Pool":"2001:db8:9::/64")"), 400,
       "an IPv6 prefix in a request for an IPv4 pool"},
      {"IPv4 Pool while V6 is true", rp,
       R"({"AddressSpace":"LocalDefault","Pool":"203.0.113.0/24","V6":true})", 400,
       "an IPv4 prefix in a request for an IPv6 pool"},
      {"a 10000-character Pool", rp, pool_request(R"("Pool":")" + long_pool + "/24\""), 400,
       "invalid Pool \"7777777777"},
      {"V6 a string", rp, R"({"AddressSpace":"LocalDefault","Pool":"203.0.113.0/24","V6":"true"})",
       400, "field V6 must be true or false, got a string \"true\""},
      {"SubPool outside the Pool", rp,
       R"({"AddressSpace":"LocalDefault","Pool":"203.0.113.0/24","SubPool":"192.0.2.0/26"})", 400,
       "invalid SubPool \"192.0.2.0/26\""},
      {"SubPool with host bits set", rp,
       R"({"AddressSpace":"LocalDefault","Pool":"203.0.113.0/24","SubPool":"203.0.113.65/26"})",
       400, "did you mean 203.0.113.64/26"},
      {"SubPool without a Pool", rp,
       R"({"AddressSpace":"LocalDefault","Pool":"","SubPool":"198.18.0.0/26"})", 400,
       "needs an explicit Pool"},
      {"Options an array", rp,
       R"({"AddressSpace":"LocalDefault","Pool":"203.0.113.0/24","Options":["allocation"]})", 400,
       "field Options must be an object of strings, got an array"},
      {"Options value a number", rp,
       R"({"AddressSpace":"LocalDefault","Pool":"203.0.113.0/24","Options":{"allocation":1}})", 400,
       "field Options.allocation must be a string, got a number 1"},
      {"an unknown ipam option", rp,
       R"({"AddressSpace":"LocalDefault","Pool":"203.0.113.0/24","Options":{"foo":"bar"}})", 400,
       "unknown ipam option \"foo\""},
      {"an unknown allocation order", rp,
       R"({"AddressSpace":"LocalDefault","Pool":"203.0.113.0/24","Options":{"allocation":"random"}})",
       400, "\"random\""},
      {"a Pool overlapping one in use", rp, pool_request(R"("Pool":"198.51.100.128/25")"), 409,
       "overlaps pool 198.51.100.0/24"},
      // RequestAddress fields
      {"PoolID missing", ra, R"({"Address":"198.51.100.20","Options":null})", 400,
       "missing field PoolID"},
      {"PoolID empty", ra, R"({"PoolID":"","Address":"198.51.100.20"})", 400,
       "PoolID must not be empty"},
      {"PoolID a number", ra, R"({"PoolID":42,"Address":""})", 400,
       "field PoolID must be a string, got a number 42"},
      {"PoolID unknown", ra, R"({"PoolID":"LocalDefault/192.0.2.0/24","Address":""})", 404,
       "unknown PoolID \"LocalDefault/192.0.2.0/24\""},
      {"PoolID of another plugin", ra, R"({"PoolID":"testpool-198.51.100.0/24","Address":""})", 404,
       "unknown PoolID \"testpool-198.51.100.0/24\""},
      {"Address a number", ra, std::string(R"({"PoolID":")") + kPool + R"(","Address":3325256724})",
       400, "field Address must be a string, got a number 3325256724"},
      {"Address out of range", ra, address_request("198.51.100.300"), 400,
       "\"198.51.100.300\" is not a plain IPv4 or IPv6 address"},
      {"Address with a prefix length", ra, address_request("198.51.100.20/24"), 400,
       "\"198.51.100.20/24\" is not a plain"},
      {"Address with leading zeros", ra, address_request("198.051.100.020"), 400,
       "\"198.051.100.020\""},
      {"Address with a zone", ra, address_request("2001:db8::20%eth0"), 400,
       "\"2001:db8::20%eth0\""},
      {"IPv6 Address in an IPv4 pool", ra, address_request("2001:db8::20"), 400,
       "2001:db8::20 is IPv6 but pool 198.51.100.0/24"},
      {"Address outside the pool", ra, address_request("203.0.113.20"), 400,
       "203.0.113.20 is outside pool 198.51.100.0/24"},
      {"the network address", ra, address_request("198.51.100.0"), 400,
       "network address of 198.51.100.0/24"},
      {"the broadcast address", ra, address_request("198.51.100.255"), 400,
       "broadcast address of 198.51.100.0/24"},
      {"the gateway's address", ra, address_request("198.51.100.1", mac), 409,
       "198.51.100.1 is already in use"},
      {"an aux address", ra, address_request("198.51.100.2", mac), 409, "held as a static address"},
      {"a container's address", ra, address_request("198.51.100.10", mac), 409,
       "MAC 02:42:c6:33:64:0a"},
      {"a second gateway on the same address", ra,
       address_request("198.51.100.1", R"({"RequestAddressType":"com.docker.network.gateway"})"),
       409, "held as the gateway"},
      {"an unknown RequestAddressType", ra,
       address_request("198.51.100.20", R"({"RequestAddressType":"com.docker.network.router"})"),
       400, "\"com.docker.network.router\" is unknown"},
      {"Options a string", ra, address_request("198.51.100.20", R"("gateway")"), 400,
       "field Options must be an object of strings, got a string"},
      {"a MAC option that is not a string", ra,
       address_request("198.51.100.20", R"({"com.docker.network.endpoint.macaddress":true})"), 400,
       "field Options.com.docker.network.endpoint.macaddress must be a string"},
      {"IPv4 Address in an IPv6 pool", ra,
       std::string(R"({"PoolID":")") + kPool6 + R"(","Address":"198.51.100.20"})", 400,
       "198.51.100.20 is IPv4 but pool 2001:db8:7::/64 is IPv6"},
      {"the subnet-router anycast address", ra,
       std::string(R"({"PoolID":")") + kPool6 + R"(","Address":"2001:db8:7::"})", 400,
       "subnet-router anycast address of 2001:db8:7::/64"},
      {"an address held through the other network on the subnet", ra,
       std::string(R"({"PoolID":")") + kPoolB + R"(","Address":"198.51.100.10"})", 409,
       "through pool " + std::string(kPool)},
      // Release
      {"ReleaseAddress through the other network on the subnet", rel,
       std::string(R"({"PoolID":")") + kPoolB + R"(","Address":"198.51.100.10"})", 409,
       "held through pool " + std::string(kPool)},
      {"ReleaseAddress without Address", rel, std::string(R"({"PoolID":")") + kPool + "\"}", 400,
       "missing field Address"},
      {"ReleaseAddress of garbage", rel,
       std::string(R"({"PoolID":")") + kPool + R"(","Address":"not-an-ip"})", 400,
       "\"not-an-ip\" is not a plain"},
      {"ReleaseAddress outside the pool", rel,
       std::string(R"({"PoolID":")") + kPool + R"(","Address":"192.0.2.1"})", 400,
       "192.0.2.1 is outside pool 198.51.100.0/24"},
      {"ReleaseAddress with an empty PoolID", rel, R"({"PoolID":"","Address":"198.51.100.1"})", 400,
       "PoolID must not be empty"},
      {"ReleasePool with a numeric PoolID", relp, R"({"PoolID":7})", 400,
       "field PoolID must be a string, got a number 7"},
      {"ReleasePool without PoolID", relp, "{}", 400, "missing field PoolID"},
      {"ReleasePool with an empty PoolID", relp, R"({"PoolID":""})", 400,
       "PoolID must not be empty"},
      // Paths
      {"an unknown IpamDriver method", "/IpamDriver.RequestPools",
       pool_request(R"("Pool":"203.0.113.0/24")"), 404, "/IpamDriver.RequestPools"},
  };
}

void expect_refused(Daemon& d, const Row& row, const std::string& before) {
  INFO("row: " << row.name << "\nrequest: " << row.path << " " << row.body.substr(0, 200));
  const Answer a = d.post(row.path, row.body);
  INFO("answer: " << a.status << " " << a.body.substr(0, 400));
  CHECK(a.status == row.status);
  json body;
  REQUIRE_NOTHROW(body = json::parse(a.body));
  REQUIRE(body.is_object());
  REQUIRE(body["Err"].is_string());
  CHECK_THAT(body["Err"].get<std::string>(), Catch::Contains(row.mentions));
  if (row.path.rfind("/IpamDriver.", 0) == 0) CHECK(body["Error"] == body["Err"]);
  // A message quoting hostile input stays short enough to read.
  CHECK(a.body.size() < 2000);
  CHECK(dump_state(d.state_dir()) == before);
}

// A pool with a gateway, two aux addresses, a container and a dynamic grant, as after
// `docker network create ... n2` and two `docker run`s; a second network on its subnet; IPv6.
void set_up_state(Daemon& d) {
  auto ok = [&](const std::string& path, const std::string& body) {
    const Answer a = d.post(path, body);
    INFO(path << " " << body << " -> " << a.body);
    REQUIRE(a.status == 200);
  };
  ok("/IpamDriver.RequestPool",
     R"({"AddressSpace":"LocalDefault","Pool":"198.51.100.0/24","SubPool":"198.51.100.64/26","Options":{},"V6":false})");
  ok("/IpamDriver.RequestAddress",
     address_request("198.51.100.1", R"({"RequestAddressType":"com.docker.network.gateway"})"));
  ok("/IpamDriver.RequestAddress", address_request("198.51.100.2"));
  ok("/IpamDriver.RequestAddress", address_request("198.51.100.70"));
  ok("/IpamDriver.RequestAddress",
     address_request("198.51.100.10",
                     R"({"com.docker.network.endpoint.macaddress":"02:42:c6:33:64:0a"})"));
  ok("/IpamDriver.RequestAddress",
     address_request("", R"({"com.docker.network.endpoint.macaddress":"02:42:c6:33:64:40"})"));
  // A second network on the same subnet with its own ip-range, and an IPv6 pool.
  ok("/IpamDriver.RequestPool",
     R"({"AddressSpace":"LocalDefault","Pool":"198.51.100.0/24","SubPool":"198.51.100.128/26","Options":{},"V6":false})");
  ok("/IpamDriver.RequestPool",
     R"({"AddressSpace":"LocalDefault","Pool":"2001:db8:7::/64","SubPool":"","Options":{},"V6":true})");
}

}  // namespace

TEST_CASE(
    "Every malformed request is refused with a message naming what is wrong and changes "
    "nothing",
    "[protocol]") {
  Daemon d;
  d.start();
  set_up_state(d);
  const std::string before = dump_state(d.state_dir());
  REQUIRE_THAT(before, Catch::Contains("LocalDefault/198.51.100.0/24/198.51.100.64/26"));

  const auto table = rows();
  REQUIRE(table.size() >= 30);
  for (const auto& row : table) expect_refused(d, row, before);

  // And the daemon still serves normally afterwards: the next dynamic address follows .64.
  const Answer next = d.post("/IpamDriver.RequestAddress", address_request(""));
  REQUIRE(next.status == 200);
  CHECK(json::parse(next.body)["Address"] == "198.51.100.65/24");
}

TEST_CASE("A request body over 1 MiB is refused with 413 and a JSON message, changing nothing",
          "[protocol]") {
  Daemon d;
  d.start();
  set_up_state(d);
  const std::string before = dump_state(d.state_dir());

  // Valid JSON padded past the limit, so only the size can be the reason.
  std::string body = address_request("198.51.100.20");
  body.insert(1, R"("Pad":")" + std::string((1 << 20) + 1, 'x') + "\",");
  for (int attempt = 0; attempt < 2; ++attempt) {  // the connection stays usable afterwards
    RawConnection c(d.socket());
    REQUIRE(c.connected());
    c.send(docker_request("/IpamDriver.RequestAddress", body));  // may be cut short: fine
    const auto answer = c.read_answer(std::chrono::seconds(15));
    REQUIRE(answer);
    INFO(answer->headers << answer->body);
    CHECK(answer->status == 413);
    const json err = json::parse(answer->body);
    CHECK_THAT(err["Error"].get<std::string>(), Catch::Contains("1048576 bytes"));
  }
  // A body just under the limit is read and judged on its content.
  std::string just_under = address_request("198.51.100.20");
  just_under.insert(1, R"("Pad":")" + std::string((1 << 20) - 200, ' ') + "\",");
  const Answer a = d.post("/IpamDriver.RequestAddress", just_under);
  CHECK(a.status == 200);
  CHECK(json::parse(a.body)["Address"] == "198.51.100.20/24");
  // Only that last request changed anything.
  CHECK(dump_state(d.state_dir()) != before);
}

TEST_CASE("A Content-Length that promises more than is sent does not answer or change anything",
          "[protocol]") {
  Daemon d;
  d.start();
  set_up_state(d);
  const std::string before = dump_state(d.state_dir());
  {
    RawConnection c(d.socket());
    REQUIRE(c.connected());
    std::string request = docker_request("/IpamDriver.RequestAddress", address_request(""));
    request.resize(request.size() - 5);  // the body's end never arrives; the client hangs up
    REQUIRE(c.send(request));
    CHECK_FALSE(c.read_answer(std::chrono::milliseconds(300)));
  }
  CHECK(dump_state(d.state_dir()) == before);
  const Answer a = d.post("/Plugin.Activate", std::string());
  CHECK(a.status == 200);
}

}  // namespace mvlan::test
