#include "ipam/pool.h"

namespace mvlan::ipam {

std::optional<AllocationOrder> parse_allocation_order(std::string_view text) {
  if (text == "round-robin") return AllocationOrder::RoundRobin;
  if (text == "lowest") return AllocationOrder::Lowest;
  return std::nullopt;
}

const char* name_of(AllocationOrder order) {
  return order == AllocationOrder::Lowest ? "lowest" : "round-robin";
}

const char* name_of(GrantKind kind) {
  switch (kind) {
    case GrantKind::Gateway: return "gateway";
    case GrantKind::Static: return "static";
    case GrantKind::Dynamic: return "dynamic";
  }
  return "dynamic";
}

std::optional<GrantKind> parse_grant_kind(std::string_view text) {
  if (text == "gateway") return GrantKind::Gateway;
  if (text == "static") return GrantKind::Static;
  if (text == "dynamic") return GrantKind::Dynamic;
  return std::nullopt;
}

}  // namespace mvlan::ipam
