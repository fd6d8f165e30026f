// mvlan: a Docker NetworkDriver + IpamDriver for macvlan, served on a Unix socket.

#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/quote.h"
#include "plugin/forget.h"
#include "plugin/options.h"
#include "plugin/release_host.h"
#include "plugin/serve.h"
#include "plugin/status.h"
#include "plugin/version.h"

namespace {

constexpr const char* kUsage = R"(usage: mvlan COMMAND [OPTIONS]

Docker network + IPAM plugin for macvlan networks.

Commands:
  serve    serve Docker's plugin protocols on a Unix socket
             --socket PATH       (MVLAN_SOCKET, default /run/docker/plugins/mvlan.sock)
             --state-dir DIR     (MVLAN_STATE_DIR, default /var/lib/mvlan; database DIR/mvlan.db)
             --log-level LEVEL   (MVLAN_LOG_LEVEL: debug|info|warn|error, default info)
             MVLAN_DEFAULT_POOLS pools picked when a network gives no --subnet
                                 (default 198.18.0.0/15/24,fd6d:766c:616e::/48/64)
             MVLAN_JOIN_GRACE    seconds a container's link found at start is left for
                                 Docker to take into the container (0-3600, default 60)
  status   show pools, gateways, reserved addresses, allocations and name bindings
             --state-dir DIR     (MVLAN_STATE_DIR, default /var/lib/mvlan)
             --json              machine-readable output
             (with MVLAN_IPAM_BACKEND=etcd: every host's pools and grants, with their holders)
  forget NAME [--pool ID | --subnet CIDR]
           drop NAME's parked address binding (sticky addresses, engines >= 29) and free the
           address; refused while a container holds it (with etcd: MVLAN_HOST_ID's bindings)
             --state-dir DIR     (MVLAN_STATE_DIR, default /var/lib/mvlan)
  release-host HOST [--force]
           free in etcd the addresses of a host that is gone for good (shared gateways and aux
           addresses stay) and its name bindings; refused while HOST's plugin is alive unless
           --force

  IPAM backend (serve, status, forget, release-host; environment only):
    MVLAN_IPAM_BACKEND   sqlite (default) | etcd
    MVLAN_ETCD_ENDPOINTS http(s)://HOST:PORT,... (required for etcd)
    MVLAN_ETCD_PREFIX    key prefix (default /mvlan/)
    MVLAN_HOST_ID        this host's name in the cluster (default the host name)
    MVLAN_ETCD_CACERT, MVLAN_ETCD_CERT, MVLAN_ETCD_KEY   TLS files for https endpoints
    MVLAN_ETCD_TIMEOUT   seconds per etcd request (default 5)

  mvlan --version | --help
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace mvlan::plugin;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::cout << "mvlan " << mvlan::kVersion << "\n";
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "serve") return serve(parse_serve(args, process_environment()));
    if (command == "status")
      return print_status(parse_status(args, process_environment()), std::cout);
    if (command == "release-host")
      return release_host(parse_release_host(args, process_environment()), std::cout);
    if (command == "forget") return forget(parse_forget(args, process_environment()), std::cout);
  } catch (const std::invalid_argument& e) {
    std::cerr << "mvlan " << command << ": " << e.what() << "\n";
    return 2;
  }
  std::cerr << "mvlan: unknown command " << mvlan::quote(command) << "; see mvlan --help\n";
  return 2;
}
