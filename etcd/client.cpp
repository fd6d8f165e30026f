#include "etcd/client.h"

#include <httplib.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/error.h"

namespace mvlan::etcd {
namespace {

using json = nlohmann::json;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(const std::string& in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s : {18, 12, 6, 0}) out += kAlphabet[(v >> s) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string unbase64(const std::string& in) {
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = std::strchr(kAlphabet, c);
    if (c == '=' || c == '\0' || !p) break;
    v = (v << 6) | static_cast<unsigned>(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xff);
    }
  }
  return out;
}

// The gateway prints int64 fields as strings.
long long number(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end()) return 0;
  if (it->is_string()) return std::stoll(it->get<std::string>());
  if (it->is_number()) return it->get<long long>();
  return 0;
}

const char* target_name(Compare::Target t) {
  switch (t) {
    case Compare::Target::Create:
      return "CREATE";
    case Compare::Target::Mod:
      return "MOD";
    case Compare::Target::Value:
      return "VALUE";
  }
  return "CREATE";
}

const char* result_name(Compare::Result r) {
  switch (r) {
    case Compare::Result::Equal:
      return "EQUAL";
    case Compare::Result::NotEqual:
      return "NOT_EQUAL";
    case Compare::Result::Less:
      return "LESS";
    case Compare::Result::Greater:
      return "GREATER";
  }
  return "EQUAL";
}

json to_json(const Txn& txn);

json to_json(const Op& op) {
  switch (op.kind) {
    case Op::Kind::Range: {
      json r{{"key", base64(op.key)}};
      if (!op.range_end.empty()) r["range_end"] = base64(op.range_end);
      if (op.limit) r["limit"] = std::to_string(op.limit);
      if (op.keys_only) r["keys_only"] = true;
      return json{{"request_range", r}};
    }
    case Op::Kind::Put: {
      json p{{"key", base64(op.key)}, {"value", base64(op.value)}};
      if (op.lease) p["lease"] = std::to_string(op.lease);
      return json{{"request_put", p}};
    }
    case Op::Kind::Delete: {
      json d{{"key", base64(op.key)}};
      if (!op.range_end.empty()) d["range_end"] = base64(op.range_end);
      return json{{"request_delete_range", d}};
    }
    case Op::Kind::Txn:
      return json{{"request_txn", to_json(*op.txn)}};
  }
  return json::object();
}

json to_json(const Txn& txn) {
  json out{{"compare", json::array()}, {"success", json::array()}, {"failure", json::array()}};
  for (const auto& c : txn.compare) {
    json j{{"key", base64(c.key)},
           {"target", target_name(c.target)},
           {"result", result_name(c.result)}};
    switch (c.target) {
      case Compare::Target::Create:
        j["create_revision"] = std::to_string(c.revision);
        break;
      case Compare::Target::Mod:
        j["mod_revision"] = std::to_string(c.revision);
        break;
      case Compare::Target::Value:
        j["value"] = base64(c.value);
        break;
    }
    out["compare"].push_back(j);
  }
  for (const auto& op : txn.success) out["success"].push_back(to_json(op));
  for (const auto& op : txn.failure) out["failure"].push_back(to_json(op));
  return out;
}

RangeResult range_from(const json& j) {
  RangeResult r;
  if (auto kvs = j.find("kvs"); kvs != j.end() && kvs->is_array()) {
    for (const auto& kv : *kvs) {
      r.kvs.push_back(KeyValue{unbase64(kv.value("key", "")), unbase64(kv.value("value", "")),
                               number(kv, "create_revision"), number(kv, "mod_revision"),
                               number(kv, "lease")});
    }
  }
  r.more = j.value("more", false);
  return r;
}

}  // namespace

Op Op::range(std::string key, std::string end, long long limit) {
  Op op;
  op.kind = Kind::Range;
  op.key = std::move(key);
  op.range_end = std::move(end);
  op.limit = limit;
  return op;
}

Op Op::put(std::string key, std::string value, long long lease) {
  Op op;
  op.kind = Kind::Put;
  op.key = std::move(key);
  op.value = std::move(value);
  op.lease = lease;
  return op;
}

Op Op::erase(std::string key) {
  Op op;
  op.kind = Kind::Delete;
  op.key = std::move(key);
  return op;
}

Op Op::nested(Txn txn) {
  Op op;
  op.kind = Kind::Txn;
  op.txn = std::make_shared<Txn>(std::move(txn));
  return op;
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
    case E::ConnectionTimeout:
      return {"cannot connect", false};
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
    default:
      return {httplib::to_string(err), true};
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
  json body{{"key", base64(key)}};
  if (!end.empty()) body["range_end"] = base64(end);
  if (limit) body["limit"] = std::to_string(limit);
  if (keys_only) body["keys_only"] = true;
  return range_from(json::parse(call("/v3/kv/range", body.dump())));
}

TxnResult Client::txn(const Txn& t) {
  const json reply = json::parse(call("/v3/kv/txn", to_json(t).dump()));
  TxnResult out;
  out.succeeded = reply.value("succeeded", false);
  if (auto responses = reply.find("responses"); responses != reply.end()) {
    for (const auto& r : *responses) {
      if (auto range = r.find("response_range"); range != r.end()) {
        out.ranges.push_back(range_from(*range));
      }
    }
  }
  return out;
}

void Client::put(const std::string& key, const std::string& value, long long lease) {
  json body{{"key", base64(key)}, {"value", base64(value)}};
  if (lease) body["lease"] = std::to_string(lease);
  call("/v3/kv/put", body.dump());
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
