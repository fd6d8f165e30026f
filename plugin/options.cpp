#include "plugin/options.h"

#include <stdexcept>

#include "ipam/allocator.h"

extern char** environ;

namespace mvlan::plugin {
namespace {

std::string env_or(const Environment& env, const char* name, const std::string& fallback) {
  auto it = env.find(name);
  return it == env.end() || it->second.empty() ? fallback : it->second;
}

log::Level level_from(const std::string& text, const std::string& source) {
  auto level = log::parse_level(text);
  if (!level) {
    throw std::invalid_argument(source + " \"" + text +
                                "\" is not a log level; use debug, info, warn or error");
  }
  return *level;
}

// Reads "--name value" or "--name=value" at args[i]; advances i past what it consumed.
bool take_value(const std::vector<std::string>& args, size_t& i, const std::string& name,
                std::string& out) {
  const std::string& a = args[i];
  if (a == name) {
    if (i + 1 >= args.size()) throw std::invalid_argument(name + " needs a value");
    out = args[++i];
    return true;
  }
  if (a.rfind(name + "=", 0) == 0) {
    out = a.substr(name.size() + 1);
    return true;
  }
  return false;
}

}  // namespace

Environment process_environment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string::npos &&
        (entry.rfind("MVLAN_", 0) == 0 || entry.rfind("LOG_LEVEL=", 0) == 0)) {
      env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
  }
  return env;
}

ServeOptions parse_serve(const std::vector<std::string>& args, const Environment& env) {
  ServeOptions o;
  o.socket = env_or(env, "MVLAN_SOCKET", o.socket);
  o.state_dir = env_or(env, "MVLAN_STATE_DIR", o.state_dir);
  o.default_pools = env_or(env, "MVLAN_DEFAULT_POOLS", ipam::kDefaultPools);
  // --log-level, else MVLAN_LOG_LEVEL, else LOG_LEVEL (the managed plugin's settable name).
  std::string level = "info";
  std::string level_source = "default";
  for (const char* name : {"LOG_LEVEL", "MVLAN_LOG_LEVEL"}) {
    const std::string v = env_or(env, name, "");
    if (!v.empty()) {
      level = v;
      level_source = name;
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    std::string v;
    if (take_value(args, i, "--socket", v)) {
      o.socket = v;
    } else if (take_value(args, i, "--state-dir", v)) {
      o.state_dir = v;
    } else if (take_value(args, i, "--log-level", v)) {
      level = v;
      level_source = "--log-level";
    } else {
      throw std::invalid_argument("unknown argument \"" + args[i] +
                                  "\" for serve; valid: --socket PATH, --state-dir DIR, "
                                  "--log-level debug|info|warn|error");
    }
  }
  o.log_level = level_from(level, level_source);
  if (o.socket.empty() || o.socket[0] != '/') {
    throw std::invalid_argument("--socket \"" + o.socket + "\" must be an absolute path");
  }
  if (o.state_dir.empty() || o.state_dir[0] != '/') {
    throw std::invalid_argument("--state-dir \"" + o.state_dir + "\" must be an absolute path");
  }
  return o;
}

StatusOptions parse_status(const std::vector<std::string>& args, const Environment& env) {
  StatusOptions o;
  o.state_dir = env_or(env, "MVLAN_STATE_DIR", o.state_dir);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string v;
    if (args[i] == "--json") {
      o.json = true;
    } else if (take_value(args, i, "--state-dir", v)) {
      o.state_dir = v;
    } else {
      throw std::invalid_argument("unknown argument \"" + args[i] +
                                  "\" for status; valid: --state-dir DIR, --json");
    }
  }
  return o;
}

std::string database_path(const std::string& state_dir) {
  return state_dir + "/mvlan.db";
}

}  // namespace mvlan::plugin
