#include "ipam/allocator.h"

#include "common/error.h"
#include "common/quote.h"
#include "ipam/pool_errors.h"

namespace mvlan::ipam {
namespace {

constexpr const char* kValidOptions = "allocation=round-robin|lowest, sticky=true|false";

int min_length(Family f) {
  return f == Family::V4 ? 8 : 16;
}

Prefix parse_prefix_field(const std::string& field, const std::string& flag,
                          const std::string& text, Family family) {
  auto cidr = Cidr::parse(text);
  const std::string what = "invalid " + field + " " + quote(text) + " (" + flag + "): ";
  if (!cidr) {
    throw invalid(what + "not an " + name_of(family) + " prefix such as " +
                  (family == Family::V4 ? "192.0.2.0/24" : "2001:db8:1::/64"));
  }
  if (cidr->address.family() != family) {
    throw invalid(what + "an " + name_of(cidr->address.family()) + " prefix in a request for an " +
                  name_of(family) + " pool (V6 is " + (family == Family::V6 ? "true" : "false") +
                  ")");
  }
  if (cidr->has_host_bits()) {
    throw invalid(what + "host bits are set; did you mean " + cidr->prefix().str() + "?");
  }
  return cidr->prefix();
}

}  // namespace

PoolSpec validate_pool_request(const PoolRequest& request) {
  PoolSpec spec;
  if (request.address_space != kLocalSpace && request.address_space != kGlobalSpace) {
    throw invalid("invalid AddressSpace " + quote(request.address_space) + ": mvlan serves " +
                  kLocalSpace + " and " + kGlobalSpace);
  }
  spec.address_space = request.address_space;
  spec.family = request.v6 ? Family::V6 : Family::V4;

  if (!request.pool.empty()) {
    spec.subnet = parse_prefix_field("Pool", "--subnet", request.pool, spec.family);
    const int min = min_length(spec.family);
    if (spec.subnet->length() < min) {
      throw invalid("invalid Pool " + quote(request.pool) + " (--subnet): an " +
                    name_of(spec.family) + " pool must be /" + std::to_string(min) + " to /" +
                    std::to_string(bits_of(spec.family)));
    }
  }
  if (!request.sub_pool.empty()) {
    if (!spec.subnet) {
      throw invalid("invalid SubPool " + quote(request.sub_pool) +
                    " (--ip-range): an ip-range needs an explicit Pool (--subnet) around it");
    }
    spec.range = parse_prefix_field("SubPool", "--ip-range", request.sub_pool, spec.family);
    if (!spec.subnet->contains(*spec.range)) {
      throw invalid("invalid SubPool " + quote(request.sub_pool) +
                    " (--ip-range): it must lie inside the pool " + spec.subnet->str());
    }
  }
  for (const auto& [key, value] : request.options) {
    if (key == "sticky") {
      if (value != "true" && value != "false") {
        throw invalid("invalid ipam option sticky=" + quote(value) +
                      " (--ipam-opt): valid values are true (default) and false");
      }
      spec.sticky = value == "true";
      continue;
    }
    if (key != "allocation") {
      throw invalid("unknown ipam option " + quote(key) + " (--ipam-opt): valid options are " +
                    kValidOptions);
    }
    auto order = parse_allocation_order(value);
    if (!order) {
      throw invalid("invalid ipam option allocation=" + quote(value) +
                    " (--ipam-opt): valid values are round-robin (default) and lowest");
    }
    spec.order = *order;
  }
  return spec;
}

Prefix choose_subnet(const PoolSpec& spec, const std::vector<DefaultPool>& defaults,
                     const OverlapLookup& overlapping) {
  if (spec.subnet) return *spec.subnet;
  auto picked = pick_default_pool(defaults, spec.family, overlapping);
  if (!picked) throw no_default_pool(spec.family);
  return *picked;
}

void check_may_share(const PoolSpec& spec, const Prefix& subnet, const Pool& other) {
  if (spec.range && other.range) return;
  throw conflict("Pool " + subnet.str() + " overlaps " + describe(other) +
                 " of another network in address space " + spec.address_space +
                 "; networks may share a subnet only when each gives its own --ip-range");
}

std::string unique_pool_id(const PoolSpec& spec, const Prefix& subnet,
                           const std::function<bool(const std::string&)>& taken) {
  // Appends, not operator+ on temporaries: GCC 12 at -O3 (a Release build) reports a false
  // -Wrestrict inside those, and warnings are errors.
  std::string base = spec.address_space;
  base.append("/").append(subnet.str());
  if (spec.range) base.append("/").append(spec.range->str());
  std::string id = base;
  for (int n = 2; taken(id); ++n) {
    id = base;
    id.append("#").append(std::to_string(n));
  }
  return id;
}

Pool new_pool(std::string id, const PoolSpec& spec, const Prefix& subnet) {
  Pool pool;
  pool.id = std::move(id);
  pool.address_space = spec.address_space;
  pool.subnet = subnet;
  pool.range = spec.range;
  pool.order = spec.order;
  pool.sticky = spec.sticky;
  return pool;
}

std::string describe(const Pool& p) {
  std::string s = "pool " + p.subnet.str();
  if (p.range) s += " (ip-range " + p.range->str() + ")";
  return s;
}

void check_requested(const Pool& pool, const Address& a) {
  if (a.family() != pool.subnet.family()) {
    throw invalid("Address " + a.str() + " is " + name_of(a.family()) + " but " + describe(pool) +
                  " is " + name_of(pool.subnet.family()));
  }
  if (!pool.subnet.contains(a)) {
    throw invalid("Address " + a.str() + " is outside " + describe(pool) +
                  "; give an address inside " + pool.subnet.str());
  }
  if (auto why = reserved_by_rule(pool.subnet, a)) {
    throw invalid("Address " + a.str() + " is " + *why + " and is never granted");
  }
}

std::optional<std::string> reserved_by_rule(const Prefix& subnet, const Address& a) {
  const int len = subnet.length();
  if (subnet.family() == Family::V4) {
    if (len >= 31) return std::nullopt;  // RFC 3021: both addresses of a /31 are hosts
    if (a == subnet.network()) return "the network address of " + subnet.str();
    if (a == subnet.last()) return "the broadcast address of " + subnet.str();
    return std::nullopt;
  }
  if (len >= 127) return std::nullopt;  // RFC 6164 point-to-point links
  if (a == subnet.network()) return "the subnet-router anycast address of " + subnet.str();
  return std::nullopt;
}

std::optional<Bounds> usable_bounds(const Prefix& subnet) {
  Address lo = subnet.network();
  Address hi = subnet.last();
  if (reserved_by_rule(subnet, lo)) lo = lo.next();
  if (reserved_by_rule(subnet, hi)) hi = hi.prev();
  if (hi < lo) return std::nullopt;
  return Bounds{lo, hi};
}

std::optional<Bounds> dynamic_bounds(const Pool& pool) {
  auto usable = usable_bounds(pool.subnet);
  if (!usable || !pool.range) return usable;
  const Address lo = std::max(usable->lo, pool.range->network());
  const Address hi = std::min(usable->hi, pool.range->last());
  if (hi < lo) return std::nullopt;
  return Bounds{lo, hi};
}

u128 capacity(const std::optional<Bounds>& bounds) {
  if (!bounds) return 0;
  const u128 span = bounds->hi.value() - bounds->lo.value();
  return span == ~u128{0} ? span : span + 1;  // a full /0 IPv6 span saturates
}

std::optional<Address> first_free(const RunLookup& runs, const Address& from, const Address& to) {
  if (to < from) return std::nullopt;
  Address x = from;
  if (auto run = runs(x); run && run->hi >= x) {
    // Runs are maximal, so the address after a run is free (or past the family's end).
    if (run->hi >= to || run->hi.is_max()) return std::nullopt;
    x = run->hi.next();
  }
  return x;
}

std::optional<Address> pick_dynamic(const RunLookup& runs, const Bounds& bounds,
                                    const std::optional<Address>& cursor, AllocationOrder order) {
  if (order == AllocationOrder::Lowest) return first_free(runs, bounds.lo, bounds.hi);
  Address start = bounds.lo;
  if (cursor && *cursor >= bounds.lo && *cursor < bounds.hi) start = cursor->next();
  if (auto a = first_free(runs, start, bounds.hi)) return a;
  if (start > bounds.lo) return first_free(runs, bounds.lo, start.prev());
  return std::nullopt;
}

std::optional<Address> pick_gateway(const RunLookup& runs, const Pool& pool) {
  if (auto range = dynamic_bounds(pool)) {
    if (auto a = first_free(runs, range->lo, range->hi)) return a;
  }
  if (auto usable = usable_bounds(pool.subnet)) return first_free(runs, usable->lo, usable->hi);
  return std::nullopt;
}

std::vector<DefaultPool> parse_default_pools(std::string_view text) {
  std::vector<DefaultPool> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    start = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
    if (item.empty()) continue;
    const std::string bad = "invalid MVLAN_DEFAULT_POOLS entry " + quote(item) +
                            ": expected cidr/size such as 198.18.0.0/15/24";
    const size_t last_slash = item.rfind('/');
    if (last_slash == std::string_view::npos) throw invalid(bad);
    auto base = Prefix::parse(item.substr(0, last_slash));
    const std::string size_text(item.substr(last_slash + 1));
    if (!base || size_text.empty() || size_text.size() > 3 ||
        size_text.find_first_not_of("0123456789") != std::string::npos) {
      throw invalid(bad);
    }
    const int size = std::stoi(size_text);
    if (size < base->length() || size > bits_of(base->family()) ||
        size < min_length(base->family())) {
      throw invalid(bad + " (size must be between the base length and /" +
                    std::to_string(bits_of(base->family())) + ")");
    }
    out.push_back({*base, size});
  }
  return out;
}

std::optional<Prefix> pick_default_pool(const std::vector<DefaultPool>& defaults, Family family,
                                        const OverlapLookup& overlapping) {
  for (const auto& d : defaults) {
    if (d.base.family() != family) continue;
    Prefix candidate = Prefix::of(d.base.network(), d.size);
    while (d.base.contains(candidate)) {
      auto clash = overlapping(candidate);
      if (!clash) return candidate;
      // Skip past whichever is larger, the clash or the candidate, in one step.
      const Address end = std::max(clash->last(), candidate.last());
      if (end.is_max()) break;
      candidate = Prefix::of(end.next(), d.size);
    }
  }
  return std::nullopt;
}

}  // namespace mvlan::ipam
