// What a user reads when mvlan quotes their input back in an error: one short line of valid
// UTF-8, whatever arrived.

#include <catch2/catch.hpp>
#include <string>

#include "common/quote.h"

using mvlan::shown_bare;
using mvlan::shown_value;

TEST_CASE("plain input is quoted as it is, quotes and backslashes escaped as in JSON", "[quote]") {
  CHECK(shown_value("eth0") == "\"eth0\"");
  CHECK(shown_value("") == "\"\"");
  CHECK(shown_value("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(shown_value("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x90\xB3") ==
        "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x90\xB3\"");
}

TEST_CASE("control characters cannot break the line or the terminal", "[quote]") {
  CHECK(shown_value("a\nb\tc\rd") == "\"a\\nb\\tc\\rd\"");
  CHECK(shown_value(std::string("\x1B[31m", 5)) == "\"\\u001B[31m\"");
  CHECK(shown_value(std::string("x\0y", 3)) == "\"x\\u0000y\"");
  CHECK(shown_value("\x7F") == "\"\\u007F\"");
  CHECK(shown_value("\xC2\x85") == "\"\\u0085\"");          // C1 NEL
  CHECK(shown_value("\xE2\x80\xA8") == "\"\\u2028\"");      // LINE SEPARATOR
  CHECK(shown_value("\xE2\x80\xA9") == "\"\\u2029\"");      // PARAGRAPH SEPARATOR
}

TEST_CASE("bytes that are not UTF-8 are shown as \\xNN, one byte at a time", "[quote]") {
  CHECK(shown_value("a\xFF" "b") == "\"a\\xFFb\"");
  CHECK(shown_value("\xC0\x80") == "\"\\xC0\\x80\"");               // overlong NUL
  CHECK(shown_value("\xED\xA0\x80") == "\"\\xED\\xA0\\x80\"");       // a UTF-16 surrogate
  CHECK(shown_value("\xF4\x90\x80\x80") == "\"\\xF4\\x90\\x80\\x80\"");  // past U+10FFFF
  CHECK(shown_value("\xE2\x82") == "\"\\xE2\\x82\"");                // cut short
}

TEST_CASE("long input is cut after max bytes, never inside a character, with its size noted",
          "[quote]") {
  const std::string megabyte(1048576, 'x');
  const std::string shown = shown_value(megabyte);
  CHECK(shown == "\"" + std::string(64, 'x') + "...\" (1048576 bytes)");
  CHECK(shown_value("abcdef", 3) == "\"abc...\" (6 bytes)");
  // The 2-byte 'é' would end at byte 4: it is left out whole, not split.
  CHECK(shown_value("abc\xC3\xA9", 4) == "\"abc...\" (5 bytes)");
  CHECK(shown_value("abcdef", 6) == "\"abcdef\"");
}

TEST_CASE("the bare form has no quotes and leaves quotes and backslashes alone", "[quote]") {
  CHECK(shown_bare("{\"a\":\"b\\n\"}") == "{\"a\":\"b\\n\"}");
  CHECK(shown_bare("line\nbreak") == "line\\nbreak");
  CHECK(shown_bare("abcdef", 2) == "ab... (6 bytes)");
}
