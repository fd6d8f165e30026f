#pragma once
// The real mvlan binary, started on a temporary socket and state directory, and an HTTP client
// that speaks to it the way Docker does (POST, Unix socket, keep-alive).

#include <httplib.h>
#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mvlan::test {

using json = nlohmann::json;

struct Answer {
  int status = 0;  // 0: no HTTP answer at all
  std::string body;
  json parsed() const;
};

class Daemon {
 public:
  Daemon();  // a fresh temporary directory; nothing started yet
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Starts `mvlan serve` and waits until the socket answers.
  void start(const std::vector<std::string>& env = {});
  void signal(int sig);
  int wait();  // the exit status (or 128+signal)
  bool running() const { return pid_ > 0; }

  Answer post(const std::string& path, const std::string& body);
  Answer post(const std::string& path, const json& body) { return post(path, body.dump()); }

  std::string run_cli(const std::vector<std::string>& args, int* exit_code = nullptr) const;

  const std::string& dir() const { return dir_; }
  const std::string& socket() const { return socket_; }
  std::string state_dir() const { return dir_ + "/state"; }
  std::string log_path() const { return dir_ + "/mvlan.log"; }
  std::string log() const;

 private:
  std::string dir_;
  std::string socket_;
  pid_t pid_ = -1;
  std::unique_ptr<httplib::Client> client_;
};

std::string mvlan_binary();
// A keep-alive connection to a plugin socket, as Docker's plugin client opens one, and the
// headers it sends.
std::unique_ptr<httplib::Client> plugin_connection(const std::string& socket, int read_timeout_s);
const httplib::Headers& plugin_headers();
// The IPAM tables as text, to prove a refused request changed nothing.
std::string dump_state(const std::string& state_dir);

}  // namespace mvlan::test
