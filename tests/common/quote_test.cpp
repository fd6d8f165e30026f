// What a user reads when mvlan quotes their input back in an error: one short line of valid
// UTF-8, whatever arrived.

#include "common/quote.h"

#include <catch2/catch.hpp>
#include <string>

using mvlan::quote;
using mvlan::quote_bare;

TEST_CASE("plain input is quoted as it is, quotes and backslashes escaped as in JSON", "[quote]") {
  CHECK(quote("eth0") == "\"eth0\"");
  CHECK(quote("") == "\"\"");
  CHECK(quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(quote("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x90\xB3") ==
        "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x90\xB3\"");
}

TEST_CASE("control characters cannot break the line or the terminal", "[quote]") {
  CHECK(quote("a\nb\tc\rd") == "\"a\\nb\\tc\\rd\"");
  CHECK(quote(std::string("\x1B[31m", 5)) == "\"\\u001B[31m\"");
  CHECK(quote(std::string("x\0y", 3)) == "\"x\\u0000y\"");
  CHECK(quote("\x7F") == "\"\\u007F\"");
  CHECK(quote("\xC2\x85") == "\"\\u0085\"");      // C1 NEL
  CHECK(quote("\xE2\x80\xA8") == "\"\\u2028\"");  // LINE SEPARATOR
  CHECK(quote("\xE2\x80\xA9") == "\"\\u2029\"");  // PARAGRAPH SEPARATOR
}

TEST_CASE("bytes that are not UTF-8 are shown as \\xNN, one byte at a time", "[quote]") {
  CHECK(quote("a\xFF"
              "b") == "\"a\\xFFb\"");
  CHECK(quote("\xC0\x80") == "\"\\xC0\\x80\"");                    // overlong NUL
  CHECK(quote("\xED\xA0\x80") == "\"\\xED\\xA0\\x80\"");           // a UTF-16 surrogate
  CHECK(quote("\xF4\x90\x80\x80") == "\"\\xF4\\x90\\x80\\x80\"");  // past U+10FFFF
  CHECK(quote("\xE2\x82") == "\"\\xE2\\x82\"");                    // cut short
}

TEST_CASE("long input is cut after max bytes, never inside a character, with its size noted",
          "[quote]") {
  const std::string megabyte(1048576, 'x');
  const std::string shown = quote(megabyte);
  CHECK(shown == "\"" + std::string(64, 'x') + "...\" (1048576 bytes)");
  CHECK(quote("abcdef", 3) == "\"abc...\" (6 bytes)");
  // The 2-byte 'é' would end at byte 4: it is left out whole, not split.
  CHECK(quote("abc\xC3\xA9", 4) == "\"abc...\" (5 bytes)");
  CHECK(quote("abcdef", 6) == "\"abcdef\"");
}

TEST_CASE("the bare form has no quotes and leaves quotes and backslashes alone", "[quote]") {
  CHECK(quote_bare("{\"a\":\"b\\n\"}") == "{\"a\":\"b\\n\"}");
  CHECK(quote_bare("line\nbreak") == "line\\nbreak");
  CHECK(quote_bare("abcdef", 2) == "ab... (6 bytes)");
}
