#!/bin/bash
# What engine 28 adds, with the plugin under test, each asserted on the engine it runs on (the
# 20.10 behaviour is asserted too where it differs: see README "Engine compatibility"):
#   1. --internal network on a parent: engine 28 asks NetworkDriver.GwAllocCheck, mvlan says skip,
#      so no gateway is allocated (inspect and mvlan status show none); 20.10 has no such call and
#      always allocates one (mvlan then keeps it from the containers). Either way the container
#      runs and has no default route.
#   2. no-parent network: needs a dummy link; this host's kernel has none, so docker prints an
#      error naming the missing dummy module, and nothing is left in mvlan.
#   3. IPv6-only network (--ipv4=false, engine 28 only; 20.10's CLI has no such flag): containers
#      get only the IPv6 address mvlan granted, and ping6 each other.
#   4. three bridge-mode mvlan networks on one parent (both engines): containers on each; the
#      built-in macvlan driver refuses the second network on 20.10 and allows it on 28.
#   5. MACs: the MAC a container shows is the one mvlan recorded and docker inspect shows, for a
#      MAC mvlan chose (both engines send an empty MacAddress) and one given with --mac-address.
#
# Usage: tests/e2e/engine28_features_test.sh --mvlan build/mvlan [--engine 20|28|29]
source "$(dirname "$0")/lib.sh" "$@"

plugin_require
mv=(-d mvlan --ipam-driver mvlan)

step "setup: host h1 with parents p0 (single networks) and p1 (three networks), engine, plugin"
host_create h1
veth_parent h1 p0
veth_parent h1 p1
veth_parent h1 p2
engine_start h1
plugin_start h1

# net_gateways NETWORK: the gateways docker inspect shows, space-separated ("" when none).
net_gateways() { dk h1 network inspect --format '{{range .IPAM.Config}}{{.Gateway}} {{end}}' "$1" | sed 's/ *$//'; }
# eth0_mac CONTAINER: the MAC of eth0 inside the container.
eth0_mac() { ctr_exec h1 "$1" cat /sys/class/net/eth0/address; }
# status_mac CONTAINER NETWORK: the MAC mvlan recorded for the container's endpoint on NETWORK.
status_mac() {
  local ep
  ep=$(dk h1 inspect --format "{{(index .NetworkSettings.Networks \"$2\").EndpointID}}" "$1")
  status_endpoints h1 | awk -v e="$ep" '$2 == e {print $3}'
}
inspect_mac() { dk h1 inspect --format "{{(index .NetworkSettings.Networks \"$2\").MacAddress}}" "$1"; }

# ---- 1. internal network ---------------------------------------------------------------------
step "1. --internal network on parent p0 (198.51.100.0/24, no --gateway)"
assert_ok "network create int1 --internal" \
  dk h1 network create "${mv[@]}" --internal --subnet 198.51.100.0/24 -o parent=p0 int1
# Both engines show in inspect only a gateway the user gave (never one the IPAM picked).
assert_empty "$(net_gateways int1)" "docker network inspect shows no gateway for int1"
if ((E2E_ENGINE >= 28)); then
  assert_empty "$(status_allocations h1 gateway)" "engine 28: mvlan was asked for no gateway address (GwAllocCheck said skip)"
else
  assert_eq "198.51.100.1 gateway -" "$(status_allocations h1 gateway)" \
    "engine 20.10: docker still asks for a gateway (no GwAllocCheck): mvlan holds 198.51.100.1, unused"
fi
ctr_run h1 i1 int1
ctr_run h1 i2 int1
ip_i1=$(ctr_ip h1 i1 int1)
ip_i2=$(ctr_ip h1 i2 int1)
if ((E2E_ENGINE >= 28)); then
  assert_eq 198.51.100.1 "$ip_i1" "engine 28: with no gateway, the first container gets the subnet's first address"
else
  assert_eq 198.51.100.2 "$ip_i1" "engine 20.10: the first container gets the address after the gateway"
fi
assert_eq "$(printf '%s container\n%s container' "$ip_i1" "$ip_i2" | sort)" \
  "$(status_allocations h1 container | awk '/^198\.51\.100\./ {print $1, $2}')" \
  "mvlan's container grants on int1 are the containers' addresses"
for c in i1 i2; do
  routes=$(ctr_exec h1 "$c" ip route)
  assert_not_contains "$routes" default "$c on an internal network has no default route"
  assert_empty "$(ctr_exec h1 "$c" ip -6 route show default)" "$c has no IPv6 default route either"
done
assert_ping h1 i1 "$ip_i2"
assert_ok "remove i1 i2" dk h1 rm -f i1 i2
assert_ok "network rm int1" dk h1 network rm int1
assert_eq "0 0" "$(status_counts h1)" "mvlan holds no pool and no network after int1 is gone"

step "1b. --internal network with an explicit --gateway: both engines allocate that gateway"
assert_ok "network create int2 --internal --gateway 203.0.113.1" \
  dk h1 network create "${mv[@]}" --internal --subnet 203.0.113.0/24 --gateway 203.0.113.1 -o parent=p0 int2
assert_eq 203.0.113.1 "$(net_gateways int2)" "inspect shows the gateway given"
assert_eq "203.0.113.1 gateway -" "$(status_allocations h1 gateway)" "mvlan holds the gateway given"
ctr_run h1 i3 int2
assert_eq 203.0.113.2 "$(ctr_ip h1 i3 int2)" "the container gets the address after the gateway"
assert_not_contains "$(ctr_exec h1 i3 ip route)" default "i3 on an internal network has no default route"
assert_ok "remove i3" dk h1 rm -f i3
assert_ok "network rm int2" dk h1 network rm int2
assert_eq "0 0" "$(status_counts h1)" "mvlan holds no pool and no network after int2 is gone"

# ---- 2. no parent ----------------------------------------------------------------------------
step "2. network with no parent (needs a dummy link; this host's kernel has no dummy module)"
if in_ns h1 ip link add e2e-dmprobe type dummy 2>/dev/null; then
  in_ns h1 ip link del e2e-dmprobe
  info "this kernel has dummy links: the no-parent network works here"
  assert_ok "network create noparent (no -o parent)" \
    dk h1 network create "${mv[@]}" --subnet 203.0.113.0/24 noparent
  if ((E2E_ENGINE >= 28)); then
    assert_empty "$(net_gateways noparent)" "engine 28: no gateway for a network without parent"
  fi
  assert_ok "network rm noparent" dk h1 network rm noparent
else
  assert_fails "network create without parent fails, naming the dummy module" --with "dummy" \
    dk h1 network create "${mv[@]}" --subnet 203.0.113.0/24 noparent
  info "docker printed: $E2E_OUT"
  assert_contains "$E2E_OUT" "NetworkDriver.CreateNetwork" "the error comes from mvlan's CreateNetwork"
  assert_not_contains "$(dk h1 network ls --format '{{.Name}}')" noparent "no network noparent is left"
  assert_eq "0 0" "$(status_counts h1)" "mvlan holds no pool and no network after the failed create"
  assert_empty "$(links_of_type h1 dummy)" "no dummy link is left in h1"
fi

# ---- 3. IPv6-only network ----------------------------------------------------------------------
step "3. IPv6-only network (--ipv4=false --ipv6 --subnet 2001:db8:2::/64)"
if ((E2E_ENGINE >= 28)); then
  assert_ok "network create v6only" \
    dk h1 network create "${mv[@]}" --ipv4=false --ipv6 --subnet 2001:db8:2::/64 -o parent=p0 v6only
  assert_eq "false true" "$(dk h1 network inspect --format '{{.EnableIPv4}} {{.EnableIPv6}}' v6only)" \
    "inspect: EnableIPv4 false, EnableIPv6 true"
  assert_eq '[{"Subnet":"2001:db8:2::/64"}]' "$(dk h1 network inspect --format '{{json .IPAM.Config}}' v6only)" \
    "inspect: only the IPv6 subnet"
  ctr_run h1 s1 v6only
  ctr_run h1 s2 v6only
  declare -A ip6
  for c in s1 s2; do
    assert_empty "$(ctr_exec h1 "$c" ip -4 addr show dev eth0)" "$c has no IPv4 address on eth0"
    assert_empty "$(ctr_ip h1 "$c" v6only)" "docker inspect shows no IPv4 address for $c"
    ip6[$c]=$(ctr_exec h1 "$c" ip -o -6 addr show dev eth0 scope global | awk '{print $4}')
    assert_match '^2001:db8:2::[0-9a-f:]+/64$' "${ip6[$c]}" "$c has one global IPv6 address (${ip6[$c]})"
    assert_eq "${ip6[$c]%/*}" \
      "$(dk h1 inspect --format '{{(index .NetworkSettings.Networks "v6only").GlobalIPv6Address}}' "$c")" \
      "docker inspect shows $c's IPv6 address"
    assert_contains "$(ctr_exec h1 "$c" ip -6 route)" "default via 2001:db8:2::1" "$c's IPv6 default route goes via the gateway"
  done
  assert_eq "$(printf '%s container\n%s container' "${ip6[s1]%/*}" "${ip6[s2]%/*}" | sort)" \
    "$(status_allocations h1 container | awk '/^2001:db8:2:/ {print $1, $2}')" \
    "mvlan granted exactly the containers' IPv6 addresses"
  assert_eq "2001:db8:2::1 gateway -" "$(status_allocations h1 gateway)" "mvlan holds the IPv6 gateway, and no IPv4 one"
  assert_empty "$(status_allocations h1 | grep -v '^2001:db8:2:' || true)" "mvlan granted no IPv4 address at all"
  for pair in "s1 s2" "s2 s1"; do
    read -r a b <<<"$pair"
    ok=
    for _ in 1 2 3; do dk h1 exec "$a" ping -6 -c 1 -W 1 "${ip6[$b]%/*}" >/dev/null 2>&1 && { ok=1; break; }; done
    [[ -n $ok ]] || fail "h1:$a pings6 ${ip6[$b]%/*}" "expected: an answer" "seen: no answer in 3 tries"
    pass "h1:$a pings6 ${ip6[$b]%/*}"
  done
  assert_ok "remove s1 s2" dk h1 rm -f s1 s2
  assert_ok "network rm v6only" dk h1 network rm v6only
else
  assert_fails "engine 20.10's client has no --ipv4 flag" --with "unknown flag: --ipv4" \
    dk h1 network create "${mv[@]}" --ipv4=false --ipv6 --subnet 2001:db8:2::/64 -o parent=p0 v6only
fi
assert_eq "0 0" "$(status_counts h1)" "mvlan holds no pool and no network"

# ---- 4. several networks on one parent --------------------------------------------------------
step "4. three bridge-mode mvlan networks on parent p1"
for n in 0 1 2; do
  assert_ok "network create m$n on p1 (203.0.113.$((n * 64))/26)" \
    dk h1 network create "${mv[@]}" --subnet "203.0.113.$((n * 64))/26" --gateway "203.0.113.$((n * 64 + 1))" \
    -o parent=p1 -o macvlan_mode=bridge "m$n"
done
assert_eq "3" "$(mvlan_status h1 --json | json_flat | grep -c '^Networks\.[0-9]*\.Parent=p1$' || true)" \
  "mvlan status: three networks on parent p1"
declare -A ipm
for n in 0 1 2; do
  ctr_run h1 "a$n" "m$n"
  ctr_run h1 "b$n" "m$n"
  for c in "a$n" "b$n"; do
    ipm[$c]=$(ctr_ip h1 "$c" "m$n")
    assert_match "^203\\.0\\.113\\.[0-9]+$" "${ipm[$c]}" "$c has an address on m$n (${ipm[$c]})"
    (((${ipm[$c]##*.} & ~63) == n * 64)) || fail "$c's address ${ipm[$c]} lies in m$n's subnet 203.0.113.$((n * 64))/26"
    assert_contains "$(ctr_exec h1 "$c" ip route)" "default via 203.0.113.$((n * 64 + 1))" "$c's default route is m$n's gateway"
  done
  assert_ping h1 "a$n" "${ipm[b$n]}"
done
assert_unique "six distinct addresses" "${ipm[@]}"
assert_ok "remove containers" dk h1 rm -f a0 b0 a1 b1 a2 b2
for n in 0 1 2; do assert_ok "network rm m$n" dk h1 network rm "m$n"; done
assert_contains "$(links_of_type h1 veth)" p1 "p1 (a link mvlan did not make) is still there"
assert_eq "0 0" "$(status_counts h1)" "mvlan holds no pool and no network"

step "4b. the built-in macvlan driver, two networks on parent p2 (reference)"
assert_ok "built-in network bi0 on p2" \
  dk h1 network create -d macvlan --subnet 192.0.2.0/26 -o parent=p2 bi0
if ((E2E_ENGINE >= 28)); then
  assert_ok "engine 28: built-in macvlan allows a second network on p2" \
    dk h1 network create -d macvlan --subnet 192.0.2.64/26 -o parent=p2 bi1
  assert_ok "network rm bi1" dk h1 network rm bi1
else
  assert_fails "engine 20.10: built-in macvlan refuses a second network on p2" \
    dk h1 network create -d macvlan --subnet 192.0.2.64/26 -o parent=p2 bi1
  info "docker printed: $E2E_OUT"
fi
assert_ok "network rm bi0" dk h1 network rm bi0

# ---- 5. MACs -----------------------------------------------------------------------------------
step "5. MACs: container, mvlan status and docker inspect agree"
assert_ok "network create macs" \
  dk h1 network create "${mv[@]}" --subnet 192.0.2.0/24 --gateway 192.0.2.1 -o parent=p0 macs
ctr_run h1 m1 macs
ctr_run h1 m2 macs --mac-address 02:00:c0:00:02:63
for c in m1 m2; do
  seen=$(eth0_mac "$c")
  assert_match '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$' "$seen" "$c's eth0 has a MAC ($seen)"
  assert_eq "$seen" "$(status_mac "$c" macs)" "$c: mvlan recorded the MAC the container shows"
  assert_eq "$seen" "$(inspect_mac "$c" macs)" "$c: docker inspect shows the MAC the container shows"
  assert_contains "$(status_endpoints h1)" " $seen $(ctr_ip h1 "$c" macs)/24 " \
    "$c: mvlan's endpoint record pairs that MAC with the container's address"
done
assert_eq 02:00:c0:00:02:63 "$(eth0_mac m2)" "m2 has the MAC given with --mac-address"
ctr_run h1 m3 macs
assert_unique "three different MACs" "$(eth0_mac m1)" "$(eth0_mac m2)" "$(eth0_mac m3)"
assert_ping h1 m1 "$(ctr_ip h1 m2 macs)"
assert_ping h1 m3 "$(ctr_ip h1 m1 macs)"
assert_ok "remove m1 m2 m3" dk h1 rm -f m1 m2 m3
assert_ok "network rm macs" dk h1 network rm macs

step "end: nothing left"
assert_eq "0 0" "$(status_counts h1)" "mvlan holds no pool and no network"
assert_empty "$(status_allocations h1)" "mvlan holds no address"
assert_empty "$(links_of_type h1 macvlan)" "no macvlan link left in h1"
assert_eq "lo p0 p0-p p1 p1-p p2 p2-p" "$(links_of_type h1 | tr '\n' ' ' | sed 's/ $//')" "h1 has only its own links left"
plugin_alive h1 || fail "the plugin is still running at the end" "expected: alive" "seen: exited"
pass "the plugin is still running at the end"
