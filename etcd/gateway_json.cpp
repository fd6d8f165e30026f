// How etcd's v3 JSON gateway (grpc-gateway) spells requests and answers: keys and values in
// base64, int64 fields as strings, enums by name.

#include "etcd/gateway_json.h"

#include <cstring>

namespace mvlan::etcd::gateway {
namespace {

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

const char* target_name(Compare::Target t) {
  switch (t) {
    case Compare::Target::Create: return "CREATE";
    case Compare::Target::Mod: return "MOD";
    case Compare::Target::Value: return "VALUE";
  }
  return "CREATE";
}

const char* result_name(Compare::Result r) {
  switch (r) {
    case Compare::Result::Equal: return "EQUAL";
    case Compare::Result::NotEqual: return "NOT_EQUAL";
    case Compare::Result::Less: return "LESS";
    case Compare::Result::Greater: return "GREATER";
  }
  return "EQUAL";
}

json to_json(const Txn& txn);

json to_json(const Op& op) {
  switch (op.kind) {
    case Op::Kind::Range: return json{{"request_range", range_request(op)}};
    case Op::Kind::Put: return json{{"request_put", put_request(op)}};
    case Op::Kind::Delete: {
      json d{{"key", base64(op.key)}};
      if (!op.range_end.empty()) d["range_end"] = base64(op.range_end);
      return json{{"request_delete_range", d}};
    }
    case Op::Kind::Txn: return json{{"request_txn", to_json(*op.txn)}};
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
      case Compare::Target::Create: j["create_revision"] = std::to_string(c.revision); break;
      case Compare::Target::Mod: j["mod_revision"] = std::to_string(c.revision); break;
      case Compare::Target::Value: j["value"] = base64(c.value); break;
    }
    out["compare"].push_back(j);
  }
  for (const auto& op : txn.success) out["success"].push_back(to_json(op));
  for (const auto& op : txn.failure) out["failure"].push_back(to_json(op));
  return out;
}

}  // namespace

// The gateway prints int64 fields as strings.
long long number(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end()) return 0;
  if (it->is_string()) return std::stoll(it->get<std::string>());
  if (it->is_number()) return it->get<long long>();
  return 0;
}

json range_request(const Op& op) {
  json r{{"key", base64(op.key)}};
  if (!op.range_end.empty()) r["range_end"] = base64(op.range_end);
  if (op.limit) r["limit"] = std::to_string(op.limit);
  if (op.keys_only) r["keys_only"] = true;
  return r;
}

json put_request(const Op& op) {
  json p{{"key", base64(op.key)}, {"value", base64(op.value)}};
  if (op.lease) p["lease"] = std::to_string(op.lease);
  return p;
}

json txn_request(const Txn& txn) {
  return to_json(txn);
}

RangeResult range_answer(const json& j) {
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

TxnResult txn_answer(const json& reply) {
  TxnResult out;
  out.succeeded = reply.value("succeeded", false);
  if (auto responses = reply.find("responses"); responses != reply.end()) {
    for (const auto& r : *responses) {
      if (auto range = r.find("response_range"); range != r.end()) {
        out.ranges.push_back(range_answer(*range));
      }
    }
  }
  return out;
}

}  // namespace mvlan::etcd::gateway
