// What a running `mvlan serve` exposes: its Unix socket and nothing else (no TCP or UDP socket in
// any state), and a client that stalls in the middle of a request is cut off by the read limit.

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "tests/plugin/wire.h"
#include "tests/support/daemon.h"

namespace mvlan::test {
namespace {

// The inodes of the sockets process `pid` holds open.
std::set<std::string> socket_inodes(pid_t pid) {
  std::set<std::string> out;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (!ec && target.rfind("socket:[", 0) == 0) out.insert(target.substr(8, target.size() - 9));
  }
  return out;
}

// The inode column of a /proc/net table (tcp, tcp6, udp, udp6, raw, raw6: column 10; unix:
// column 7) as seen from `pid`'s network namespace.
std::set<std::string> table_inodes(pid_t pid, const std::string& table) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/net/" + table);
  std::set<std::string> out;
  std::string line;
  std::getline(f, line);  // header
  const size_t column = table == "unix" ? 6 : 9;
  while (std::getline(f, line)) {
    std::istringstream fields(line);
    std::string field;
    for (size_t i = 0; i <= column && fields >> field; ++i) {
    }
    out.insert(field);
  }
  return out;
}

int connect_unix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

TEST_CASE("A serving mvlan holds its Unix socket and no TCP, UDP or raw IP socket", "[fault]") {
  Daemon d;
  d.start();
  // A network's worth of requests first, so every code path that could open one has run.
  REQUIRE(d.post("/IpamDriver.RequestPool",
                 json{{"AddressSpace", "LocalDefault"}, {"Pool", "192.0.2.0/24"}, {"SubPool", ""},
                      {"Options", json::object()}, {"V6", false}})
              .status == 200);
  const pid_t pid = server_pid(d.socket());
  REQUIRE(pid > 0);
  const auto mine = socket_inodes(pid);
  REQUIRE_FALSE(mine.empty());
  for (const char* table : {"tcp", "tcp6", "udp", "udp6", "raw", "raw6", "udplite", "udplite6"}) {
    for (const auto& inode : table_inodes(pid, table)) {
      INFO(table << " socket inode " << inode);
      CHECK(mine.count(inode) == 0);
    }
  }
  // ... and the listening socket is the Unix one at --socket.
  bool listening_unix = false;
  std::ifstream unix_table("/proc/" + std::to_string(pid) + "/net/unix");
  std::string line;
  while (std::getline(unix_table, line)) {
    std::istringstream fields(line);
    std::string num, refs, protocol, flags, type, state, inode, path;
    fields >> num >> refs >> protocol >> flags >> type >> state >> inode >> path;
    if (path == d.socket() && mine.count(inode) && flags == "00010000") listening_unix = true;
  }
  CHECK(listening_unix);
}

TEST_CASE("A client that stalls half-way through a request is disconnected by the read limit "
          "while others are served",
          "[fault]") {
  Daemon d;
  d.start();
  const int fd = connect_unix(d.socket());
  REQUIRE(fd >= 0);
  const std::string head = "POST /IpamDriver.GetCapabilities HTTP/1.1\r\nHost: \r\nContent-Le";
  REQUIRE(::send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size()));
  const auto start = std::chrono::steady_clock::now();
  // The server closes (read returns 0, or the peer resets) within the 10 s read limit plus slack.
  bool closed = false;
  while (!closed && std::chrono::steady_clock::now() - start < std::chrono::seconds(20)) {
    CHECK(d.post("/Plugin.Activate", std::string()).status == 200);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) > 0) {
      char buf[256];
      closed = ::recv(fd, buf, sizeof buf, 0) <= 0;
    }
  }
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
  ::close(fd);
  INFO("closed after " << seconds << " s");
  CHECK(closed);
  CHECK(seconds >= 5);  // not at once: the limit, not an error, ended it
}

}  // namespace mvlan::test
