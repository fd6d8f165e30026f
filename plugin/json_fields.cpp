#include "plugin/json_fields.h"

#include <set>
#include <vector>

#include "common/error.h"
#include "common/quote.h"
#include "plugin/mac.h"

namespace mvlan::plugin {
namespace {

constexpr int kMaxDepth = 32;

std::string shown(const json& value) {
  if (value.is_string()) return quote(value.get_ref<const std::string&>());
  return quote_bare(value.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string expected(const std::string& field, const char* what, const json& got) {
  const std::string message = "field " + field + " must be " + what + ", got " + type_name(got);
  return got.is_null() ? message : message + " " + shown(got);
}

// Tracks the keys of every open object so a repeated key is refused rather than silently
// overwritten (two different readers of one body must never see two different requests).
class StrictSax : public nlohmann::detail::json_sax_dom_parser<json> {
 public:
  explicit StrictSax(json& out) : json_sax_dom_parser(out, true) {}
  bool start_object(std::size_t n) {
    if (++depth_ > kMaxDepth) throw invalid("request body nests deeper than 32 levels");
    keys_.emplace_back();
    return json_sax_dom_parser::start_object(n);
  }
  bool end_object() {
    --depth_;
    keys_.pop_back();
    return json_sax_dom_parser::end_object();
  }
  bool start_array(std::size_t n) {
    if (++depth_ > kMaxDepth) throw invalid("request body nests deeper than 32 levels");
    return json_sax_dom_parser::start_array(n);
  }
  bool end_array() {
    --depth_;
    return json_sax_dom_parser::end_array();
  }
  bool key(string_t& k) {
    if (!keys_.back().insert(k).second) {
      throw invalid("request body repeats the key " + quote(k) + " in one object");
    }
    return json_sax_dom_parser::key(k);
  }

 private:
  int depth_ = 0;
  std::vector<std::set<std::string>> keys_;
};

}  // namespace

bool is_blank(const std::string& body) {
  return body.find_first_not_of(" \t\r\n") == std::string::npos;
}

json parse_body(const std::string& body) {
  if (is_blank(body)) return json::object();
  json out;
  StrictSax sax(out);
  bool ok = false;
  try {
    ok = json::sax_parse(body, &sax, json::input_format_t::json, true, false);
  } catch (const json::exception& e) {
    // The parser quotes the bytes it stopped at: they are the request's, so they are shown safely.
    throw invalid("request body is not valid JSON: " + quote_bare(e.what(), 200));
  }
  if (!ok || sax.is_errored()) throw invalid("request body is not valid JSON");
  if (!out.is_object()) {
    throw invalid("request body must be a JSON object, got " + type_name(out));
  }
  return out;
}

std::string type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::binary: return "binary data";
    case json::value_t::discarded: return "nothing";
    default: return "a number";
  }
}

std::string required_string(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end()) throw invalid(std::string("missing field ") + field + " (a string)");
  if (!it->is_string()) throw invalid(expected(field, "a string", *it));
  return it->get<std::string>();
}

std::string optional_string(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return {};
  if (!it->is_string()) throw invalid(expected(field, "a string", *it));
  return it->get<std::string>();
}

bool optional_bool(const json& body, const char* field, bool fallback) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw invalid(expected(field, "true or false", *it));
  return it->get<bool>();
}

std::map<std::string, std::string> string_map(const json& body, const char* field) {
  std::map<std::string, std::string> out;
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_object()) throw invalid(expected(field, "an object of strings", *it));
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) {
      throw invalid(expected(std::string(field) + "." + quote_bare(k), "a string", v));
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

kernel::Mac mac_field(const std::string& field, const std::string& text) {
  const auto mac = parse_mac(text);
  if (!mac) {
    throw invalid("field " + field + " " + quote(text) +
                  " is not a MAC address such as 02:42:c0:00:02:0a");
  }
  return *mac;
}

json optional_object(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return json::object();
  if (!it->is_object()) throw invalid(expected(field, "an object", *it));
  return *it;
}

}  // namespace mvlan::plugin
