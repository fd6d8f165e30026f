#include "plugin/options.h"

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <regex>
#include <stdexcept>

#include "common/quote.h"
#include "ipam/allocator.h"

extern char** environ;

namespace mvlan::plugin {
namespace {

std::string env_or(const Environment& env, const char* name, const std::string& fallback) {
  auto it = env.find(name);
  return it == env.end() || it->second.empty() ? fallback : it->second;
}

// Whole seconds from `min` to `max` in variable `name` ("" or unset: `fallback`).
std::chrono::seconds env_seconds(const Environment& env, const char* name, int fallback, int min,
                                 int max) {
  const std::string text = env_or(env, name, std::to_string(fallback));
  const int max_digits = static_cast<int>(std::to_string(max).size());
  if (static_cast<int>(text.size()) > max_digits ||
      text.find_first_not_of("0123456789") != std::string::npos || std::stoi(text) < min ||
      std::stoi(text) > max) {
    throw std::invalid_argument(std::string(name) + " " + quote(text, 20) +
                                " must be whole seconds from " + std::to_string(min) + " to " +
                                std::to_string(max) + " (default " + std::to_string(fallback) +
                                ")");
  }
  return std::chrono::seconds(std::stoi(text));
}

log::Level level_from(const std::string& text, const std::string& source) {
  auto level = log::parse_level(text);
  if (!level) {
    throw std::invalid_argument(source + " " + quote(text) +
                                " is not a log level; use debug, info, warn or error");
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

using Setter = std::function<void(std::string)>;
using Other = std::function<bool(const std::string&)>;
Setter into(std::string& field) {
  return [&field](std::string v) { field = std::move(v); };
}

// Walks a command's arguments: each flag of `values` ("--name value" or "--name=value") goes to
// its setter, anything else to `other`, which says whether it took it (a switch, a positional
// name). An argument neither takes is refused, quoted, with the command's `usage`.
void read_args(
    const std::vector<std::string>& args, const std::string& command, const std::string& usage,
    const std::vector<std::pair<std::string, Setter>>& values,
    const Other& other = [](const std::string&) { return false; }) {
  for (size_t i = 0; i < args.size(); ++i) {
    bool taken = false;
    for (const auto& [name, set] : values) {
      std::string v;
      if ((taken = take_value(args, i, name, v))) {
        set(std::move(v));
        break;
      }
    }
    if (!taken && !other(args[i])) {
      throw std::invalid_argument("unknown argument " + quote(args[i], 80) + " for " + command +
                                  "; " + usage);
    }
  }
}

// Takes `a` as the command's one positional argument, if it is not a flag and none came before.
bool positional(const std::string& a, std::string& field) {
  if (!field.empty() || a.empty() || a[0] == '-') return false;
  field = a;
  return true;
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
  o.join_grace = env_seconds(env, "MVLAN_JOIN_GRACE", 60, 0, 3600);
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
  read_args(args, "serve",
            "valid: --socket PATH, --state-dir DIR, --log-level debug|info|warn|error",
            {{"--socket", into(o.socket)},
             {"--state-dir", into(o.state_dir)},
             {"--log-level", [&](std::string v) {
                level = std::move(v);
                level_source = "--log-level";
              }}});
  o.log_level = level_from(level, level_source);
  o.ipam = parse_ipam_backend(env);
  if (o.socket.empty() || o.socket[0] != '/') {
    throw std::invalid_argument("--socket " + quote(o.socket, 200) + " must be an absolute path");
  }
  if (o.state_dir.empty() || o.state_dir[0] != '/') {
    throw std::invalid_argument("--state-dir " + quote(o.state_dir, 200) +
                                " must be an absolute path");
  }
  return o;
}

StatusOptions parse_status(const std::vector<std::string>& args, const Environment& env) {
  StatusOptions o;
  o.state_dir = env_or(env, "MVLAN_STATE_DIR", o.state_dir);
  o.ipam = parse_ipam_backend(env);
  read_args(args, "status", "valid: --state-dir DIR, --json", {{"--state-dir", into(o.state_dir)}},
            [&](const std::string& a) {
              if (a != "--json") return false;
              o.json = true;
              return true;
            });
  return o;
}

ReleaseHostOptions parse_release_host(const std::vector<std::string>& args,
                                      const Environment& env) {
  ReleaseHostOptions o;
  read_args(args, "release-host", "usage: release-host HOST [--force]", {},
            [&](const std::string& a) {
              if (a != "--force") return positional(a, o.host);
              o.force = true;
              return true;
            });
  if (o.host.empty()) throw std::invalid_argument("release-host needs a HOST (its MVLAN_HOST_ID)");
  o.ipam = parse_ipam_backend(env);
  if (!o.ipam.etcd) {
    throw std::invalid_argument(
        "release-host frees a host's addresses in etcd; set MVLAN_IPAM_BACKEND=etcd and "
        "MVLAN_ETCD_ENDPOINTS as for serve");
  }
  return o;
}

ForgetOptions parse_forget(const std::vector<std::string>& args, const Environment& env) {
  ForgetOptions o;
  o.state_dir = env_or(env, "MVLAN_STATE_DIR", o.state_dir);
  read_args(
      args, "forget", "usage: forget NAME [--pool ID | --subnet CIDR] [--state-dir DIR]",
      {{"--pool", into(o.pool)}, {"--subnet", into(o.subnet)}, {"--state-dir", into(o.state_dir)}},
      [&](const std::string& a) { return positional(a, o.name); });
  if (o.name.empty()) {
    throw std::invalid_argument("forget needs a NAME (a container's name, as mvlan status shows)");
  }
  o.ipam = parse_ipam_backend(env);
  return o;
}

IpamBackend parse_ipam_backend(const Environment& env) {
  IpamBackend b;
  const std::string backend = env_or(env, "MVLAN_IPAM_BACKEND", "sqlite");
  if (backend != "sqlite" && backend != "etcd") {
    throw std::invalid_argument("MVLAN_IPAM_BACKEND " + quote(backend, 80) +
                                " is unknown; use sqlite (default) or etcd");
  }
  b.etcd = backend == "etcd";
  const std::string endpoints = env_or(env, "MVLAN_ETCD_ENDPOINTS", "");
  if (!b.etcd) return b;
  if (endpoints.empty()) {
    throw std::invalid_argument(
        "MVLAN_IPAM_BACKEND=etcd needs MVLAN_ETCD_ENDPOINTS, e.g. "
        "http://192.0.2.11:2379,http://192.0.2.12:2379,http://192.0.2.13:2379");
  }
  static const std::regex url(R"(^(https?)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})/?$)");
  bool any_https = false;
  size_t start = 0;
  while (start <= endpoints.size()) {
    const size_t comma = endpoints.find(',', start);
    std::string e =
        endpoints.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? endpoints.size() + 1 : comma + 1;
    std::smatch m;
    if (!std::regex_match(e, m, url) || std::stoi(m[3]) == 0 || std::stoi(m[3]) > 65535) {
      throw std::invalid_argument("MVLAN_ETCD_ENDPOINTS entry " + quote(e, 80) +
                                  " is not http://HOST:PORT or https://HOST:PORT "
                                  "(comma-separated, e.g. http://192.0.2.11:2379)");
    }
    if (e.back() == '/') e.pop_back();
    any_https = any_https || m[1] == "https";
    b.etcd_settings.endpoints.push_back(e);
  }
  for (const auto& [name, field] :
       {std::pair<const char*, std::string*>{"MVLAN_ETCD_CACERT", &b.etcd_settings.ca_file},
        {"MVLAN_ETCD_CERT", &b.etcd_settings.cert_file},
        {"MVLAN_ETCD_KEY", &b.etcd_settings.key_file}}) {
    *field = env_or(env, name, "");
    if (field->empty()) continue;
    if (!any_https) {
      throw std::invalid_argument(std::string(name) +
                                  " is set but no MVLAN_ETCD_ENDPOINTS entry is https://");
    }
    if (!std::filesystem::is_regular_file(*field)) {
      throw std::invalid_argument(std::string(name) + " " + quote(*field, 200) +
                                  " is not a readable file (a PEM file is expected)");
    }
  }
  if (b.etcd_settings.cert_file.empty() != b.etcd_settings.key_file.empty()) {
    throw std::invalid_argument(
        "MVLAN_ETCD_CERT and MVLAN_ETCD_KEY go together (a client certificate and its key)");
  }
  b.etcd_settings.timeout = env_seconds(env, "MVLAN_ETCD_TIMEOUT", 5, 1, 99);

  b.prefix = env_or(env, "MVLAN_ETCD_PREFIX", b.prefix);
  if (b.prefix[0] != '/' || b.prefix.size() > 200) {
    throw std::invalid_argument("MVLAN_ETCD_PREFIX " + quote(b.prefix, 80) +
                                " must start with / (default /mvlan/)");
  }
  if (b.prefix.back() != '/') b.prefix += '/';

  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  b.host_id = env_or(env, "MVLAN_HOST_ID", name);
  static const std::regex host(R"(^[A-Za-z0-9._-]{1,64}$)");
  if (!std::regex_match(b.host_id, host)) {
    throw std::invalid_argument("MVLAN_HOST_ID " + quote(b.host_id, 80) +
                                " must be 1 to 64 letters, digits, '.', '_' or '-' "
                                "(default: the host name)");
  }
  return b;
}

std::string database_path(const std::string& state_dir) {
  return state_dir + "/mvlan.db";
}

std::optional<std::string> existing_database(const std::string& state_dir) {
  const std::string path = database_path(state_dir);
  if (std::filesystem::exists(path)) return path;
  log::error("no state database at " + path + " (has mvlan serve run with --state-dir " +
             state_dir + "?)");
  return std::nullopt;
}

}  // namespace mvlan::plugin
