#include "tests/support/daemon.h"

#include <httplib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>
#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "plugin/unix_server.h"

namespace mvlan::test {

json Answer::parsed() const { return json::parse(body); }

std::string mvlan_binary() {
  if (const char* env = std::getenv("MVLAN_BIN")) return env;
  return MVLAN_BIN;
}

Daemon::Daemon() {
  char tmpl[] = "/tmp/mvlan-test-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  socket_ = dir_ + "/mvlan.sock";
}

Daemon::~Daemon() {
  client_.reset();
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void Daemon::start(const std::vector<std::string>& env) {
  const std::string bin = mvlan_binary();
  const pid_t test = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // A test that dies (a crash, ctest's timeout) must not leave its daemon behind: an orphan
    // keeps the test's output pipe open, and ctest then waits for it until its own timeout.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != test) std::_Exit(127);
    const std::string log = log_path();
    FILE* f = std::fopen(log.c_str(), "a");
    if (f) ::dup2(fileno(f), 2);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    const std::string state = state_dir();
    ::execl(bin.c_str(), bin.c_str(), "serve", "--socket", socket_.c_str(), "--state-dir",
            state.c_str(), "--log-level", "debug", static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!plugin::socket_answers(socket_)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("mvlan serve exited during start: " + log());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("mvlan serve did not answer within 20 s: " + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  client_ = plugin_connection(socket_, 30);
}

std::unique_ptr<httplib::Client> plugin_connection(const std::string& socket, int read_timeout_s) {
  auto c = std::make_unique<httplib::Client>(socket);
  c->set_address_family(AF_UNIX);
  c->set_keep_alive(true);
  c->set_read_timeout(read_timeout_s, 0);
  return c;
}

const httplib::Headers& plugin_headers() {
  static const httplib::Headers headers{{"Accept", "application/vnd.docker.plugins.v1.2+json"}};
  return headers;
}

void Daemon::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int Daemon::wait() {
  if (pid_ <= 0) return -1;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  client_.reset();
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

Answer Daemon::post(const std::string& path, const std::string& body) {
  if (!client_) throw std::runtime_error("daemon not started");
  auto res = client_->Post(path.c_str(), plugin_headers(), body, "");
  if (!res) return {0, httplib::to_string(res.error())};
  return {res->status, res->body};
}

std::string Daemon::run_cli(const std::vector<std::string>& args, int* exit_code) const {
  std::string cmd = mvlan_binary();
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = ::pclose(p);
  if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

std::string Daemon::log() const {
  std::ifstream f(log_path());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string dump_state(const std::string& state_dir) {
  SQLite::Database db(state_dir + "/mvlan.db", SQLite::OPEN_READONLY);
  std::string out;
  for (const char* table : {"address_sets", "cursors", "pools", "allocations", "taken_runs"}) {
    SQLite::Statement s(db, std::string("SELECT * FROM ") + table + " ORDER BY 1, 2");
    out += std::string("[") + table + "]\n";
    while (s.executeStep()) {
      for (int i = 0; i < s.getColumnCount(); ++i) {
        const auto c = s.getColumn(i);
        out += c.isNull() ? "NULL" : c.getString();
        out += "|";
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace mvlan::test
