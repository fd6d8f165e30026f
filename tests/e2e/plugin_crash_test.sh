#!/bin/bash
# Scenario 6: the plugin dies (SIGKILL) while containers run on its network, and is started
# again on the same state. Running containers keep working all along (their links do not need
# the plugin); new containers get new, unique addresses; `mvlan status` agrees with
# `docker network inspect` (the same container addresses); `docker network rm` works afterwards.
#
# Usage: tests/e2e/plugin_crash_test.sh --mvlan build/mvlan [--engine 20|28|29]
source "$(dirname "$0")/lib.sh" "$@"

plugin_require

step "setup: host h1 with a veth parent, an engine and the plugin"
host_create h1
veth_parent h1 p0
engine_start h1
plugin_start h1

step "a network and two containers"
assert_ok "network create lab" \
  dk h1 network create -d mvlan --ipam-driver mvlan --subnet 192.0.2.0/24 --gateway 192.0.2.1 -o parent=p0 lab
ctr_run h1 c1 lab
ctr_run h1 c2 lab
declare -A ip
ip[c1]=$(ctr_ip h1 c1 lab)
ip[c2]=$(ctr_ip h1 c2 lab)
assert_ping h1 c1 "${ip[c2]}"

# docker_view: "ADDRESS MAC" of every container on lab, from `docker network inspect`, sorted.
docker_view() {
  dk h1 network inspect --format '{{range .Containers}}{{.IPv4Address}} {{.MacAddress}}{{"\n"}}{{end}}' lab |
    sed '/^$/d' | sort
}
# mvlan_view: "ADDRESS MAC" of every endpoint the plugin holds, from `mvlan status --json`, sorted.
mvlan_view() { status_endpoints h1 | awk '{print $4, $3}' | sort; }
# grants: the addresses the IPAM granted to containers (no prefix), sorted.
grants() { status_allocations h1 container | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//'; }

assert_eq "$(docker_view)" "$(mvlan_view)" "before the crash: mvlan status and docker network inspect agree"

step "SIGKILL the plugin while c1 and c2 run"
plugin_kill h1 KILL
assert_ping h1 c1 "${ip[c2]}"
assert_ping h1 c2 "${ip[c1]}"
pass "with the plugin dead, the running containers still reach each other"

step "start the plugin again on the same state"
plugin_start h1
assert_ping h1 c1 "${ip[c2]}"
assert_eq "$(docker_view)" "$(mvlan_view)" "after the restart: mvlan status and docker network inspect agree"
assert_eq "$(printf '%s\n' "${ip[c1]}" "${ip[c2]}" | sort | tr '\n' ' ' | sed 's/ $//')" "$(grants)" \
  "after the restart: the IPAM still holds c1's and c2's addresses"

step "new containers get new, unique addresses"
ctr_run h1 c3 lab
ctr_run h1 c4 lab
ip[c3]=$(ctr_ip h1 c3 lab)
ip[c4]=$(ctr_ip h1 c4 lab)
info "addresses: c1 ${ip[c1]}, c2 ${ip[c2]}, c3 ${ip[c3]}, c4 ${ip[c4]}"
assert_unique "no address is held twice (gateway, c1..c4)" 192.0.2.1 "${ip[c1]}" "${ip[c2]}" "${ip[c3]}" "${ip[c4]}"
assert_ping h1 c3 "${ip[c1]}"
assert_ping h1 c1 "${ip[c4]}"
assert_ping h1 c4 "${ip[c2]}"
assert_eq "$(docker_view)" "$(mvlan_view)" "with four containers: mvlan status and docker network inspect agree"
assert_eq "$(printf '%s\n' "${ip[@]}" | sort | tr '\n' ' ' | sed 's/ $//')" "$(grants)" \
  "the IPAM holds exactly the four containers' addresses"

step "a container removed after the restart releases its address and link"
assert_ok "remove c1" dk h1 rm -f c1
unset 'ip[c1]'
assert_eq "$(printf '%s\n' "${ip[@]}" | sort | tr '\n' ' ' | sed 's/ $//')" "$(grants)" \
  "c1's address is released"
assert_eq "$(docker_view)" "$(mvlan_view)" "with three containers: mvlan status and docker network inspect agree"

step "removal"
assert_ok "remove the containers" dk h1 rm -f c2 c3 c4
assert_ok "remove the network" dk h1 network rm lab
eventually 5 output_is "" links_of_type h1 macvlan || true
assert_empty "$(links_of_type h1 macvlan)" "no macvlan link left in h1"
assert_eq "0 0" "$(status_counts h1)" "mvlan status holds no pool and no network"
plugin_alive h1 || fail "the plugin is still running at the end" "expected: alive" "seen: exited"
pass "the plugin is still running at the end"
