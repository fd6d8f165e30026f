#!/bin/bash
# Issue 15, networks of several subnets, and /31 point-to-point networks. One network of two IPv4
# and two IPv6 subnets, one gateway per family given (--gateway) and one picked by mvlan: every
# container gets the gateway of the subnet that holds each of its addresses (docker inspect and
# the default routes inside), IPv4 and IPv6 independently, and reaches the others of its subnets.
# Dynamic addresses come from each family's first subnet (the docker CLI orders them at random):
# when its ip-range is full, docker run fails with mvlan's message (Docker moves on to the next
# subnet only with its built-in IPAM, whose "no addresses" error it recognises). The
# host's address (-o host_access) sits in the second subnet and reaches containers of both.
# A /31: engines >= 28 skip the gateway and both addresses go to containers that ping each
# other; 20.10 asks for a gateway, which takes one of the two.
#
# Usage: tests/e2e/multi_subnet_test.sh --mvlan build/mvlan [--engine 20|28|29]
source "$(dirname "$0")/lib.sh" "$@"

plugin_require

# The network's subnets and their gateways: 198.18.100.1 and 2001:db8:abc2::1 are mvlan's picks.
# (The docker CLI passes the subnets in random order, so either may be a family's first.)
gateway_of() { # ADDRESS
  case $1 in
    198.18.100.*) echo 198.18.100.1 ;;
    198.18.102.*) echo 198.18.102.254 ;;
    2001:db8:abc2:*) echo 2001:db8:abc2::1 ;;
    2001:db8:abc4:*) echo 2001:db8:abc4::254 ;;
    *) echo "none for $1" ;;
  esac
}
# addresses NAME: its IPv4 and IPv6 address on ms.
addresses() {
  dk h1 inspect --format '{{with index .NetworkSettings.Networks "ms"}}{{.IPAddress}} {{.GlobalIPv6Address}}{{end}}' "$1"
}
# assert_gateways NAME: docker inspect and the default routes inside show, per family, the
# gateway of the subnet holding the container's address.
assert_gateways() {
  local a4 a6 want v4 v6
  read -r a4 a6 < <(addresses "$1")
  want="$(gateway_of "$a4") $(gateway_of "$a6")"
  assert_eq "$want" "$(dk h1 inspect --format \
    '{{with index .NetworkSettings.Networks "ms"}}{{.Gateway}} {{.IPv6Gateway}}{{end}}' "$1")" \
    "$1 ($a4, $a6): docker inspect shows gateways $want"
  v4=$(ctr_exec h1 "$1" ip -4 route show default | awk '{print $3}')
  v6=$(ctr_exec h1 "$1" ip -6 route show default | awk '{print $3}')
  assert_eq "$want" "$v4 $v6" "$1: its default routes go via $want"
}

step "setup: host h1 with a veth parent, an engine and the plugin"
host_create h1
veth_parent h1 p0
engine_start h1
plugin_start h1

step "a network of 2 IPv4 and 2 IPv6 subnets: one gateway given per family, one picked by mvlan"
assert_ok "network create ms" \
  dk h1 network create -d mvlan --ipam-driver mvlan --ipv6 -o parent=p0 -o host_access=198.18.102.250 \
  --subnet 198.18.100.0/24 --ip-range 198.18.100.0/30 \
  --subnet 198.18.102.0/24 --gateway 198.18.102.254 --ip-range 198.18.102.4/31 \
  --subnet 2001:db8:abc2::/64 \
  --subnet 2001:db8:abc4::/64 --gateway 2001:db8:abc4::254 ms
# The picks: the first free address of the ip-range (IPv4), of the subnet (IPv6).
gws=$(status_allocations h1 gateway | awk '{print $1}' | sort | tr '\n' ' ')
assert_eq "198.18.100.1 198.18.102.254 2001:db8:abc2::1 2001:db8:abc4::254 " "$gws" \
  "mvlan status: one gateway granted per subnet"

step "containers in each subnet, dynamic and static"
ctr_run h1 d1 ms
ctr_run h1 d2 ms
ctr_run h1 s1 ms --ip 198.18.102.20 --ip6 2001:db8:abc4::20 # the issue's failing run
ctr_run h1 s2 ms --ip 198.18.102.21 --ip6 2001:db8:abc2::21
ctr_run h1 s3 ms --ip 198.18.100.50 --ip6 2001:db8:abc4::50
ctr_run h1 s4 ms --ip 198.18.100.51 --ip6 2001:db8:abc2::51
read -r d1 _ < <(addresses d1)
read -r d2 d2_6 < <(addresses d2)
# Both ip-ranges hold two addresses for containers (198.18.100.1 is the gateway).
assert_match '^(198\.18\.100\.[23] 198\.18\.100\.[23]|198\.18\.102\.[45] 198\.18\.102\.[45])$' "$d1 $d2" \
  "the dynamic IPv4 addresses come from one subnet's ip-range ($d1, $d2)"
assert_fails "with that ip-range full, a dynamic run fails naming it (Docker does not move on)" \
  --with "no free address left in" dk h1 run -d --name d3 --network ms "$E2E_IMAGE" sleep 1d
dk h1 rm -f d3 >/dev/null 2>&1 || true

step "each container has the gateways of its own subnets, per family"
for c in d1 d2 s1 s2 s3 s4; do assert_gateways "$c"; done
want=$(for c in d1 d2 s1 s2 s3 s4; do read -r a4 _ < <(addresses "$c"); echo "$a4/24 $(gateway_of "$a4")"; done | sort)
seen=$(mvlan_status h1 --json | json_flat | awk -F= '
  /^Networks\.0\.Endpoints\.[0-9]+\.Address=/ { split($1, p, "."); a[p[4]] = $2 }
  /^Networks\.0\.Endpoints\.[0-9]+\.Gateway=/ { split($1, p, "."); g[p[4]] = $2 }
  END { for (k in a) print a[k], g[k] }' | sort)
assert_eq "$want" "$seen" "mvlan status: each endpoint's IPv4 gateway is its subnet's"

step "the containers of each subnet reach each other"
assert_ping h1 d1 "$d2"
assert_ping h1 d1 "$d2_6"
assert_ping h1 s1 198.18.102.21
assert_ping h1 s3 198.18.100.51
assert_ping h1 s1 2001:db8:abc4::50
assert_ping h1 s2 2001:db8:abc2::51

step "host access: the host's address in the second subnet reaches containers of both"
assert_host_ping h1 198.18.102.20
assert_host_ping h1 198.18.100.50
assert_ping h1 s1 198.18.102.250
assert_ping h1 s3 198.18.102.250
assert_contains "$(ctr_exec h1 s3 ip -4 route)" "198.18.102.250 dev eth0" \
  "s3 (the other subnet) has a connected route back to the host's address"

step "a /31 network"
assert_ok "network create p2p (198.18.104.0/31, no gateway given)" \
  dk h1 network create -d mvlan --ipam-driver mvlan --subnet 198.18.104.0/31 -o parent=p0 p2p
ctr_run h1 pa p2p
if ((E2E_ENGINE >= 28)); then
  ctr_run h1 pb p2p
  assert_eq "198.18.104.0 198.18.104.1" "$(ctr_ip h1 pa p2p) $(ctr_ip h1 pb p2p)" \
    "engine $E2E_ENGINE: both addresses of the /31 go to containers"
  assert_empty "$(status_allocations h1 gateway | awk '/^198\.18\.104\./')" "no gateway was allocated in the /31"
  assert_empty "$(ctr_exec h1 pa ip -4 route show default)" "pa has no default route"
  assert_ping h1 pa 198.18.104.1
  assert_ping h1 pb 198.18.104.0
else
  # 20.10 asks the IPAM for a gateway whatever the driver says: it takes the first address.
  assert_eq "198.18.104.0 gateway -" "$(status_allocations h1 gateway | awk '/^198\.18\.104\./')" \
    "engine 20.10: the gateway takes 198.18.104.0"
  assert_eq 198.18.104.1 "$(ctr_ip h1 pa p2p)" "engine 20.10: the one container gets 198.18.104.1"
  assert_contains "$(ctr_exec h1 pa ip -4 route show default)" "via 198.18.104.0" \
    "engine 20.10: its default route goes via the gateway"
  assert_fails "engine 20.10: a second container finds no free address" --with "no free address left in" \
    dk h1 run -d --name pb --network p2p "$E2E_IMAGE" sleep 1d
fi

step "removal"
dk h1 rm -f pb >/dev/null 2>&1 || true
assert_ok "remove the containers" dk h1 rm -f d1 d2 s1 s2 s3 s4 pa
assert_ok "remove the networks" dk h1 network rm ms p2p
assert_clean h1
