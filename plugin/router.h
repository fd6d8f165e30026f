#pragma once
// Path -> handler, and the error envelopes Docker reads: NetworkDriver answers carry "Err",
// IpamDriver answers carry "Error". Every answer has a JSON body.

#include <functional>
#include <string>
#include <unordered_map>

#include "plugin/json_fields.h"

namespace mvlan::plugin {

enum class Interface { Plugin, NetworkDriver, IpamDriver };

struct Reply {
  int status = 200;
  std::string body;
};

class Router {
 public:
  using Handler = std::function<json(const json& request)>;

  void add(const std::string& path, Interface iface, Handler handler);
  Reply dispatch(const std::string& path, const std::string& body) const;

  // The body for an error on `iface`: used for errors raised before routing too.
  static std::string error_body(Interface iface, const std::string& message);

 private:
  struct Route {
    Interface iface;
    Handler handler;
  };
  std::unordered_map<std::string, Route> routes_;
};

}  // namespace mvlan::plugin
