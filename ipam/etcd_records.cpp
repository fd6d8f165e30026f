#include "ipam/etcd_records.h"

#include <chrono>
#include <ctime>
#include <random>

#include "common/error.h"

namespace mvlan::ipam::etcd_records {

std::string hex(const Address& a) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : a.bytes()) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::optional<Address> from_hex(const std::string& text) {
  if (text.size() != 8 && text.size() != 32) return std::nullopt;
  std::string bytes;
  for (size_t i = 0; i < text.size(); i += 2) {
    const std::string pair = text.substr(i, 2);
    if (pair.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
    bytes += static_cast<char>(std::stoi(pair, nullptr, 16));
  }
  return Address::from_bytes(bytes);
}

std::string now_text() {
  char buf[32];
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

long long now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string nonce() {
  thread_local std::mt19937_64 g{std::random_device{}()};
  return std::to_string(g());
}

json parse_value(const etcd::KeyValue& kv) {
  try {
    return json::parse(kv.value);
  } catch (const json::exception&) {
    throw Error(ErrorKind::Store, "etcd key " + kv.key + " holds no mvlan record");
  }
}

std::optional<Binding> binding_in(const json& record, const Address& a) {
  const std::string name = record.value("name", "");
  if (name.empty()) return std::nullopt;
  Binding b{name, a, std::nullopt};
  if (record.contains("parked")) b.parked_at = record["parked"].get<long long>();
  return b;
}

bool committed(const etcd::TxnResult& r, const std::string& token) {
  return !r.ranges.empty() && !r.ranges[0].kvs.empty() &&
         parse_value(r.ranges[0].kvs[0]).value("grant", "") == token;
}

MaybeKv read_one(etcd::Client& etcd, const std::string& key) {
  auto kvs = etcd.range(key).kvs;
  if (kvs.empty()) return std::nullopt;
  return kvs[0];
}

void for_each_key(etcd::Client& etcd, std::string from, const std::string& end,
                  const std::function<bool(const etcd::KeyValue&)>& visit, long long page,
                  bool keys_only) {
  for (;;) {
    const auto read = etcd.range(from, end, page, keys_only);
    for (const auto& kv : read.kvs) {
      if (!visit(kv)) return;
    }
    if (!read.more || read.kvs.empty()) return;
    from = read.kvs.back().key + '\0';
  }
}

Error undone(const Error& e, const std::string& what) {
  return Error(ErrorKind::Store, std::string(e.what()) + "; " + what);
}

Error kept_changing(const std::string& what, const std::string& to) {
  return Error(ErrorKind::Store, "etcd: " + what + " kept changing under " +
                                     std::to_string(kMaxAttempts) + " attempts to " + to +
                                     "; try again");
}

void TxnPlan::expect(const etcd::KeyValue& kv) {
  if (kv.mod_revision == 0) return expect_absent(kv.key);
  compares_[kv.key] = {kv.key, etcd::Compare::Target::Mod, etcd::Compare::Result::Equal,
                       kv.mod_revision, ""};
}

void TxnPlan::expect_absent(const std::string& key) {
  compares_[key] = {key, etcd::Compare::Target::Create, etcd::Compare::Result::Equal, 0, ""};
}

void TxnPlan::put(const std::string& key, std::string value) {
  writes_.insert_or_assign(key, etcd::Op::put(key, std::move(value)));
}

void TxnPlan::erase(const std::string& key) {
  writes_.insert_or_assign(key, etcd::Op::erase(key));
}

etcd::Txn TxnPlan::txn() const {
  etcd::Txn t;
  for (const auto& [key, c] : compares_) t.compare.push_back(c);
  for (const auto& [key, op] : writes_) t.success.push_back(op);
  return t;
}

}  // namespace mvlan::ipam::etcd_records
