#include "plugin/unix_server.h"

#include <fcntl.h>
#include <httplib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "common/log.h"
#include "common/quote.h"

namespace mvlan::plugin {
namespace {

constexpr const char* kContentType = "application/vnd.docker.plugins.v1+json";
constexpr int kBacklog = 512;

// A worker per concurrent connection, created on demand up to a cap and kept for reuse: a fixed
// pool would let N idle keep-alive connections block the (N+1)th caller.
class GrowingPool final : public httplib::TaskQueue {
 public:
  explicit GrowingPool(size_t max_workers) : max_workers_(max_workers) {}

  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(mutex_);
    jobs_.push_back(std::move(fn));
    // Woken workers still count as idle until they take a job: compare with the queue, or a
    // burst of connections would all wait for one worker.
    if (jobs_.size() > idle_ && workers_.size() < max_workers_) {
      workers_.emplace_back([this] { work(); });
    } else {
      ready_.notify_one();
    }
  }

  void shutdown() override {
    {
      std::unique_lock lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : workers_) t.join();
  }

 private:
  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ++idle_;
      ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty()) return;  // stopping, and every queued connection served
      auto fn = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      fn();
      lock.lock();
    }
  }

  const size_t max_workers_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> workers_;
  size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace

// httplib listens with a backlog of 5: a burst of Docker's goroutines dialling at once would be
// refused. Linux lets listen() be called again on a listening socket to raise it.
class PluginHttpServer final : public httplib::Server {
 public:
  void widen_backlog(int backlog) { ::listen(svr_sock_, backlog); }
};

bool socket_answers(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return false;
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

UnixServer::UnixServer(std::string socket_path, const Router& router, ServerLimits limits)
    : path_(std::move(socket_path)), router_(router), limits_(limits) {}

UnixServer::~UnixServer() {
  stop();
}

void UnixServer::start() {
  if (path_.size() >= sizeof(sockaddr_un{}.sun_path)) {
    throw std::runtime_error("socket path " + path_ + " is longer than the 107 bytes a Unix " +
                             "socket path may have; choose a shorter --socket");
  }
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      throw std::runtime_error(path_ + " exists and is not a socket; remove it or choose another " +
                               "--socket");
    }
    if (socket_answers(path_)) {
      throw std::runtime_error("another server already answers on " + path_ +
                               "; stop it first (mvlan never takes over a live socket)");
    }
    ::unlink(path_.c_str());  // stale: left by a process that died
  }

  http_ = std::make_unique<PluginHttpServer>();
  auto& http = *http_;
  const size_t max_workers = limits_.max_workers;
  http.new_task_queue = [max_workers] { return new GrowingPool(max_workers); };
  http.set_address_family(AF_UNIX);
  http.set_payload_max_length(limits_.max_body);
  http.set_read_timeout(limits_.read_timeout_seconds, 0);
  http.set_write_timeout(limits_.read_timeout_seconds, 0);
  http.set_keep_alive_timeout(limits_.keep_alive_seconds);
  http.set_keep_alive_max_count(1000000);  // Docker keeps one connection for a long time

  http.Post(R"(/[A-Za-z0-9_.]*)", [this](const httplib::Request& req, httplib::Response& res) {
    const Reply reply = router_.dispatch(req.path, req.body);
    res.status = reply.status;
    res.set_content(reply.body, kContentType);
  });
  // Anything httplib answers by itself (unknown path or method, body over the limit, malformed
  // HTTP) still gets a JSON body: Docker's decoder fails on an empty one.
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours already
        std::string message;
        switch (res.status) {
          case 413:
            message = "request body is larger than the " + std::to_string(limits_.max_body) +
                      " bytes mvlan accepts";
            break;
          case 404:
          case 405:
            message = "mvlan does not implement " + quote_bare(req.method, 16) + " " +
                      quote_bare(req.path, 100) +
                      "; it serves POST /Plugin.Activate, /NetworkDriver.* and /IpamDriver.*";
            break;
          default: message = "malformed HTTP request (status " + std::to_string(res.status) + ")";
        }
        const Interface iface = req.path.rfind("/IpamDriver.", 0) == 0 ? Interface::IpamDriver
                                                                       : Interface::NetworkDriver;
        res.set_content(Router::error_body(iface, message), kContentType);
        return httplib::Server::HandlerResponse::Handled;
      }));

  const mode_t old_mask = ::umask(0177);  // the socket is born 0600: no window where others connect
  const bool bound = http.bind_to_port(path_, 80);
  ::umask(old_mask);
  if (!bound) {
    throw std::runtime_error("cannot listen on " + path_ + ": " + std::strerror(errno) +
                             " (does its directory exist and is it writable?)");
  }
  ::chmod(path_.c_str(), 0600);
  http_->widen_backlog(kBacklog);
  served_all_ = false;
  thread_ = std::thread([this, &http] {
    http.listen_after_bind();  // returns once every worker has finished
    served_all_ = true;
  });
  log::info("listening on " + path_);
}

// Idle keep-alive connections would hold shutdown for the keep-alive timeout. Closing their read
// side ends them at once, while a request already read still gets its answer written.
// httplib does not tell which descriptors are its connections, so they are found among all of
// them; a worker may close one meanwhile and the number be reused. Each is therefore duplicated
// first (atomic: EBADF, or a reference to whatever the number named at that instant), and every
// check and the shutdown act on that reference, never on a number another thread owns.
void UnixServer::end_idle_connections() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int number = -1;
    try {
      number = std::stoi(entry.path().filename().string());
    } catch (...) {
      continue;
    }
    const int fd = ::fcntl(number, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) continue;
    struct stat st {};
    sockaddr_un local{};
    socklen_t len = sizeof local;
    int listening = 0;
    socklen_t optlen = sizeof listening;
    if (::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 &&
        local.sun_family == AF_UNIX && path_ == local.sun_path &&
        ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) == 0 && !listening) {
      ::shutdown(fd, SHUT_RD);
    }
    ::close(fd);
  }
}

void UnixServer::stop() {
  if (!http_) return;
  http_->stop();
  // A grace period lets requests in flight (even half-sent ones) finish; then idle keep-alive
  // connections are ended rather than waited for.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (!served_all_ && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!served_all_) end_idle_connections();
  if (thread_.joinable()) thread_.join();
  http_.reset();
  ::unlink(path_.c_str());
}

}  // namespace mvlan::plugin
