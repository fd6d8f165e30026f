// Fault 4: `mvlan serve` finds a database it must not use in its state directory (another
// program's, not SQLite at all, damaged, or from a newer mvlan). It refuses to start, naming the
// file and what to do, and leaves the file exactly as it was: never re-initialised, never deleted.

#include <signal.h>

#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/plugin/wire.h"
#include "tests/support/daemon.h"

namespace mvlan::test {
namespace {

std::string bytes_of(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A real mvlan database with a pool in it, closed cleanly (no WAL left beside it).
void make_mvlan_database(Daemon& d) {
  d.start();
  const Answer pool =
      d.post("/IpamDriver.RequestPool", json{{"AddressSpace", "LocalDefault"}, {"Pool", "192.0.2.0/24"},
                                             {"SubPool", ""}, {"Options", json::object()}, {"V6", false}});
  REQUIRE(pool.status == 200);
  d.signal(SIGTERM);
  REQUIRE(d.wait() == 0);
}

// Starts serve on `d`'s state directory, expects a refusal whose message contains `what_to_do`,
// and checks the database file is byte for byte what it was.
void refuses(Daemon& d, const std::string& what_to_do) {
  const std::string db = d.state_dir() + "/mvlan.db";
  const std::string before = bytes_of(db);
  REQUIRE_FALSE(before.empty());
  const CliResult r =
      run_mvlan({"serve", "--socket", d.socket(), "--state-dir", d.state_dir()}, {},
                std::chrono::seconds(20));
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains(db) && Catch::Contains(what_to_do));
  CHECK(bytes_of(db) == before);
  CHECK_FALSE(std::filesystem::exists(d.socket()));
}

}  // namespace

TEST_CASE("serve refuses another program's SQLite database naming the file, and leaves it as it was",
          "[fault]") {
  Daemon d;
  std::filesystem::create_directories(d.state_dir());
  {
    SQLite::Database other(d.state_dir() + "/mvlan.db", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    other.exec("CREATE TABLE photos (id INTEGER, name TEXT)");
    other.exec("INSERT INTO photos VALUES (1, 'holiday')");
  }
  refuses(d, "is not an mvlan database (foreign application id); move it away or point --state-dir "
             "elsewhere");
}

TEST_CASE("serve refuses a state database that is not SQLite at all naming the file, and keeps it",
          "[fault]") {
  Daemon d;
  std::filesystem::create_directories(d.state_dir());
  std::ofstream(d.state_dir() + "/mvlan.db")
      << "this is not sqlite at all: a text file that someone put where the database goes\n";
  refuses(d, "restore it from a backup");
}

TEST_CASE("serve refuses a damaged mvlan database naming the file, and never re-initialises it",
          "[fault]") {
  Daemon d;
  make_mvlan_database(d);
  const std::string db = d.state_dir() + "/mvlan.db";
  {
    // Page 2 is a table's b-tree page: garbage over its header breaks the tree.
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096);
    const std::string garbage(64, '\xa5');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  refuses(d, "restore it from a backup");
}

TEST_CASE("serve refuses a database written by a newer mvlan, saying to run a newer one", "[fault]") {
  Daemon d;
  make_mvlan_database(d);
  {
    SQLite::Database db(d.state_dir() + "/mvlan.db", SQLite::OPEN_READWRITE);
    db.exec("PRAGMA user_version=999");
  }
  refuses(d, "has schema version 999, newer than this mvlan knows");
}

}  // namespace mvlan::test
