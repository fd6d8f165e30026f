#pragma once
// The name a grant is bound by in a sticky pool, from the endpoint name engines >= 29 send with
// RequestAddress (com.docker.network.endpoint.name: the container's name).

#include <optional>
#include <string>
#include <string_view>

namespace mvlan::ipam {

inline constexpr std::size_t kMaxBindingName = 253;

// The binding key of a container name: the name itself, except for a swarm task
// (<service>.<slot>.<task id>, or <service>.<node id>.<task id> for a global service), which is
// bound by <service>.<slot> so that the replica keeps its address when swarm replaces the task.
// Nothing when the text cannot be a Docker container name (empty, longer than kMaxBindingName,
// or not [a-zA-Z0-9][a-zA-Z0-9_.-]*): such a request binds nothing.
std::optional<std::string> binding_key(std::string_view endpoint_name);

}  // namespace mvlan::ipam
