#pragma once
// The few etcd v3 calls mvlan needs, spoken to etcd's JSON gateway (/v3/kv/*, /v3/lease/*) with
// cpp-httplib: no gRPC library. Keys and values are plain bytes here; base64 stays inside.
// Every call tries the endpoints in turn and throws Error(Store) naming etcd, the endpoints and
// "unreachable or without quorum" when none answers: callers never fall back to anything local.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace httplib {
class Client;
enum class Error;
}  // namespace httplib

namespace mvlan::etcd {

struct Settings {
  std::vector<std::string> endpoints;  // http://host:port or https://host:port
  std::string ca_file;                 // https: the CA that signed the members' certificates
  std::string cert_file, key_file;     // https: a client certificate, when etcd asks for one
  std::chrono::milliseconds timeout{5000};
};

struct KeyValue {
  std::string key, value;
  long long create_revision = 0;
  long long mod_revision = 0;
  long long lease = 0;
};

struct Compare {
  enum class Target { Create, Mod, Value };
  enum class Result { Equal, NotEqual, Less, Greater };
  std::string key;
  Target target = Target::Create;
  Result result = Result::Equal;
  long long revision = 0;  // Create / Mod
  std::string value;       // Value
};

struct Txn;
struct Op {
  enum class Kind { Range, Put, Delete, Txn };
  // Every field has a default, so the builders below name only the fields their kind uses.
  Kind kind = Kind::Range;
  std::string key{};
  std::string range_end{};  // Range / Delete: "" for the key alone
  std::string value{};      // Put
  long long lease = 0;      // Put
  long long limit = 0;      // Range
  bool keys_only = false;
  std::shared_ptr<Txn> txn{};  // Txn: a nested transaction (etcd >= 3.3)

  static Op range(std::string key, std::string end = "", long long limit = 0);
  static Op put(std::string key, std::string value, long long lease = 0);
  static Op erase(std::string key);
  static Op nested(Txn txn);
};

struct Txn {
  std::vector<Compare> compare;
  std::vector<Op> success, failure;
};

struct RangeResult {
  std::vector<KeyValue> kvs;
  bool more = false;
};

struct TxnResult {
  bool succeeded = false;
  std::vector<RangeResult> ranges;  // one per Range op of the branch taken, in order
};

// The first key after every key that starts with `prefix` (etcd's range_end for a prefix).
std::string prefix_end(std::string prefix);

class Client {
 public:
  explicit Client(Settings settings);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  RangeResult range(const std::string& key, const std::string& end = "", long long limit = 0,
                    bool keys_only = false);
  TxnResult txn(const Txn& txn);
  void put(const std::string& key, const std::string& value, long long lease = 0);

  long long grant_lease(int ttl_seconds);
  // False when etcd no longer knows the lease (it expired): grant a new one.
  bool keep_alive(long long lease);
  void revoke(long long lease);

  // "http://a:2379,http://b:2379", for messages.
  std::string endpoints() const;

 private:
  struct Endpoint;
  // Pause between rounds of trying every member (see call()).
  static constexpr std::chrono::milliseconds kRoundPause{250};

  std::string call(const std::string& path, const std::string& body);
  // One try of each member; the answer, or nullopt with what each said appended to `failures`
  // and `reached` set when a member accepted the connection.
  std::optional<std::string> call_round(const std::string& path, const std::string& body,
                                        std::string& failures, bool& reached);
  std::string timeout_text() const;  // "5 s"
  // Why a member gave no HTTP answer, in the user's terms; may_pass: trying again soon may
  // succeed (a broken connection may; a refused certificate or a closed port will not).
  struct Failure {
    std::string text;
    bool may_pass;
  };
  Failure describe(httplib::Error err, bool timed_out, bool https) const;

  Settings settings_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  std::atomic<size_t> preferred_{0};  // the endpoint that answered last: tried first
};

}  // namespace mvlan::etcd
