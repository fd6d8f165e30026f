#pragma once
// Docker's plugin transport: HTTP/1.1 on a Unix socket (mode 0600, never TCP). Workers grow with
// the number of open connections, so idle keep-alive connections never starve a new one.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "plugin/router.h"

namespace mvlan::plugin {
class PluginHttpServer;
}

namespace mvlan::plugin {

struct ServerLimits {
  size_t max_body = 1 << 20;      // 1 MiB
  int read_timeout_seconds = 10;  // per read: a stalled client is dropped
  int keep_alive_seconds = 5;     // also bounds how long SIGTERM waits for idle connections
  size_t max_workers = 256;       // beyond this, connections wait for a free worker
};

class UnixServer {
 public:
  UnixServer(std::string socket_path, const Router& router, ServerLimits limits = {});
  ~UnixServer();

  // Binds (replacing a stale socket file, refusing when a live server answers) and starts
  // serving in a background thread. Throws std::runtime_error with a message for the user.
  void start();
  // Stops accepting, waits for requests in flight, removes the socket file.
  void stop();

 private:
  void end_idle_connections();

  std::string path_;
  const Router& router_;
  ServerLimits limits_;
  std::unique_ptr<PluginHttpServer> http_;
  std::thread thread_;
  std::atomic<bool> served_all_{false};
};

// True when something accepts connections on the Unix socket at `path`.
bool socket_answers(const std::string& path);

}  // namespace mvlan::plugin
