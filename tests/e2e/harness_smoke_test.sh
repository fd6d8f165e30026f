#!/bin/bash
# Proves the e2e harness with Docker's BUILT-IN macvlan driver (mvlan is not needed):
#   part 1: one engine, a veth parent, a macvlan network with an aux address, two containers that
#           ping each other, inspect shows the aux address, everything removed again;
#   part 2: two engines (two namespaces) joined by a wire, same subnet, disjoint --ip-range's,
#           containers ping across the hosts.
# Usage: tests/e2e/harness_smoke_test.sh [--engine 20|28|29]
source "$(dirname "$0")/lib.sh" "$@"

step "part 1: one engine, built-in macvlan on a veth parent"
host_create h1
veth_parent h1 p0
engine_start h1

assert_ok "create macvlan network lab" \
  dk h1 network create -d macvlan --subnet 192.0.2.0/24 --gateway 192.0.2.1 \
  --aux-address exclude_host=192.0.2.21 -o parent=p0 lab
ctr_run h1 c1 lab
ctr_run h1 c2 lab
ip1=$(ctr_ip h1 c1 lab)
ip2=$(ctr_ip h1 c2 lab)
info "c1=$ip1 c2=$ip2"
assert_match '^192\.0\.2\.[0-9]+$' "$ip1" "c1 has an address in 192.0.2.0/24"
assert_match '^192\.0\.2\.[0-9]+$' "$ip2" "c2 has an address in 192.0.2.0/24"
assert_unique "containers have different addresses, none is the gateway or aux" "$ip1" "$ip2" 192.0.2.1 192.0.2.21
assert_ping h1 c1 "$ip2"
assert_ping h1 c2 "$ip1"

ipam=$(dk h1 network inspect --format '{{json .IPAM.Config}}' lab)
assert_contains "$ipam" '"Subnet":"192.0.2.0/24"' "inspect shows the subnet"
assert_contains "$ipam" '"Gateway":"192.0.2.1"' "inspect shows the gateway"
assert_contains "$ipam" '"exclude_host":"192.0.2.21"' "inspect shows the aux address"

assert_ok "remove the containers" dk h1 rm -f c1 c2
assert_ok "remove the network" dk h1 network rm lab
assert_not_contains "$(dk h1 network ls --format '{{.Name}}')" lab "network lab is gone"
assert_empty "$(links_of_type h1 macvlan)" "no macvlan link left in h1"

step "part 2: two engines joined by a wire, one subnet, disjoint ip ranges"
host_create h2
engine_start h2
wire h1 w1 h2 w2
assert_ok "h1: macvlan network lan on w1, range 192.0.2.64/27" \
  dk h1 network create -d macvlan --subnet 192.0.2.0/24 --gateway 192.0.2.1 \
  --ip-range 192.0.2.64/27 -o parent=w1 lan
assert_ok "h2: macvlan network lan on w2, range 192.0.2.128/27" \
  dk h2 network create -d macvlan --subnet 192.0.2.0/24 --gateway 192.0.2.1 \
  --ip-range 192.0.2.128/27 -o parent=w2 lan
ctr_run h1 a1 lan
ctr_run h2 b1 lan
ipa=$(ctr_ip h1 a1 lan)
ipb=$(ctr_ip h2 b1 lan)
info "h1:a1=$ipa h2:b1=$ipb"
assert_match '^192\.0\.2\.(6[4-9]|[7-8][0-9]|9[0-5])$' "$ipa" "a1's address is in h1's range"
assert_match '^192\.0\.2\.(12[89]|1[3-5][0-9])$' "$ipb" "b1's address is in h2's range"
assert_ping h1 a1 "$ipb"
assert_ping h2 b1 "$ipa"

assert_ok "h1: remove a1" dk h1 rm -f a1
assert_ok "h2: remove b1" dk h2 rm -f b1
assert_ok "h1: remove network lan" dk h1 network rm lan
assert_ok "h2: remove network lan" dk h2 network rm lan
assert_empty "$(links_of_type h1 macvlan)$(links_of_type h2 macvlan)" "no macvlan link left in h1 or h2"
