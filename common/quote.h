#pragma once
// User input quoted into an error message. Whatever arrived (a megabyte, a newline, a lone 0xff
// byte), the message stays one short line of valid UTF-8 that reads the same in `docker` output,
// in the JSON envelope and in the log.

#include <cstddef>
#include <string>
#include <string_view>

namespace mvlan {

// `value` in double quotes, cut after `max` bytes (never inside a character) with its full size
// noted: "eth0\n..." (1048576 bytes). Quotes and backslashes are escaped as in JSON, control
// characters (C0, DEL, C1, U+2028/9) as \n, \t, \r or \u00XX, bytes that are not UTF-8 as \xFF.
std::string quote(std::string_view value, std::size_t max = 64);

// The same without the quotes, and with quotes and backslashes left alone: for a JSON fragment,
// a key or a path inside a message.
std::string quote_bare(std::string_view value, std::size_t max = 64);

}  // namespace mvlan
