#!/bin/bash
# Scenario 4: dual stack. One network with an IPv4 subnet and, with --ipv6, the IPv6 subnet
# 2001:db8:1::/64 beside it. Two containers reach each other over IPv6 (and IPv4), and each
# container's addresses, as `docker inspect` shows them and as `ip addr` shows them inside, are
# exactly what the IPAM granted (`mvlan status --json`): the same addresses, prefix lengths and
# MAC address on the driver's endpoint.
#
# Usage: tests/e2e/dual_stack_test.sh --mvlan build/mvlan [--engine 20|28|29]
source "$(dirname "$0")/lib.sh" "$@"

plugin_require

step "setup: host h1 with a veth parent, an engine and the plugin"
host_create h1
veth_parent h1 p0
engine_start h1
plugin_start h1

step "a dual-stack network"
assert_ok "network create ds (--ipv6, 192.0.2.0/24 and 2001:db8:1::/64)" \
  dk h1 network create -d mvlan --ipam-driver mvlan --ipv6 \
  --subnet 192.0.2.0/24 --gateway 192.0.2.1 \
  --subnet 2001:db8:1::/64 --gateway 2001:db8:1::1 -o parent=p0 ds
cfg=$(dk h1 network inspect --format '{{.EnableIPv6}} {{json .IPAM.Config}}' ds)
assert_match '^true ' "$cfg" "inspect: IPv6 is enabled"
assert_contains "$cfg" '"Subnet":"2001:db8:1::/64"' "inspect shows the IPv6 subnet"
assert_contains "$cfg" '"Subnet":"192.0.2.0/24"' "inspect shows the IPv4 subnet"
pools=$(mvlan_status h1 --json | json_flat | sed -n 's/^Pools\.[0-9]*\.Subnet=//p' | sort | tr '\n' ' ')
assert_eq "192.0.2.0/24 2001:db8:1::/64 " "$pools" "mvlan status holds one pool per family"

step "two containers"
ctr_run h1 c1 ds
ctr_run h1 c2 ds

declare -A ip4 ip6 mac
for c in c1 c2; do
  read -r a4 l4 a6 l6 m < <(dk h1 inspect --format \
    '{{with index .NetworkSettings.Networks "ds"}}{{.IPAddress}} {{.IPPrefixLen}} {{.GlobalIPv6Address}} {{.GlobalIPv6PrefixLen}} {{.MacAddress}}{{end}}' "$c")
  info "$c: docker inspect says $a4/$l4 $a6/$l6 $m"
  assert_match '^192\.0\.2\.[0-9]+$' "$a4" "$c: inspect shows an IPv4 address in 192.0.2.0/24 ($a4)"
  assert_match '^2001:db8:1:' "$a6" "$c: inspect shows an IPv6 address in 2001:db8:1::/64 ($a6)"
  assert_eq 24 "$l4" "$c: inspect shows IPv4 prefix length 24"
  assert_eq 64 "$l6" "$c: inspect shows IPv6 prefix length 64"
  ip4[$c]=$a4 ip6[$c]=$a6 mac[$c]=$m

  step "$c: the addresses inside the container are the ones docker reports"
  inside4=$(ctr_exec h1 "$c" ip -o -4 addr show dev eth0 | awk '{print $4}' | sort | tr '\n' ' ')
  inside6=$(ctr_exec h1 "$c" ip -o -6 addr show dev eth0 scope global | awk '{print $4}' | sort | tr '\n' ' ')
  assert_eq "$a4/24 " "$inside4" "$c: ip addr inside shows exactly $a4/24"
  assert_eq "$a6/64 " "$inside6" "$c: ip addr inside shows exactly the global IPv6 address $a6/64"
  assert_contains "$(ctr_exec h1 "$c" ip link show eth0)" "$m" "$c: eth0 inside has MAC $m"
  assert_contains "$(ctr_exec h1 "$c" ip -6 route)" "default via 2001:db8:1::1" \
    "$c: the IPv6 default route goes via the IPv6 gateway"
done
assert_unique "the containers' addresses differ from each other and from the gateways" \
  192.0.2.1 2001:db8:1::1 "${ip4[c1]}" "${ip4[c2]}" "${ip6[c1]}" "${ip6[c2]}"

step "what the IPAM granted is what the containers have"
want=$(printf '%s\n' "${ip4[@]}" "${ip6[@]}" | sort | tr '\n' ' ')
seen=$(status_allocations h1 container | awk '{print $1}' | tr '\n' ' ')
assert_eq "$want" "$seen" "mvlan status: the container grants are exactly the containers' addresses"
gws=$(status_allocations h1 gateway | awk '{print $1}' | tr '\n' ' ')
assert_eq "192.0.2.1 2001:db8:1::1 " "$gws" "mvlan status: the gateways are granted as gateways"
eps=$(status_endpoints h1 | awk '{print $3, $4, $5}' | sort)
want=$(for c in c1 c2; do echo "${mac[$c]} ${ip4[$c]}/24 ${ip6[$c]}/64"; done | sort)
assert_eq "$want" "$eps" "mvlan status: each endpoint has its container's MAC, IPv4 and IPv6 address"

step "IPv6 (and IPv4) between the containers"
for pair in "c1 c2" "c2 c1"; do
  read -r a b <<<"$pair"
  assert_ping h1 "$a" "${ip6[$b]}"
  assert_ping h1 "$a" "${ip4[$b]}"
done

step "removal"
assert_ok "remove the containers" dk h1 rm -f c1 c2
assert_eq "192.0.2.1 2001:db8:1::1 " "$(status_allocations h1 | awk '$2 != "parked" {print $1}' | tr '\n' ' ')" \
  "after the containers: only the gateways are granted"
if ((E2E_ENGINE >= 29)); then # the engine named c1 and c2: their addresses are parked for them
  assert_eq "$(printf '%s\n' "${ip4[@]}" "${ip6[@]}" | sort | tr '\n' ' ')" \
    "$(status_allocations h1 parked | awk '{print $1}' | sort | tr '\n' ' ')" \
    "engine 29: c1's and c2's addresses are parked for them"
fi
assert_ok "remove the network" dk h1 network rm ds
assert_clean h1
