#pragma once
// Typed reads of request fields. Each failure names the field, what arrived and what is valid,
// so a malformed request gets an answer a person can act on.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "netlink/kernel.h"

namespace mvlan::plugin {

using json = nlohmann::json;

// Parses a request body; "" is an empty object (Docker sends no body for some calls).
// Refuses invalid JSON, non-objects, nesting deeper than 32 and duplicate keys.
json parse_body(const std::string& body);
// Nothing but whitespace: what parse_body reads as an empty object.
bool is_blank(const std::string& body);

std::string type_name(const json& value);

// A required string (present, a string). Empty strings pass; callers decide.
std::string required_string(const json& body, const char* field);
// An optional string: absent or null gives "".
std::string optional_string(const json& body, const char* field);
bool optional_bool(const json& body, const char* field, bool fallback);
// An object of string values, or absent/null (empty map).
std::map<std::string, std::string> string_map(const json& body, const char* field);
// An object (any values), or absent/null (empty object).
json optional_object(const json& body, const char* field);

// A MAC address field's text ("02:42:c0:00:02:0a"), named `field` in the refusal.
kernel::Mac mac_field(const std::string& field, const std::string& text);

}  // namespace mvlan::plugin
