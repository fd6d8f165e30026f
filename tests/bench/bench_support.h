#pragma once
// What the benchmark programs share: `mvlan serve` started on a temporary socket, an HTTP client
// that speaks to it as Docker does, figures (median, percentiles) and the JSON each section writes
// for tests/bench/run.sh. Benchmarks, not tests: they report figures and fail only when a run
// cannot be measured at all.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace httplib {
class Client;
}

namespace mvlan::bench {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0);

// `mvlan serve --socket DIR/mvlan.sock --state-dir DIR/state --log-level LEVEL`, output in
// DIR/mvlan.log. The directory is made under $TMPDIR (or /var/tmp: a real disk, as /var/lib is)
// and removed with the object unless keep() was called.
class Serve {
 public:
  explicit Serve(std::string binary, std::string log_level = "info");
  ~Serve();
  Serve(const Serve&) = delete;
  Serve& operator=(const Serve&) = delete;

  // Starts the process and returns the milliseconds until Plugin.Activate got its answer.
  double start();
  void stop();  // SIGTERM, then waits
  pid_t pid() const { return pid_; }
  const std::string& socket() const { return socket_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string binary_, log_level_, dir_, socket_;
  pid_t pid_ = -1;
};

struct Memory {
  double rss_mb = 0, hwm_mb = 0;  // VmRSS and VmHWM of /proc/PID/status
  double anon_mb = 0;             // RssAnon: the part that is not shared library or file pages
  double pss_mb = 0;              // Pss of /proc/PID/smaps_rollup: shared pages divided among users
};
Memory memory_of(pid_t pid);

struct Answer {
  int status = 0;  // 0: no HTTP answer
  json body;
};

// One keep-alive connection, as each of Docker's goroutines holds one.
class Client {
 public:
  explicit Client(const std::string& socket);
  ~Client();
  Answer post(const std::string& path, const json& body);
  // post(), or throws std::runtime_error naming the request and the answer.
  json call(const std::string& path, const json& body);

 private:
  std::unique_ptr<httplib::Client> http_;
};

// q in [0, 1]; the nearest-rank value of the samples (sorted here).
double percentile(std::vector<double> samples, double q);
inline double median(std::vector<double> samples) { return percentile(std::move(samples), 0.5); }

// One row of the table run.sh prints.
json row(const std::string& figure, const std::string& target, const std::string& measured,
         bool met);
std::string fixed(double value, int decimals);
// Writes {"section": name, "rows": rows, "raw": raw} to `path`.
void write_section(const std::string& path, const std::string& name, const json& rows,
                   const json& raw);

// A fresh network namespace for this process (and the children it starts from now on), so links
// made by a benchmark vanish with it. Call before starting any thread.
void enter_fresh_netns();

// A benchmark program's command line: "--name value" pairs among `names`. Anything else (an
// unknown name, a name without its value, a number that is not one) prints `usage` and exits 2,
// as does usage_error() for a value the program itself refuses.
class Flags {
 public:
  Flags(int argc, char** argv, const std::vector<std::string>& names, std::string usage);
  std::string text(const std::string& name, const std::string& fallback = "") const;
  long number(const std::string& name, long fallback) const;
  [[noreturn]] void usage_error() const;

 private:
  std::map<std::string, std::string> given_;
  std::string usage_;
};

// A 64-hex-digit id that looks random, as Docker's do; the same (prefix, n) gives the same id.
std::string docker_id(unsigned prefix, unsigned long n);

}  // namespace mvlan::bench
