#include "plugin/router.h"

#include "common/error.h"
#include "common/log.h"
#include "common/quote.h"

namespace mvlan::plugin {
namespace {

int status_of(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Invalid: return 400;
    case ErrorKind::NotFound: return 404;
    case ErrorKind::Conflict: return 409;
    case ErrorKind::Exhausted: return 507;
    case ErrorKind::Kernel: return 500;
    case ErrorKind::Store: return 503;
  }
  return 500;
}

Interface interface_of(const std::string& path) {
  if (path.rfind("/NetworkDriver.", 0) == 0) return Interface::NetworkDriver;
  if (path.rfind("/IpamDriver.", 0) == 0) return Interface::IpamDriver;
  return Interface::Plugin;
}

}  // namespace

void Router::add(const std::string& path, Interface iface, Handler handler) {
  routes_[path] = Route{iface, std::move(handler)};
}

std::string Router::error_body(Interface iface, const std::string& message) {
  json body;
  // Docker's plugin client reads "Err" from any non-200 answer; its IPAM client reads "Error" from
  // a 200 one. IPAM errors carry both so the user sees the plain message either way.
  body["Err"] = message;
  if (iface == Interface::IpamDriver) body["Error"] = message;
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

Reply Router::dispatch(const std::string& path, const std::string& body) const {
  auto it = routes_.find(path);
  if (it == routes_.end()) {
    return {404, error_body(interface_of(path),
                            "mvlan does not implement " + quote_bare(path, 100) +
                                "; it serves Plugin.Activate, NetworkDriver.* and IpamDriver.*")};
  }
  const std::string method = path.substr(1);
  try {
    json reply = it->second.handler(parse_body(body));
    log::debug(method + " ok");
    return {200, reply.dump(-1, ' ', false, json::error_handler_t::replace)};
  } catch (const Error& e) {
    std::string message = e.what();
    // Docker's plugin client retries a request whose connection broke, but with the body the
    // first try consumed: an empty body that misses a field is that retry (the plugin restarted
    // mid-request), which the bare "missing field" would not tell the user.
    if (e.kind == ErrorKind::Invalid && is_blank(body)) {
      message +=
          "; the request had no body at all, which is how Docker retries a request that "
          "was cut off by a plugin restart: run the command again";
    }
    if (e.kind == ErrorKind::Kernel) {
      log::warn(method + " kernel error: " + message);
    } else {
      log::info(method + " refused: " + message);
    }
    return {status_of(e.kind), error_body(it->second.iface, message)};
  } catch (const std::exception& e) {
    log::error(method + " failed: " + e.what());
    return {500, error_body(it->second.iface, std::string("mvlan internal error: ") + e.what())};
  }
}

}  // namespace mvlan::plugin
