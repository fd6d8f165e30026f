// The commands' arguments and settings, read without running anything: what each flag sets, in
// both spellings, and how a wrong or extra argument is refused.

#include <catch2/catch.hpp>
#include <functional>
#include <stdexcept>
#include <string>

#include "plugin/options.h"
#include "tests/support/refusal.h"

using namespace mvlan::plugin;

namespace {

std::string refusal(const std::function<void()>& parse) {
  return mvlan::test::refusal_of<std::invalid_argument>(parse);
}

}  // namespace

TEST_CASE("serve reads --socket, --state-dir and --log-level in both spellings, over MVLAN_*",
          "[options]") {
  const Environment env{{"MVLAN_SOCKET", "/run/env.sock"}, {"MVLAN_LOG_LEVEL", "error"}};
  const auto o = parse_serve({"--socket=/run/flag.sock", "--state-dir", "/srv/mvlan",
                              "--log-level=debug"},
                             env);
  CHECK(o.socket == "/run/flag.sock");
  CHECK(o.state_dir == "/srv/mvlan");
  CHECK(o.log_level == mvlan::log::Level::Debug);
  CHECK(parse_serve({}, env).socket == "/run/env.sock");
  CHECK(parse_serve({}, env).log_level == mvlan::log::Level::Error);
  CHECK(refusal([] { parse_serve({"--log-level="}, {}); }) ==
        "--log-level \"\" is not a log level; use debug, info, warn or error");
  CHECK(refusal([] { parse_serve({"--socket"}, {}); }) == "--socket needs a value");
}

TEST_CASE("status takes --json and --state-dir and nothing else", "[options]") {
  const auto o = parse_status({"--json", "--state-dir=/srv/mvlan"}, {});
  CHECK(o.json);
  CHECK(o.state_dir == "/srv/mvlan");
  CHECK_FALSE(parse_status({}, {}).json);
  CHECK(refusal([] { parse_status({"web"}, {}); }) ==
        "unknown argument \"web\" for status; valid: --state-dir DIR, --json");
}

TEST_CASE("release-host takes one HOST and --force, in any order", "[options]") {
  const Environment etcd{{"MVLAN_IPAM_BACKEND", "etcd"},
                         {"MVLAN_ETCD_ENDPOINTS", "http://192.0.2.11:2379"}};
  const auto o = parse_release_host({"--force", "h2"}, etcd);
  CHECK(o.host == "h2");
  CHECK(o.force);
  CHECK_FALSE(parse_release_host({"h2"}, etcd).force);
  CHECK(refusal([&] { parse_release_host({"h2", "h3"}, etcd); }) ==
        "unknown argument \"h3\" for release-host; usage: release-host HOST [--force]");
  CHECK(refusal([&] { parse_release_host({"--forse", "h2"}, etcd); }) ==
        "unknown argument \"--forse\" for release-host; usage: release-host HOST [--force]");
  CHECK(refusal([&] { parse_release_host({"--force"}, etcd); }) ==
        "release-host needs a HOST (its MVLAN_HOST_ID)");
}

TEST_CASE("forget takes one NAME, --pool, --subnet and --state-dir", "[options]") {
  const auto o = parse_forget({"--subnet", "192.0.2.0/24", "web", "--pool=p1",
                               "--state-dir=/srv/mvlan"},
                              {});
  CHECK(o.name == "web");
  CHECK(o.subnet == "192.0.2.0/24");
  CHECK(o.pool == "p1");
  CHECK(o.state_dir == "/srv/mvlan");
  const std::string usage = "usage: forget NAME [--pool ID | --subnet CIDR] [--state-dir DIR]";
  CHECK(refusal([] { parse_forget({"web", "db"}, {}); }) ==
        "unknown argument \"db\" for forget; " + usage);
  // A name pasted with a control character is quoted, escaped and cut.
  CHECK(refusal([] { parse_forget({"web", std::string(100, 'x') + "\n"}, {}); }) ==
        "unknown argument \"" + std::string(80, 'x') + "...\" (101 bytes) for forget; " + usage);
}
