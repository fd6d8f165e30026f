#pragma once
// What the etcd store's files share: how addresses are spelled in keys, how records are read
// (one, or a range page by page), and transactions: built over several keys, and retried as
// compare-and-swap. Internal to the etcd store.

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/error.h"
#include "etcd/client.h"
#include "ipam/address.h"
#include "ipam/pool.h"

namespace mvlan::ipam::etcd_records {

// What every file of the store speaks: JSON records and etcd's transaction parts. The files take
// these with the rest by one `using namespace etcd_records`.
using json = nlohmann::json;
using etcd::Compare;
using etcd::Op;
using MaybeKv = std::optional<etcd::KeyValue>;  // a key as read; none when absent

// A change races every other host's; each attempt re-reads. The bound keeps a request from
// spinning when dozens of clients chase the same few free addresses.
inline constexpr int kMaxAttempts = 40;

// Fixed-width lowercase hex of the address bytes: key order is numeric order.
std::string hex(const Address& a);
std::optional<Address> from_hex(const std::string& text);
std::string now_text();  // "2026-12-02T19:20:01Z"
long long now_ms();      // unix milliseconds
std::string nonce();     // a grant's token, to recognise our own commit after a lost answer
nlohmann::json parse_value(const etcd::KeyValue& kv);  // throws Error(Store) if no JSON record

// The binding a grant record carries ("name", "parked"), if any.
std::optional<Binding> binding_in(const nlohmann::json& record, const Address& a);

// True when the transaction's first failure range shows the record that `token` wrote: our own
// commit, by a member that then timed out, sent again to another member by the client.
bool committed(const etcd::TxnResult& r, const std::string& token);

// The key's record, if it exists.
MaybeKv read_one(etcd::Client& etcd, const std::string& key);

// Visits every key in [from, end) in key order until `visit` returns false, `page` keys per
// read: no single answer grows with the cluster.
void for_each_key(etcd::Client& etcd, std::string from, const std::string& end,
                  const std::function<bool(const etcd::KeyValue&)>& visit, long long page = 1000,
                  bool keys_only = false);

// A Store error from etcd, with what it left undone said after it.
Error undone(const Error& e, const std::string& what);
// A Store error: `what` changed under every attempt `to` do something with it.
Error kept_changing(const std::string& what, const std::string& to);

// One transaction over several keys, each compared once and written once (etcd refuses a
// transaction that writes a key twice): a later write to a key replaces an earlier one.
class TxnPlan {
 public:
  // The key is as read: unchanged since (its mod revision), or still absent (revision 0).
  void expect(const etcd::KeyValue& kv);
  void expect_absent(const std::string& key);
  void put(const std::string& key, std::string value);
  void erase(const std::string& key);
  size_t writes() const { return writes_.size(); }
  // The compares and writes; callers add failure ranges and nested transactions.
  etcd::Txn txn() const;

 private:
  std::map<std::string, etcd::Compare> compares_;
  std::map<std::string, etcd::Op> writes_;
};

// One attempt of a compare-and-swap, decided from what was last read (see retry()).
template <typename T>
struct Attempt {
  std::optional<T> answer;       // without txn: final (none: try again); with: once txn commits
  std::optional<etcd::Txn> txn;  // built to commit only if what it was decided from is unchanged
  std::string key;               // what the next attempt is decided from when txn fails
  std::string token;             // the grant token txn writes, if any (see committed())

  static Attempt done(T a) { return {std::move(a), std::nullopt, "", ""}; }
  static Attempt again() { return {std::nullopt, std::nullopt, "", ""}; }
  static Attempt commit(etcd::Txn t, std::string key, T a, std::string token = "") {
    return {std::move(a), std::move(t), std::move(key), std::move(token)};
  }
};

// Every change races the other hosts' on the same keys: `decide(last, n)` decides attempt n from
// `last` (the key as last read: first as given, then as the failed transaction saw it; none when
// absent) and says what to commit, or answers at once. A lost race decides again, at most
// kMaxAttempts times; none when every attempt lost.
template <typename T, typename Decide>
std::optional<T> retry(etcd::Client& etcd, MaybeKv last, Decide&& decide) {
  for (int n = 0; n < kMaxAttempts; ++n) {
    Attempt<T> a = decide(last, n);
    if (!a.txn) {
      if (a.answer) return a.answer;
      continue;
    }
    a.txn->failure.push_back(Op::range(a.key));
    const auto r = etcd.txn(*a.txn);
    if (r.succeeded || (!a.token.empty() && committed(r, a.token))) return a.answer;
    last.reset();
    if (!r.ranges.empty() && !r.ranges[0].kvs.empty()) last = r.ranges[0].kvs[0];
  }
  return std::nullopt;
}

}  // namespace mvlan::ipam::etcd_records
