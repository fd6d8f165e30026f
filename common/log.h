#pragma once
// One line per event on stderr (Docker captures a managed plugin's stderr into its own log):
// requests at debug, state changes at info.

#include <optional>
#include <string>
#include <string_view>

namespace mvlan::log {

enum class Level { Debug, Info, Warn, Error };

std::optional<Level> parse_level(std::string_view text);
void set_level(Level level);
bool enabled(Level level);
void write(Level level, std::string_view message);

inline void debug(std::string_view m) {
  if (enabled(Level::Debug)) write(Level::Debug, m);
}
inline void info(std::string_view m) {
  if (enabled(Level::Info)) write(Level::Info, m);
}
inline void warn(std::string_view m) {
  if (enabled(Level::Warn)) write(Level::Warn, m);
}
inline void error(std::string_view m) {
  write(Level::Error, m);
}

}  // namespace mvlan::log
