#pragma once
// Kernel actions and reads only tests need: parents to put networks on, and what the plugin left
// on a link. Each call opens a route socket of its own, so it acts on the network namespace of
// the calling thread at that moment (a test enters its namespace first). Throws KernelError.

#include <string>
#include <vector>

namespace mvlan::test {

void create_veth_pair(const std::string& a, const std::string& b);
void set_mtu(const std::string& name, unsigned mtu);
// "192.0.2.254/32" for each address of `link`, sorted.
std::vector<std::string> link_addresses(const std::string& link);
// "198.51.100.7/32 src 198.51.100.254" for each main-table route out of `link`, sorted.
std::vector<std::string> link_routes(const std::string& link);

}  // namespace mvlan::test
