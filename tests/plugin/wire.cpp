#include "tests/plugin/wire.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "plugin/unix_server.h"
#include "tests/support/daemon.h"

namespace mvlan::test {
namespace {

using Clock = std::chrono::steady_clock;

int connect_unix(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return -1;
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Spawns the binary with stdout+stderr to `log`; the child gets a clean MVLAN_* environment.
pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& env,
            const std::string& log) {
  std::vector<std::string> argv_store{mvlan_binary()};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<std::string> env_store;
  for (char** e = environ; e && *e; ++e) {
    if (std::string(*e).rfind("MVLAN_", 0) != 0 || std::string(*e).rfind("MVLAN_BIN=", 0) == 0) {
      env_store.emplace_back(*e);
    }
  }
  env_store.insert(env_store.end(), env.begin(), env.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  const pid_t test = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // no orphan when the test dies (see tests/support/daemon)
    if (::getppid() != test) std::_Exit(127);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execve(argv[0], argv.data(), envp.data());
    std::_Exit(127);
  }
  return pid;
}

std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    if (r < 0) return -1;
    if (Clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

RawConnection::RawConnection(const std::string& socket_path) : fd_(connect_unix(socket_path)) {}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::optional<RawConnection::Answer> RawConnection::read_answer(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string& buf = pending_;
  size_t body_at = std::string::npos;
  size_t length = 0;
  for (;;) {
    if (body_at == std::string::npos) {
      const size_t end = buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        body_at = end + 4;
        std::string head = buf.substr(0, end);
        std::string lower = head;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const size_t cl = lower.find("content-length:");
        if (cl != std::string::npos) length = std::stoul(head.substr(cl + 15));
      }
    }
    if (body_at != std::string::npos && buf.size() >= body_at + length) {
      Answer a;
      a.headers = buf.substr(0, body_at);
      if (a.headers.size() > 12) a.status = std::atoi(a.headers.c_str() + 9);
      a.body = buf.substr(body_at, length);
      buf.erase(0, body_at + length);
      return a;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    buf.append(chunk, static_cast<size_t>(n));
  }
}

std::string docker_request(const std::string& path, const std::string& body) {
  return "POST " + path +
         " HTTP/1.1\r\nHost: \r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: " +
         std::to_string(body.size()) +
         "\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\nAccept-Encoding: gzip\r\n\r\n" +
         body;
}

pid_t server_pid(const std::string& socket_path) {
  const int fd = connect_unix(socket_path);
  if (fd < 0) return -1;
  ucred cred{};
  socklen_t len = sizeof cred;
  const int r = ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
  ::close(fd);
  return r == 0 ? cred.pid : -1;
}

CliResult run_mvlan(const std::vector<std::string>& args, const std::vector<std::string>& env,
                    std::chrono::milliseconds timeout) {
  TempDir dir;
  const std::string log = dir.path() + "/out";
  const pid_t pid = spawn(args, env, log);
  CliResult r;
  if (auto code = wait_for(pid, timeout)) {
    r.exit_code = *code;
  } else {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  r.output = read_file(log);
  return r;
}

ServeProcess::ServeProcess(std::vector<std::string> args, std::vector<std::string> env) {
  char tmpl[] = "/tmp/mvlan-serve-log-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  log_path_ = tmpl;
  args.insert(args.begin(), "serve");
  pid_ = spawn(args, env, log_path_);
}

ServeProcess::~ServeProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ::unlink(log_path_.c_str());
}

bool ServeProcess::wait_listening(const std::string& socket, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!plugin::socket_answers(socket)) {
    if (pid_ <= 0) return false;
    if (auto code = wait_for(pid_, std::chrono::milliseconds(0))) {
      exit_code_ = code;
      pid_ = -1;
      return false;
    }
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void ServeProcess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> ServeProcess::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_code_ ? exit_code_ : -1;
  auto code = wait_for(pid_, timeout);
  if (code) pid_ = -1;
  return code;
}

std::string ServeProcess::output() const {
  return read_file(log_path_);
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/mvlan-test-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace mvlan::test
