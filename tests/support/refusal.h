#pragma once
// What a call was refused with, as a user reads it: the message of the exception of type E it
// threw, or "accepted". Tests compare refusals by their text, so any other exception escapes and
// fails the test where it happened.

#include <functional>
#include <string>

namespace mvlan::test {

template <typename E>
std::string refusal_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const E& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace mvlan::test
