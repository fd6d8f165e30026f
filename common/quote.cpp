#include "common/quote.h"

#include <cstdint>
#include <cstdio>

namespace mvlan {
namespace {

// The length of the UTF-8 character at `s[i]`, or 0 when the bytes there are not one (overlong
// forms, surrogates and code points past U+10FFFF included).
std::size_t utf8_length(std::string_view s, std::size_t i, std::uint32_t& code_point) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = byte(i);
  std::size_t n = 0;
  std::uint32_t min = 0;
  if (b < 0x80) {
    code_point = b;
    return 1;
  }
  if ((b & 0xe0) == 0xc0) {
    n = 2, min = 0x80, code_point = b & 0x1f;
  } else if ((b & 0xf0) == 0xe0) {
    n = 3, min = 0x800, code_point = b & 0x0f;
  } else if ((b & 0xf8) == 0xf0) {
    n = 4, min = 0x10000, code_point = b & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i + k) & 0x3f);
  }
  if (code_point < min || code_point > 0x10ffff) return 0;
  if (code_point >= 0xd800 && code_point <= 0xdfff) return 0;
  return n;
}

bool is_control(std::uint32_t c) {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029;
}

std::string render(std::string_view value, std::size_t max, bool quoted) {
  std::string out;
  if (quoted) out += '"';
  std::size_t i = 0;
  while (i < value.size()) {
    std::uint32_t c = 0;
    const std::size_t n = utf8_length(value, i, c);
    if (i + (n ? n : 1) > max) break;
    char buf[16];
    if (n == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(value[i]));
      out += buf;
      i += 1;
      continue;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (is_control(c)) {
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(c));
      out += buf;
    } else if (quoted && (c == '"' || c == '\\')) {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out.append(value.substr(i, n));
    }
    i += n;
  }
  if (i < value.size()) out += "...";
  if (quoted) out += '"';
  if (i < value.size()) out += " (" + std::to_string(value.size()) + " bytes)";
  return out;
}

}  // namespace

std::string quote(std::string_view value, std::size_t max) {
  return render(value, max, true);
}

std::string quote_bare(std::string_view value, std::size_t max) {
  return render(value, max, false);
}

}  // namespace mvlan
