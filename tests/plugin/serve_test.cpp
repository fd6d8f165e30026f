// The life of `mvlan serve` as an operator sees it: the socket, signals, a second instance,
// `mvlan status` beside it, the command line and log levels, and clients that misbehave.

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "plugin/unix_server.h"
#include "tests/plugin/wire.h"
#include "tests/support/daemon.h"

namespace mvlan::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

long long millis_since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

Answer post_text(Daemon& d, const std::string& path, const std::string& body) {
  return d.post(path, body);
}

// One request on a fresh connection; the answer's status (0 when none came in `timeout`).
int request_status(const std::string& socket, const std::string& path, const std::string& body,
                   milliseconds timeout = milliseconds(5000)) {
  RawConnection c(socket);
  if (!c.connected() || !c.send(docker_request(path, body))) return 0;
  const auto a = c.read_answer(timeout);
  return a ? a->status : 0;
}

// n2 of the wire capture: gateway .1, aux .2 and .70, a container at .10 and a dynamic one.
void create_network(Daemon& d) {
  const std::string pool = "LocalDefault/198.51.100.0/24/198.51.100.64/26";
  auto ok = [&](const std::string& path, const json& body) {
    const Answer a = d.post(path, body);
    INFO(path << " " << body.dump() << " -> " << a.body);
    REQUIRE(a.status == 200);
  };
  ok("/IpamDriver.RequestPool", json{{"AddressSpace", "LocalDefault"},
                                     {"Pool", "198.51.100.0/24"},
                                     {"SubPool", "198.51.100.64/26"},
                                     {"Options", json::object()},
                                     {"V6", false}});
  ok("/IpamDriver.RequestAddress",
     json{{"PoolID", pool},
          {"Address", "198.51.100.1"},
          {"Options", {{"RequestAddressType", "com.docker.network.gateway"}}}});
  ok("/IpamDriver.RequestAddress", json{{"PoolID", pool}, {"Address", "198.51.100.2"}});
  ok("/IpamDriver.RequestAddress", json{{"PoolID", pool}, {"Address", "198.51.100.70"}});
  ok("/IpamDriver.RequestAddress",
     json{{"PoolID", pool},
          {"Address", "198.51.100.10"},
          {"Options", {{"com.docker.network.endpoint.macaddress", "02:42:14:c9:05:cc"}}}});
  ok("/IpamDriver.RequestAddress",
     json{{"PoolID", pool},
          {"Address", ""},
          {"Options", {{"com.docker.network.endpoint.macaddress", "02:42:b6:de:6a:26"}}}});
}

bool has_debug_line(const std::string& log) {
  return log.find(" debug ") != std::string::npos;
}

}  // namespace

TEST_CASE("The socket is created with mode 0600 so only root can talk to the plugin", "[serve]") {
  Daemon d;
  d.start();
  struct stat st {};
  REQUIRE(::stat(d.socket().c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("SIGTERM makes serve exit 0 and remove its socket", "[serve]") {
  Daemon d;
  d.start();
  REQUIRE(post_text(d, "/Plugin.Activate", "").status == 200);  // leaves a keep-alive connection
  const auto start = Clock::now();
  d.signal(SIGTERM);
  CHECK(d.wait() == 0);
  // An idle keep-alive connection delays the exit by at most the keep-alive timeout (5 s).
  CHECK(millis_since(start) < 7000);
  CHECK_FALSE(std::filesystem::exists(d.socket()));
  CHECK_THAT(d.log(), Catch::Contains("stopping on SIGTERM"));
}

TEST_CASE("A request in flight when SIGTERM arrives still gets its answer and is kept", "[serve]") {
  Daemon d;
  d.start();
  RawConnection c(d.socket());
  REQUIRE(c.connected());
  const std::string request = docker_request(
      "/IpamDriver.RequestPool",
      R"({"AddressSpace":"LocalDefault","Pool":"203.0.113.0/24","SubPool":"","Options":{},"V6":false})");
  const size_t half = request.size() - 20;
  REQUIRE(c.send(request.substr(0, half)));  // Docker's request is on its way...
  std::this_thread::sleep_for(milliseconds(100));
  d.signal(SIGTERM);  // ...when the operator stops the plugin
  std::this_thread::sleep_for(milliseconds(200));
  REQUIRE(c.send(request.substr(half)));
  const auto answer = c.read_answer(milliseconds(8000));
  REQUIRE(answer);
  INFO(answer->body);
  CHECK(answer->status == 200);
  CHECK(json::parse(answer->body)["PoolID"] == "LocalDefault/203.0.113.0/24");
  CHECK(d.wait() == 0);
  CHECK_THAT(dump_state(d.state_dir()), Catch::Contains("LocalDefault/203.0.113.0/24"));
}

TEST_CASE("A stale socket file left by a dead server is replaced at start", "[serve]") {
  Daemon d;
  {
    // A socket file nobody listens on, as after a crash.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    d.socket().copy(addr.sun_path, sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::close(fd);
  }
  REQUIRE(std::filesystem::is_socket(d.socket()));
  REQUIRE_FALSE(plugin::socket_answers(d.socket()));
  d.start();
  CHECK(post_text(d, "/Plugin.Activate", "").status == 200);
}

TEST_CASE("A second serve on a socket where a server answers refuses and the first keeps serving",
          "[serve]") {
  Daemon d;
  d.start();
  TempDir other;
  const CliResult second =
      run_mvlan({"serve", "--socket", d.socket(), "--state-dir", other.path() + "/state"}, {},
                milliseconds(15000));
  INFO(second.output);
  CHECK(second.exit_code != 0);
  CHECK(second.exit_code != -1);  // it refused; it did not hang
  CHECK_THAT(second.output, Catch::Contains("another server already answers on " + d.socket()));
  CHECK(std::filesystem::is_socket(d.socket()));
  CHECK(post_text(d, "/Plugin.Activate", "").status == 200);
}

TEST_CASE("A second serve on the same state directory refuses naming the first one's pid",
          "[serve]") {
  Daemon d;
  d.start();
  const pid_t first = server_pid(d.socket());
  REQUIRE(first > 0);
  TempDir other;
  const std::string other_socket = other.path() + "/other.sock";
  const CliResult second = run_mvlan(
      {"serve", "--socket", other_socket, "--state-dir", d.state_dir()}, {}, milliseconds(15000));
  INFO(second.output);
  CHECK(second.exit_code != 0);
  CHECK(second.exit_code != -1);
  CHECK_THAT(second.output,
             Catch::Contains("pid " + std::to_string(first)) && Catch::Contains(d.state_dir()));
  CHECK_FALSE(std::filesystem::exists(other_socket));
  CHECK(post_text(d, "/Plugin.Activate", "").status == 200);
}

TEST_CASE("mvlan status shows pools, gateway, reserved and container addresses while serve runs",
          "[serve]") {
  Daemon d;
  d.start();
  create_network(d);

  int code = -1;
  const std::string text = d.run_cli({"status", "--state-dir", d.state_dir()}, &code);
  INFO(text);
  CHECK(code == 0);
  CHECK_THAT(text, Catch::Contains("LocalDefault/198.51.100.0/24/198.51.100.64/26") &&
                       Catch::Contains("ip-range 198.51.100.64/26") &&
                       Catch::Contains("allocation round-robin") &&
                       Catch::Contains("last dynamic 198.51.100.64"));
  CHECK_THAT(text, Catch::Matches(R"((.|\n)*198\.51\.100\.1 +gateway(.|\n)*)"));
  CHECK_THAT(text, Catch::Matches(R"((.|\n)*198\.51\.100\.2 +reserved(.|\n)*)"));
  CHECK_THAT(text, Catch::Matches(R"((.|\n)*198\.51\.100\.70 +reserved(.|\n)*)"));
  CHECK_THAT(text,
             Catch::Matches(R"((.|\n)*198\.51\.100\.10 +container +02:42:14:c9:05:cc(.|\n)*)"));
  CHECK_THAT(text,
             Catch::Matches(R"((.|\n)*198\.51\.100\.64 +container +02:42:b6:de:6a:26(.|\n)*)"));

  const std::string out = d.run_cli({"status", "--state-dir", d.state_dir(), "--json"}, &code);
  INFO(out);
  CHECK(code == 0);
  json doc;
  REQUIRE_NOTHROW(doc = json::parse(out));
  REQUIRE(doc["Pools"].size() == 1);
  const json& pool = doc["Pools"][0];
  CHECK(pool["PoolID"] == "LocalDefault/198.51.100.0/24/198.51.100.64/26");
  CHECK(pool["Subnet"] == "198.51.100.0/24");
  CHECK(pool["IPRange"] == "198.51.100.64/26");
  CHECK(pool["LastDynamic"] == "198.51.100.64");
  const json expected = json::parse(R"([
    {"Address":"198.51.100.1","Kind":"gateway","Grant":"gateway"},
    {"Address":"198.51.100.2","Kind":"reserved","Grant":"static"},
    {"Address":"198.51.100.10","Kind":"container","Grant":"static","MacAddress":"02:42:14:c9:05:cc"},
    {"Address":"198.51.100.64","Kind":"container","Grant":"dynamic","MacAddress":"02:42:b6:de:6a:26"},
    {"Address":"198.51.100.70","Kind":"reserved","Grant":"static"}])");
  CHECK(pool["Allocations"] == expected);
  // Reading the state never disturbs the server.
  CHECK(post_text(d, "/Plugin.Activate", "").status == 200);
}

TEST_CASE("mvlan status on a directory serve never used says where it looked", "[serve]") {
  TempDir dir;
  const CliResult r = run_mvlan({"status", "--state-dir", dir.path() + "/nothing"});
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("no state database at " + dir.path() + "/nothing/mvlan.db"));
}

TEST_CASE(
    "mvlan --version prints the version and mvlan --help lists the commands and their settings",
    "[serve]") {
  const CliResult version = run_mvlan({"--version"});
  CHECK(version.exit_code == 0);
  CHECK_THAT(version.output, Catch::Matches(R"(mvlan [0-9]+\.[0-9]+\.[0-9]+\s*)"));

  const CliResult help = run_mvlan({"--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.output, Catch::Contains("usage: mvlan") && Catch::Contains("serve") &&
                              Catch::Contains("status") && Catch::Contains("--log-level") &&
                              Catch::Contains("MVLAN_LOG_LEVEL") && Catch::Contains("--json"));

  const CliResult bare = run_mvlan({});
  CHECK(bare.exit_code == 2);
  CHECK_THAT(bare.output, Catch::Contains("usage: mvlan"));

  const CliResult unknown = run_mvlan({"srve"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.output, Catch::Contains("unknown command \"srve\""));
}

TEST_CASE("serve refuses a relative --socket and an unknown flag, naming them", "[serve]") {
  const CliResult relative = run_mvlan({"serve", "--socket", "mvlan.sock"});
  CHECK(relative.exit_code == 2);
  CHECK_THAT(relative.output, Catch::Contains("\"mvlan.sock\" must be an absolute path"));
  const CliResult flag = run_mvlan({"serve", "--sockt", "/tmp/x.sock"});
  CHECK(flag.exit_code == 2);
  CHECK_THAT(flag.output, Catch::Contains("unknown argument \"--sockt\""));
  // A pasted argument with a newline or an escape sequence stays one readable line.
  const CliResult pasted = run_mvlan({"status", "--json\n\x1b[2J"});
  CHECK(pasted.exit_code == 2);
  CHECK_THAT(pasted.output, Catch::Contains("unknown argument \"--json\\n\\u001B[2J\" for status"));
  const CliResult command = run_mvlan({"stat\tus"});
  CHECK(command.exit_code == 2);
  CHECK_THAT(command.output, Catch::Contains("unknown command \"stat\\tus\""));
}

TEST_CASE("The serve flag --log-level wins over MVLAN_LOG_LEVEL, which wins over the default",
          "[serve]") {
  struct Row {
    std::vector<std::string> env;
    std::vector<std::string> flags;
    bool debug_lines;
    bool info_lines;
  };
  const std::vector<Row> rows = {
      {{}, {}, false, true},                                              // default: info
      {{"MVLAN_LOG_LEVEL=debug"}, {}, true, true},                        // environment
      {{"MVLAN_LOG_LEVEL=debug"}, {"--log-level", "info"}, false, true},  // flag wins
      {{"MVLAN_LOG_LEVEL=info"}, {"--log-level=debug"}, true, true},
      {{"MVLAN_LOG_LEVEL=error"}, {}, false, false},
      {{"MVLAN_LOG_LEVEL=loud"}, {"--log-level", "debug"}, true, true},  // a bad env is overridden
  };
  for (const auto& row : rows) {
    TempDir dir;
    const std::string socket = dir.path() + "/s.sock";
    std::vector<std::string> args{"--socket", socket, "--state-dir", dir.path() + "/state"};
    args.insert(args.end(), row.flags.begin(), row.flags.end());
    ServeProcess serve(args, row.env);
    INFO((row.env.empty() ? "(no env)" : row.env[0])
         << " " << (row.flags.empty() ? "(no flag)" : row.flags.back()));
    REQUIRE(serve.wait_listening(socket));
    CHECK(request_status(socket, "/Plugin.Activate", "") == 200);
    serve.signal(SIGTERM);
    CHECK(serve.wait() == 0);
    const std::string log = serve.output();
    INFO(log);
    CHECK(has_debug_line(log) == row.debug_lines);
    CHECK((log.find("Plugin.Activate ok") != std::string::npos) == row.debug_lines);
    CHECK((log.find("listening on " + socket) != std::string::npos) == row.info_lines);
  }
}

TEST_CASE("A bad log level is refused naming the value and where it came from", "[serve]") {
  TempDir dir;
  const std::vector<std::string> base{"serve", "--socket", dir.path() + "/s.sock", "--state-dir",
                                      dir.path() + "/state"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  const CliResult flag = run_mvlan(with({"--log-level", "verbose"}));
  INFO(flag.output);
  CHECK(flag.exit_code == 2);
  CHECK_THAT(flag.output, Catch::Contains("--log-level \"verbose\" is not a log level") &&
                              Catch::Contains("debug, info, warn or error"));
  const CliResult env = run_mvlan(base, {"MVLAN_LOG_LEVEL=loud"});
  INFO(env.output);
  CHECK(env.exit_code == 2);
  CHECK_THAT(env.output, Catch::Contains("MVLAN_LOG_LEVEL \"loud\" is not a log level"));
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/s.sock"));
}

TEST_CASE("A bad MVLAN_JOIN_GRACE is refused naming the value and the valid range", "[serve]") {
  TempDir dir;
  const std::vector<std::string> args{"serve", "--socket", dir.path() + "/s.sock", "--state-dir",
                                      dir.path() + "/state"};
  for (const char* value : {"-1", "3601", "1m", "99999", " 5"}) {  // "" means the default
    const CliResult r = run_mvlan(args, {std::string("MVLAN_JOIN_GRACE=") + value});
    INFO(value << ": " << r.output);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Catch::Contains("MVLAN_JOIN_GRACE \"" + std::string(value) + "\"") &&
                             Catch::Contains("from 0 to 3600 (default 60)"));
  }
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/state"));
}

TEST_CASE("100 idle keep-alive connections opened first do not delay a new client", "[serve]") {
  Daemon d;
  d.start();
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 100; ++i) {
    auto c = std::make_unique<RawConnection>(d.socket());
    REQUIRE(c->connected());
    if (i % 2 == 0) {
      // Half have made a call and now sit in keep-alive, as Docker's connections do.
      REQUIRE(c->send(docker_request("/Plugin.Activate", "")));
      REQUIRE(c->read_answer(milliseconds(5000)));
    }  // the other half connected and said nothing yet
    idle.push_back(std::move(c));
  }
  for (int i = 0; i < 5; ++i) {
    const auto start = Clock::now();
    CHECK(request_status(d.socket(), "/IpamDriver.GetCapabilities", "") == 200);
    CHECK(millis_since(start) < 1000);
  }
  // The idle connections themselves still work.
  REQUIRE(idle[0]->send(docker_request("/IpamDriver.GetDefaultAddressSpaces", "")));
  const auto again = idle[0]->read_answer(milliseconds(2000));
  REQUIRE(again);
  CHECK(again->status == 200);
}

TEST_CASE("A burst of new connections arriving while workers sit idle is served at once",
          "[serve]") {
  Daemon d;
  d.start();
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    {
      // Sixteen clients call and hang up (as `docker` commands do): their workers go idle.
      std::vector<std::unique_ptr<RawConnection>> done;
      for (int i = 0; i < 16; ++i) {
        done.push_back(std::make_unique<RawConnection>(d.socket()));
        REQUIRE(done.back()->send(docker_request("/Plugin.Activate", "")));
      }
      for (auto& c : done) REQUIRE(c->read_answer(milliseconds(5000)));
    }
    std::this_thread::sleep_for(milliseconds(100));
    // Then Docker opens many connections at once (one per goroutine); most say nothing yet.
    std::vector<std::unique_ptr<RawConnection>> quiet;
    for (int i = 0; i < 30; ++i) quiet.push_back(std::make_unique<RawConnection>(d.socket()));
    RawConnection caller(d.socket());
    REQUIRE(caller.connected());
    const auto start = Clock::now();
    REQUIRE(caller.send(docker_request("/Plugin.Activate", "")));
    const auto answer = caller.read_answer(milliseconds(3000));
    CHECK(answer);
    CHECK(millis_since(start) < 1000);
  }
}

TEST_CASE("A client sending one byte per second does not hold up anyone else", "[serve]") {
  Daemon d;
  d.start();
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread slow([&] {
    RawConnection c(d.socket());
    const std::string request = docker_request(
        "/IpamDriver.RequestPool",
        R"({"AddressSpace":"LocalDefault","Pool":"203.0.113.0/24","SubPool":"","Options":{},"V6":false})");
    for (char byte : request) {
      if (stop || !c.send(std::string(1, byte))) return;
      ++sent;
      for (int i = 0; i < 10 && !stop; ++i) std::this_thread::sleep_for(milliseconds(100));
    }
  });
  std::vector<long long> latencies;
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(milliseconds(400));
    const auto start = Clock::now();
    CHECK(post_text(d, "/Plugin.Activate", "").status == 200);
    latencies.push_back(millis_since(start));
  }
  stop = true;
  slow.join();
  CHECK(sent >= 2);
  for (long long ms : latencies) CHECK(ms < 500);
}

}  // namespace mvlan::test
