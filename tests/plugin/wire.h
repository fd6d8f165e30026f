#pragma once
// What the plugin tests need beyond tests/support: raw HTTP on the Unix socket (partial, slow and
// oversized requests, idle connections), and running `mvlan` with chosen flags and environment.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace mvlan::test {

// A connected Unix stream socket, closed on destruction; -1 when nothing listens.
class RawConnection {
 public:
  explicit RawConnection(const std::string& socket_path);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes);  // false when the peer is gone
  // One HTTP answer (status line, headers, Content-Length body), or none within `timeout`.
  struct Answer {
    int status = 0;
    std::string headers;
    std::string body;
  };
  std::optional<Answer> read_answer(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string pending_;  // bytes read past the previous answer
};

// A POST exactly as Docker 20.10 sends it: empty Host, the plugin Accept header, no Content-Type.
std::string docker_request(const std::string& path, const std::string& body);

// The process serving the other end of a Unix socket (SO_PEERCRED), or -1.
pid_t server_pid(const std::string& socket_path);

struct CliResult {
  int exit_code = -1;  // -1: killed after the timeout
  std::string output;  // stdout and stderr together
};
// Runs the mvlan binary with `args`, `env` ("NAME=value") added to a clean environment.
CliResult run_mvlan(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(20));

// `mvlan serve` with flags and environment the test chooses (tests/support's Daemon always
// passes --log-level debug). Killed and waited for on destruction.
class ServeProcess {
 public:
  ServeProcess(std::vector<std::string> args, std::vector<std::string> env = {});
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Waits until `socket` answers; false if the process exited or `timeout` passed first.
  bool wait_listening(const std::string& socket,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void signal(int sig);
  // The exit status, 128+signal when killed, or nullopt if still running after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  pid_t pid() const { return pid_; }
  std::string output() const;  // everything it wrote to stdout and stderr so far

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;  // once reaped
  std::string log_path_;
};

// A fresh temporary directory, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace mvlan::test
