#include "tests/bench/bench_support.h"

#include <fcntl.h>
#include <httplib.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace mvlan::bench {
namespace {

const httplib::Headers kHeaders{{"Accept", "application/vnd.docker.plugins.v1.2+json"}};

std::unique_ptr<httplib::Client> connect(const std::string& socket) {
  auto c = std::make_unique<httplib::Client>(socket);
  c->set_address_family(AF_UNIX);
  c->set_keep_alive(true);
  c->set_read_timeout(60, 0);
  return c;
}

std::string make_temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/var/tmp") + "/mvlan-bench-XXXXXX";
  if (!::mkdtemp(pattern.data())) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  return pattern;
}

}  // namespace

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

Serve::Serve(std::string binary, std::string log_level)
    : binary_(std::move(binary)), log_level_(std::move(log_level)), dir_(make_temp_dir()),
      socket_(dir_ + "/mvlan.sock") {}

Serve::~Serve() {
  stop();
  std::error_code ec;
  if (!std::getenv("MVLAN_BENCH_KEEP")) std::filesystem::remove_all(dir_, ec);
}

double Serve::start() {
  if (pid_ > 0) throw std::logic_error("serve already running");
  const std::string log = dir_ + "/mvlan.log";
  const std::string state = dir_ + "/state";
  std::vector<std::string> args{binary_,  "serve",        "--socket",   socket_,
                                "--state-dir", state, "--log-level", log_level_};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + log);
  const auto t0 = Clock::now();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "exec %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(fd);
  if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
  for (;;) {
    {
      auto c = connect(socket_);
      c->set_connection_timeout(1, 0);
      auto res = c->Post("/Plugin.Activate", kHeaders, "", "");
      if (res && res->status == 200) return ms_since(t0);
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error(binary_ + " serve exited before answering; see " + log);
    }
    if (ms_since(t0) > 30000) throw std::runtime_error("serve did not answer within 30 s");
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

void Serve::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

Memory memory_of(pid_t pid) {
  Memory m;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  double kb = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (std::sscanf(line.c_str(), "VmRSS: %lf", &kb) == 1) m.rss_mb = kb / 1024;
    if (std::sscanf(line.c_str(), "VmHWM: %lf", &kb) == 1) m.hwm_mb = kb / 1024;
    if (std::sscanf(line.c_str(), "RssAnon: %lf", &kb) == 1) m.anon_mb = kb / 1024;
  }
  std::ifstream rollup("/proc/" + std::to_string(pid) + "/smaps_rollup");
  while (std::getline(rollup, line)) {
    if (std::sscanf(line.c_str(), "Pss: %lf", &kb) == 1) m.pss_mb = kb / 1024;
  }
  return m;
}

Client::Client(const std::string& socket) : http_(connect(socket)) {}
Client::~Client() = default;

Answer Client::post(const std::string& path, const json& body) {
  auto res = http_->Post(path.c_str(), kHeaders, body.dump(), "");
  if (!res) return {};
  return {res->status, res->body.empty() ? json() : json::parse(res->body, nullptr, false)};
}

json Client::call(const std::string& path, const json& body) {
  auto a = post(path, body);
  if (a.status != 200) {
    throw std::runtime_error(path + " " + body.dump().substr(0, 300) + " -> " +
                             (a.status ? std::to_string(a.status) + " " + a.body.dump()
                                       : std::string("no answer")));
  }
  return a.body;
}

double percentile(std::vector<double> samples, double q) {
  if (samples.empty()) return std::nan("");
  std::sort(samples.begin(), samples.end());
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(samples.size())));
  return samples[std::min(samples.size() - 1, rank == 0 ? 0 : rank - 1)];
}

json row(const std::string& figure, const std::string& target, const std::string& measured,
         bool met) {
  return {{"figure", figure}, {"target", target}, {"measured", measured}, {"met", met}};
}

std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  std::string s = buf;
  // thousands separators for the integer part, as the figures are written
  const size_t dot = s.find('.');
  for (long i = static_cast<long>(dot == std::string::npos ? s.size() : dot) - 3;
       i > (s[0] == '-' ? 1 : 0); i -= 3) {
    s.insert(static_cast<size_t>(i), ",");
  }
  return s;
}

void write_section(const std::string& path, const std::string& name, const json& rows,
                   const json& raw) {
  std::ofstream out(path + ".tmp");
  out << json{{"section", name}, {"rows", rows}, {"raw", raw}}.dump(2) << "\n";
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
  std::filesystem::rename(path + ".tmp", path);
}

void enter_fresh_netns() {
  if (::unshare(CLONE_NEWNET) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            "unshare(CLONE_NEWNET): this benchmark needs root");
  }
}

Flags::Flags(int argc, char** argv, const std::vector<std::string>& names, std::string usage)
    : usage_(std::move(usage)) {
  for (int i = 1; i < argc; i += 2) {
    const std::string name = argv[i];
    if (i + 1 >= argc || std::find(names.begin(), names.end(), name) == names.end()) usage_error();
    given_[name] = argv[i + 1];
  }
}

std::string Flags::text(const std::string& name, const std::string& fallback) const {
  const auto it = given_.find(name);
  return it == given_.end() ? fallback : it->second;
}

long Flags::number(const std::string& name, long fallback) const {
  const auto it = given_.find(name);
  if (it == given_.end()) return fallback;
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end != '\0' || errno != 0) usage_error();
  return n;
}

void Flags::usage_error() const {
  std::fprintf(stderr, "usage: %s\n", usage_.c_str());
  std::exit(2);
}

std::string docker_id(unsigned prefix, unsigned long n) {
  // splitmix64: random-looking like Docker's ids, so the 12 characters mvlan names links by differ
  std::uint64_t x = (static_cast<std::uint64_t>(prefix) << 32) ^ n;
  std::string id;
  char buf[17];
  for (int i = 0; i < 4; ++i) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(z ^ (z >> 31)));
    id += buf;
  }
  return id;
}

}  // namespace mvlan::bench
