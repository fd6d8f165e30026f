#pragma once
// The bodies the client sends to etcd's v3 JSON gateway and reads back. Internal to etcd/.

#include <nlohmann/json.hpp>

#include "etcd/client.h"

namespace mvlan::etcd::gateway {

using json = nlohmann::json;

// /v3/kv/range, /v3/kv/put and /v3/kv/txn bodies; an Op of kind Range or Put respectively.
json range_request(const Op& op);
json put_request(const Op& op);
json txn_request(const Txn& txn);

RangeResult range_answer(const json& reply);
TxnResult txn_answer(const json& reply);

// An int64 field, which the gateway prints as a string; 0 when absent.
long long number(const json& j, const char* field);

}  // namespace mvlan::etcd::gateway
