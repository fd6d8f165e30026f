#include "etcd/client.h"

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "common/error.h"
#include "etcd/gateway_json.h"

namespace mvlan::etcd {

using gateway::json;
using gateway::number;

Op Op::range(std::string key, std::string end, long long limit) {
  return Op{
      .kind = Kind::Range, .key = std::move(key), .range_end = std::move(end), .limit = limit};
}

Op Op::put(std::string key, std::string value, long long lease) {
  return Op{.kind = Kind::Put, .key = std::move(key), .value = std::move(value), .lease = lease};
}

Op Op::erase(std::string key) {
  return Op{.kind = Kind::Delete, .key = std::move(key)};
}

Op Op::nested(Txn txn) {
  return Op{.kind = Kind::Txn, .txn = std::make_shared<Txn>(std::move(txn))};
}

std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    if (static_cast<unsigned char>(prefix.back()) < 0xff) {
      ++prefix.back();
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');  // every key
}

// httplib's Client serialises the requests made through one instance, so concurrent callers each
// borrow an idle connection of their own (one keep-alive connection per concurrent request).
struct Client::Endpoint {
  std::string url;
  std::mutex mutex;
  std::vector<std::unique_ptr<httplib::Client>> idle;
};

Client::Client(Settings settings) : settings_(std::move(settings)) {
  for (const auto& url : settings_.endpoints) {
    auto e = std::make_unique<Endpoint>();
    e->url = url;
    endpoints_.push_back(std::move(e));
  }
}

Client::~Client() = default;

std::string Client::endpoints() const {
  std::string out;
  for (const auto& e : settings_.endpoints) out += (out.empty() ? "" : ",") + e;
  return out;
}

// Every member is tried in turn; when none answered but one at least was reached, the round is
// tried again until settings_.timeout has passed since the first. A member that loses its leader
// (the leader was killed) breaks or refuses requests for the second or so its election takes: a
// single round would turn that moment into a user-visible "no quorum" although quorum is intact.
// When no member accepts a connection at all there is nothing to wait for (etcd is down, or the
// address is wrong): that fails at once, and serve starts without delay while etcd is down.
std::string Client::call(const std::string& path, const std::string& body) {
  using SteadyClock = std::chrono::steady_clock;
  const auto deadline = SteadyClock::now() + settings_.timeout;
  for (int round = 0;; ++round) {
    std::string failures;
    bool reached = false;
    if (auto answer = call_round(path, body, failures, reached)) return *answer;
    if (!reached || SteadyClock::now() + kRoundPause >= deadline) {
      throw Error(ErrorKind::Store, "etcd cluster " + endpoints() +
                                        " is unreachable or has no quorum (" + failures.substr(2) +
                                        (round > 0 ? "; tried " + std::to_string(round + 1) +
                                                         " times within " + timeout_text()
                                                   : std::string()) +
                                        ")");
    }
    std::this_thread::sleep_for(kRoundPause);
  }
}

std::string Client::timeout_text() const {
  const auto ms = settings_.timeout.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

Client::Failure Client::describe(httplib::Error err, bool timed_out, bool https) const {
  using E = httplib::Error;
  const std::string no_client_cert =
      https && settings_.cert_file.empty()
          ? " (if it asks for a client certificate, set MVLAN_ETCD_CERT and MVLAN_ETCD_KEY)"
          : "";
  switch (err) {
    case E::Connection:
    case E::ConnectionTimeout: return {"cannot connect", false};
    case E::Read:
      if (timed_out) return {"no answer within " + timeout_text(), true};
      return {"the connection closed without an answer" + no_client_cert, true};
    case E::Write:
      return {"the connection closed while the request was sent" + no_client_cert, true};
    case E::SSLServerVerification: {
      const std::string ca = settings_.ca_file.empty()
                                 ? "a CA the system trusts (set MVLAN_ETCD_CACERT)"
                                 : "MVLAN_ETCD_CACERT " + settings_.ca_file;
      return {"its TLS certificate is not trusted: not signed by " + ca +
                  ", or not issued for this address",
              false};
    }
    case E::SSLConnection:
      return {"the TLS handshake failed" +
                  (no_client_cert.empty()
                       ? std::string(" (does the member trust the CA of MVLAN_ETCD_CERT?)")
                       : no_client_cert),
              false};
    case E::SSLLoadingCerts:
      return {"cannot load MVLAN_ETCD_CACERT, MVLAN_ETCD_CERT or MVLAN_ETCD_KEY (a PEM file each)",
              false};
    default: return {httplib::to_string(err), true};
  }
}

std::optional<std::string> Client::call_round(const std::string& path, const std::string& body,
                                              std::string& failures, bool& reached) {
  const size_t n = endpoints_.size();
  const size_t first = preferred_.load();
  for (size_t k = 0; k < n; ++k) {
    const size_t index = (first + k) % n;
    Endpoint& e = *endpoints_[index];
    std::unique_ptr<httplib::Client> http;
    {
      std::lock_guard<std::mutex> lock(e.mutex);
      if (!e.idle.empty()) {
        http = std::move(e.idle.back());
        e.idle.pop_back();
      }
    }
    if (!http) {
      if (!settings_.cert_file.empty()) {
        http = std::make_unique<httplib::Client>(e.url, settings_.cert_file, settings_.key_file);
      } else {
        http = std::make_unique<httplib::Client>(e.url);
      }
      if (!settings_.ca_file.empty()) http->set_ca_cert_path(settings_.ca_file.c_str());
      const auto ms = settings_.timeout.count();
      http->set_connection_timeout(std::min<long long>(ms, 1000) / 1000,
                                   std::min<long long>(ms, 1000) % 1000 * 1000);
      http->set_read_timeout(ms / 1000, ms % 1000 * 1000);
      http->set_write_timeout(ms / 1000, ms % 1000 * 1000);
      http->set_keep_alive(true);
      // httplib writes the headers and the body of a POST in two send()s: with Nagle on, the
      // body waits for the ACK of the headers, which etcd delays by up to 40 ms (Linux's delayed
      // ACK), on every call, and a grant makes three.
      http->set_tcp_nodelay(true);
    }
    const auto sent = std::chrono::steady_clock::now();
    auto res = http->Post(path.c_str(), body, "application/json");
    if (!res) {
      const bool timed_out = std::chrono::steady_clock::now() - sent >= settings_.timeout;
      const Failure f = describe(res.error(), timed_out, e.url.rfind("https://", 0) == 0);
      failures += "; " + e.url + ": " + f.text;
      reached = reached || f.may_pass;
      continue;  // a broken connection is dropped, not returned to the idle list
    }
    reached = true;
    std::string detail;
    int code = 0;
    if (res->status != 200) {
      try {
        const json err = json::parse(res->body);
        detail = err.value("message", err.value("error", ""));
        code = err.value("code", 0);
      } catch (const json::exception&) {
        detail = res->body.substr(0, 200);
      }
    }
    {
      std::lock_guard<std::mutex> lock(e.mutex);
      e.idle.push_back(std::move(http));
    }
    if (res->status == 200) {
      preferred_.store(index);
      return res->body;
    }
    // gRPC codes Canceled (1), DeadlineExceeded (4), Unavailable (14), and any 5xx: this member
    // cannot serve now (no leader, lost quorum, stopping): another member may.
    if (code == 1 || code == 4 || code == 14 || res->status >= 500) {
      failures +=
          "; " + e.url + ": " + (detail.empty() ? "HTTP " + std::to_string(res->status) : detail);
      continue;
    }
    throw Error(ErrorKind::Store, "etcd at " + e.url + " refused " + path + ": " + detail);
  }
  return std::nullopt;
}

RangeResult Client::range(const std::string& key, const std::string& end, long long limit,
                          bool keys_only) {
  Op op = Op::range(key, end, limit);
  op.keys_only = keys_only;
  return gateway::range_answer(
      json::parse(call("/v3/kv/range", gateway::range_request(op).dump())));
}

TxnResult Client::txn(const Txn& t) {
  return gateway::txn_answer(json::parse(call("/v3/kv/txn", gateway::txn_request(t).dump())));
}

void Client::put(const std::string& key, const std::string& value, long long lease) {
  call("/v3/kv/put", gateway::put_request(Op::put(key, value, lease)).dump());
}

long long Client::grant_lease(int ttl_seconds) {
  const json reply =
      json::parse(call("/v3/lease/grant", json{{"TTL", std::to_string(ttl_seconds)}}.dump()));
  const long long id = number(reply, "ID");
  if (id == 0) throw Error(ErrorKind::Store, "etcd granted no lease: " + reply.value("error", ""));
  return id;
}

bool Client::keep_alive(long long lease) {
  // The gateway answers a one-message stream with {"result": {...}}; TTL 0 = the lease is gone.
  const json reply =
      json::parse(call("/v3/lease/keepalive", json{{"ID", std::to_string(lease)}}.dump()));
  const json& result = reply.contains("result") ? reply["result"] : reply;
  return number(result, "TTL") > 0;
}

void Client::revoke(long long lease) {
  call("/v3/lease/revoke", json{{"ID", std::to_string(lease)}}.dump());
}

}  // namespace mvlan::etcd
