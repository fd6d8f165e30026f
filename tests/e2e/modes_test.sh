#!/bin/bash
# Scenario 3: macvlan modes, one network per mode, each on its own veth parent.
#   bridge:   sibling containers reach each other;
#   private:  sibling containers cannot reach each other;
#   passthru: one container runs; a second one fails with a clear error that docker prints; a
#             second network on that parent is refused with an error naming the passthru network
#             (and a passthru network on a parent another network already uses is refused too).
#
# Usage: tests/e2e/modes_test.sh --mvlan build/mvlan [--engine 20|28|29]
source "$(dirname "$0")/lib.sh" "$@"

plugin_require

step "setup: host h1 with three veth parents, an engine and the plugin"
host_create h1
veth_parent h1 pb
veth_parent h1 pp
veth_parent h1 pt
engine_start h1
plugin_start h1

mk() { # NAME SUBNET PARENT MODE
  assert_ok "network create $1 (macvlan_mode=$4 on $3)" \
    dk h1 network create -d mvlan --ipam-driver mvlan --subnet "$2" -o parent="$3" -o macvlan_mode="$4" "$1"
  assert_contains "$(dk h1 network inspect --format '{{json .Options}}' "$1")" "\"macvlan_mode\":\"$4\"" \
    "inspect of $1 shows macvlan_mode=$4"
}
# mode_of CONTAINER: the macvlan mode of the container's eth0, as the kernel reports it.
mode_of() {
  local pid
  pid=$(dk h1 inspect --format '{{.State.Pid}}' "$1")
  nsenter --net="/proc/$pid/ns/net" ip -d link show eth0 | sed -n 's/.*macvlan mode \([a-z]*\).*/\1/p'
}

step "bridge: siblings reach each other"
mk nb 192.0.2.0/24 pb bridge
ctr_run h1 b1 nb
ctr_run h1 b2 nb
assert_eq bridge "$(mode_of b1)" "b1's eth0 is a macvlan link in bridge mode"
assert_ping h1 b1 "$(ctr_ip h1 b2 nb)"
assert_ping h1 b2 "$(ctr_ip h1 b1 nb)"

step "private: siblings cannot reach each other"
mk np 198.51.100.0/24 pp private
ctr_run h1 p1 np
ctr_run h1 p2 np
assert_eq private "$(mode_of p1)" "p1's eth0 is a macvlan link in private mode"
assert_no_ping h1 p1 "$(ctr_ip h1 p2 np)"

step "passthru: one container takes the parent over"
mk nt 203.0.113.0/24 pt passthru
nt_id=$(dk h1 network inspect --format '{{.Id}}' nt)
ctr_run h1 t1 nt
assert_eq passthru "$(mode_of t1)" "t1's eth0 is a macvlan link in passthru mode"
assert_match '^203\.0\.113\.[0-9]+$' "$(ctr_ip h1 t1 nt)" "t1 has an address in 203.0.113.0/24"

step "passthru: a second container on that network fails, and docker says why"
granted_before=$(status_allocations h1 container | awk '{print $1}' | sort | tr '\n' ' ')
assert_fails "docker run t2 on the passthru network fails, naming passthru" --with passthru \
  dk h1 run -d --name t2 --network nt "$E2E_IMAGE" sleep 1d
info "docker printed: $(tr '\n' ' ' <<<"$E2E_OUT")"
assert_contains "$E2E_OUT" "pt" "the error names the parent pt"
# A clear error says WHY: the parent is already taken by the network's one passthru container
# (not a raw kernel refusal such as "Invalid input data or parameter").
assert_match '(held by|already (carries|taken|has|in use)|to itself|only one)' "$E2E_OUT" \
  "the error says the parent is already taken by the passthru container"
assert_eq running "$(dk h1 inspect --format '{{.State.Status}}' t1)" "t1 still runs"
dk h1 rm -f t2 >/dev/null 2>&1 || true
container_grants() { status_allocations h1 container | awk '{print $1}' | sort | tr '\n' ' '; }
eventually 5 output_is "$granted_before" container_grants || true
assert_eq "$granted_before" "$(container_grants)" \
  "the failed container's address was released (grants as before)"
assert_eq "" "$(links_of_type h1 macvlan)" "no macvlan link left behind in h1 by the failed container"

step "passthru: no second network on its parent, in either order"
assert_fails "network create on the passthru network's parent pt is refused" \
  --with "$(cut -c1-12 <<<"$nt_id")" \
  dk h1 network create -d mvlan --ipam-driver mvlan --subnet 198.18.0.0/24 -o parent=pt nt2
info "docker printed: $E2E_OUT"
assert_contains "$E2E_OUT" passthru "the refusal says passthru"
nb_id=$(dk h1 network inspect --format '{{.Id}}' nb)
assert_fails "a passthru network on pb, which network nb uses, is refused" \
  --with "$(cut -c1-12 <<<"$nb_id")" \
  dk h1 network create -d mvlan --ipam-driver mvlan --subnet 198.18.1.0/24 -o parent=pb \
  -o macvlan_mode=passthru nt3
info "docker printed: $E2E_OUT"
nets=$(dk h1 network ls --format '{{.Name}}' | sort | tr '\n' ' ')
assert_not_contains "$nets" nt2 "network nt2 does not exist"
assert_not_contains "$nets" nt3 "network nt3 does not exist"
assert_eq "3 3" "$(status_counts h1)" "mvlan status holds the three networks and their pools only"
assert_eq 5 "$(status_endpoints h1 | wc -l)" "mvlan status holds five endpoints (b1 b2 p1 p2 t1), none of t2"

step "removal"
assert_ok "remove the containers" dk h1 rm -f b1 b2 p1 p2 t1
assert_ok "remove the networks" dk h1 network rm nb np nt
eventually 5 output_is "" links_of_type h1 macvlan || true
assert_empty "$(links_of_type h1 macvlan)" "no macvlan link left in h1"
assert_eq "0 0" "$(status_counts h1)" "mvlan status holds no pool and no network"
plugin_alive h1 || fail "the plugin is still running at the end" "expected: alive" "seen: exited"
pass "the plugin is still running at the end"
