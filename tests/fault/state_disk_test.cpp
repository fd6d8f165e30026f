// Fault 3: the disk under the state directory fills up, or its file system turns read-only, while
// `mvlan serve` runs. Every request that would change state is refused with a message naming the
// cause and the directory, reads keep working, nothing is corrupted, and once space returns the
// same daemon serves again. Each case runs in private mount and network namespaces (so no mount
// ever reaches the host) on a small file system of its own.

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "tests/fault/isolation.h"
#include "tests/plugin/wire.h"
#include "tests/support/daemon.h"
#include "tests/support/expect.h"

namespace mvlan::test {
namespace {

const std::string kNet = "d15cf011d15cf011d15cf011d15cf011d15cf011d15cf011d15cf011d15cf011";
const std::string kNet2 = "d15cf022d15cf022d15cf022d15cf022d15cf022d15cf022d15cf022d15cf022";
const std::string kNet3 = "d15cf033d15cf033d15cf033d15cf033d15cf033d15cf033d15cf033d15cf033";
const std::string kEp = "e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e1";
const std::string kEp2 = "e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e2";
const std::string kPool = "LocalDefault/198.51.100.0/24";

// Writes zeros to `path` until the file system says it is full.
void fill_up(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  check_sys(fd < 0 ? -1 : 0, "open filler");
  const std::vector<char> block(64 * 1024, 0);
  for (size_t chunk = block.size(); chunk > 0;) {
    const ssize_t n = ::write(fd, block.data(), chunk);
    if (n < 0 && errno == ENOSPC) {
      chunk /= 2;  // top up the last partial blocks too
    } else if (n < 0) {
      ::close(fd);
      throw std::system_error(errno, std::generic_category(), "filling the disk");
    }
  }
  ::close(fd);
}

std::string integrity(const std::string& state_dir) {
  SQLite::Database db(state_dir + "/mvlan.db", SQLite::OPEN_READONLY);
  return db.execAndGet("PRAGMA integrity_check").getString();
}

json create_network_body(const std::string& id) {
  return {{"NetworkID", id},
          {"Options", {{"com.docker.network.generic", {{"parent", "sd0"}}}}},
          {"IPv4Data", json::array({{{"AddressSpace", "LocalDefault"},
                                     {"Gateway", "198.51.100.1/24"},
                                     {"Pool", "198.51.100.0/24"}}})},
          {"IPv6Data", json::array()}};
}

json endpoint_body(const std::string& ep, const std::string& address) {
  return {{"NetworkID", kNet},
          {"EndpointID", ep},
          {"Interface", {{"Address", address}, {"AddressIPv6", ""}, {"MacAddress", ""}}},
          {"Options", json::object()}};
}

// The state a user can see: a pool with gateway and one container grant, two networks, one
// endpoint. Returns the container's address.
std::string populate(Daemon& d) {
  ok(d, "/IpamDriver.RequestPool", {{"AddressSpace", "LocalDefault"}, {"Pool", "198.51.100.0/24"},
                                    {"SubPool", ""}, {"Options", json::object()}, {"V6", false}});
  ok(d, "/IpamDriver.RequestAddress",
     {{"PoolID", kPool}, {"Address", "198.51.100.1"},
      {"Options", {{"RequestAddressType", "com.docker.network.gateway"}}}});
  ok(d, "/NetworkDriver.CreateNetwork", create_network_body(kNet));
  ok(d, "/NetworkDriver.CreateNetwork", create_network_body(kNet2));
  const std::string cidr =
      ok(d, "/IpamDriver.RequestAddress", {{"PoolID", kPool}, {"Address", ""}})["Address"];
  ok(d, "/NetworkDriver.CreateEndpoint", endpoint_body(kEp, cidr));
  return cidr.substr(0, cidr.find('/'));
}

struct Change {
  std::string path;
  json body;
};

// One request of each kind that writes to the database.
std::vector<Change> state_changes(const std::string& held) {
  return {
      {"/IpamDriver.RequestPool", {{"AddressSpace", "LocalDefault"}, {"Pool", "203.0.113.0/24"},
                                   {"SubPool", ""}, {"Options", json::object()}, {"V6", false}}},
      {"/IpamDriver.RequestAddress", {{"PoolID", kPool}, {"Address", ""}}},
      {"/IpamDriver.RequestAddress", {{"PoolID", kPool}, {"Address", "198.51.100.77"}}},
      {"/IpamDriver.ReleaseAddress", {{"PoolID", kPool}, {"Address", held}}},
      {"/IpamDriver.ReleasePool", {{"PoolID", kPool}}},
      {"/NetworkDriver.CreateNetwork", create_network_body(kNet3)},
      {"/NetworkDriver.CreateEndpoint", endpoint_body(kEp2, "198.51.100.99/24")},
      {"/NetworkDriver.DeleteEndpoint", {{"NetworkID", kNet}, {"EndpointID", kEp}}},
      {"/NetworkDriver.DeleteNetwork", {{"NetworkID", kNet2}}},
  };
}

std::string status_json(const Daemon& d) {
  int code = -1;
  const std::string out = d.run_cli({"status", "--state-dir", d.state_dir(), "--json"}, &code);
  INFO(out);
  CHECK(code == 0);
  return out;
}

// Every change is refused with `cause` and the directory in its message, and changes nothing;
// reads (status, Join and Leave of the existing endpoint) still work.
void every_change_refused(Daemon& d, const std::string& held, const std::string& cause) {
  const std::string tables = dump_state(d.state_dir());
  const std::string status = status_json(d);
  for (const auto& change : state_changes(held)) {
    const Answer a = d.post(change.path, change.body);
    INFO(change.path << " " << change.body.dump() << " -> " << a.status << " " << a.body);
    CHECK(a.status == 503);
    const std::string message = a.status == 200 ? "" : a.parsed()["Err"].get<std::string>();
    CHECK_THAT(message, Catch::Contains(cause) && Catch::Contains(d.state_dir()));
    CHECK(dump_state(d.state_dir()) == tables);
  }
  CHECK(status_json(d) == status);
  const json joined = ok(d, "/NetworkDriver.Join", {{"NetworkID", kNet}, {"EndpointID", kEp},
                                                    {"SandboxKey", "/x"}, {"Options", json::object()}});
  CHECK(joined["InterfaceName"]["SrcName"] == "mv" + kEp.substr(0, 12));
  ok(d, "/NetworkDriver.Leave", {{"NetworkID", kNet}, {"EndpointID", kEp}});
}

}  // namespace

TEST_CASE(
    "When the state directory's disk is full every change is refused saying so, reads work, and "
    "the same daemon serves again once space returns",
    "[fault]") {
  Isolation isolation("sd0");
  Daemon d;
  Tmpfs disk(d.state_dir(), "size=4m,mode=0700");
  d.start();
  const std::string held = populate(d);
  const pid_t pid = server_pid(d.socket());

  const std::string filler = d.state_dir() + "/filler";
  fill_up(filler);
  every_change_refused(d, held, "is full");
  CHECK(integrity(d.state_dir()) == "ok");

  std::filesystem::remove(filler);
  // No restart: the next changes simply work, and what was held before is still held.
  const std::string fresh =
      ok(d, "/IpamDriver.RequestAddress", {{"PoolID", kPool}, {"Address", ""}})["Address"];
  CHECK(fresh != held + "/24");
  ok(d, "/NetworkDriver.CreateEndpoint", endpoint_body(kEp2, fresh));
  const Answer again = d.post("/IpamDriver.RequestAddress", json{{"PoolID", kPool}, {"Address", held}});
  CHECK(again.status == 409);
  CHECK(server_pid(d.socket()) == pid);
  CHECK(integrity(d.state_dir()) == "ok");
}

TEST_CASE(
    "When the state directory's file system turns read-only under serve every change is refused "
    "saying so, reads work, and after the repair everything answered before is there",
    "[fault]") {
  Isolation isolation("sd0");
  Daemon d;
  // ext4 turns itself read-only on an error (errors=remount-ro), open files and all; a test
  // error is triggered through sysfs. tmpfs cannot: it refuses to go read-only while open.
  const std::string image = d.dir() + "/state.img";
  {
    std::ofstream(image).close();
    std::filesystem::resize_file(image, 16 << 20);
    REQUIRE(std::system(("mkfs.ext4 -q -F " + image + " >/dev/null 2>&1").c_str()) == 0);
  }
  // A loop mount detaches its loop device when unmounted (autoclear), even when this process dies.
  std::string device;
  {
    std::filesystem::create_directories(d.state_dir());
    REQUIRE(std::system(("mount -o loop,errors=remount-ro " + image + " " + d.state_dir()).c_str()) ==
            0);
    FILE* p = ::popen(("findmnt -n -o SOURCE " + d.state_dir()).c_str(), "r");
    char buf[128] = {};
    if (p && std::fgets(buf, sizeof buf, p)) device = buf;
    if (p) ::pclose(p);
    device = device.substr(0, device.find('\n'));
  }
  struct Unmount {
    std::string target;
    ~Unmount() { ::umount2(target.c_str(), MNT_DETACH); }
  } unmount{d.state_dir()};
  REQUIRE(device.rfind("/dev/loop", 0) == 0);
  ::chmod(d.state_dir().c_str(), 0700);

  d.start();
  const std::string held = populate(d);
  {
    std::ofstream trigger("/sys/fs/ext4/" + device.substr(5) + "/trigger_fs_error");
    trigger << "mvlan fault test: turn read-only";
  }
  every_change_refused(d, held, "read-only");
  CHECK(d.running());

  // The operator's repair: stop mvlan, check and remount the file system, start mvlan.
  d.signal(SIGTERM);
  CHECK(d.wait() == 0);
  REQUIRE(::umount2(d.state_dir().c_str(), 0) == 0);
  REQUIRE(std::system(("e2fsck -fy " + image + " >/dev/null 2>&1; mount -o loop,errors=remount-ro " +
                       image + " " + d.state_dir())
                          .c_str()) == 0);
  d.start();
  CHECK(integrity(d.state_dir()) == "ok");
  const Answer again = d.post("/IpamDriver.RequestAddress", json{{"PoolID", kPool}, {"Address", held}});
  INFO(again.body);
  CHECK(again.status == 409);
  ok(d, "/NetworkDriver.Join", {{"NetworkID", kNet}, {"EndpointID", kEp}, {"SandboxKey", "/x"},
                                {"Options", json::object()}});
  ok(d, "/IpamDriver.RequestAddress", {{"PoolID", kPool}, {"Address", ""}});
}

}  // namespace mvlan::test
