#pragma once
// What etcd_pool_store.cpp and etcd_bindings.cpp share: how addresses are spelled in keys, how a
// record is read, and transactions built over several keys. Internal to the etcd store.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ipam/address.h"
#include "etcd/client.h"
#include "ipam/pool.h"

namespace mvlan::ipam::etcd_records {

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

}  // namespace mvlan::ipam::etcd_records
