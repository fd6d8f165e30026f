#!/bin/bash
# Fault 6: mvlan is down while the engine restarts, and starts only after the engine is up again.
# Containers with a restart policy (one with a fixed --ip) and one without are on an mvlan network
# when mvlan stops; the engine stops them and comes back without the plugin. Once mvlan is up:
# the containers can be (or already are) started again, with the fixed address kept; the network
# is listed, inspected and usable by a new container; and nothing stale remains: mvlan's
# endpoints are exactly Docker's containers, no address is held twice or by no container, no link
# is left in the host's namespace, and `docker network rm` leaves mvlan holding nothing.
#
# Usage: tests/fault/engine_restart_plugin_late_test.sh --mvlan build/mvlan [--engine 20|28|29]
source "$(dirname "$0")/../e2e/lib.sh" "$@"

plugin_require

step "setup: host h1 with a veth parent, an engine and the plugin"
host_create h1
veth_parent h1 p0
engine_start h1
plugin_start h1

step "a network with three containers: r1 (restart always), r2 (restart always, --ip), s1 (no policy)"
assert_ok "network create lab" \
  dk h1 network create -d mvlan --ipam-driver mvlan --subnet 192.0.2.0/24 --gateway 192.0.2.1 -o parent=p0 lab
net_id=$(dk h1 network inspect --format '{{.Id}}' lab)
ctr_run h1 r1 lab --restart=always
ctr_run h1 r2 lab --restart=always --ip 192.0.2.50
ctr_run h1 s1 lab

# grants: every address mvlan holds for a container, sorted, on one line (not the gateway, nor an
# address parked for a container's name on engine 29).
grants() { status_allocations h1 | awk '$2 != "gateway" && $2 != "parked" {print $1}' | sort | tr '\n' ' ' | sed 's/ $//'; }
# addresses NAME...: their addresses on lab (of those running), sorted, on one line.
addresses() {
  local c
  for c in "$@"; do running "$c" && ctr_ip h1 "$c" lab; done |
    sort | tr '\n' ' ' | sed 's/ $//'
}
docker_view() {
  dk h1 network inspect --format '{{range .Containers}}{{.IPv4Address}} {{.MacAddress}}{{"\n"}}{{end}}' lab |
    sed '/^$/d' | sort
}
mvlan_view() { status_endpoints h1 | awk '{print $4, $3}' | sort; }
# (eventually runs its command again and again, so the conditions are functions, not $(...).)
running() { [[ $(dk h1 inspect --format '{{.State.Running}}' "$1" 2>/dev/null) == true ]]; }
no_macvlan_links() { [[ -z $(links_of_type h1 macvlan) ]]; }

step "mvlan stops; the engine stops and starts again while mvlan is down; mvlan starts 8 s late"
B=$(host_dir h1)
plugin_kill h1 TERM
t0=$EPOCHREALTIME
engine_stop h1 --keep-containers
info "the engine stopped in $(_e2e_since "$t0") without the plugin"
# The engine restores its networks and containers before it answers its API, asking the plugin
# meanwhile: so mvlan is started late from the background while engine_start waits for the API.
(sleep 8 && plugin_start h1) >>"$B/late-plugin.log" 2>&1 &
late=$!
t0=$EPOCHREALTIME
engine_start h1
wait "$late" || fail "mvlan started late" "$(cat "$B/late-plugin.log")"
E2E_PLUGIN_PID[h1]=$(awk '$3 == "mvlan-h1" { pid = $1 } END { print pid }' "$E2E_RUN/.state/pids")
plugin_alive h1 || fail "the late mvlan runs" "seen: pid '${E2E_PLUGIN_PID[h1]}' gone"
info "the engine answered $(_e2e_since "$t0") after its start; mvlan came 8 s after it"
info "r1 $(dk h1 inspect --format '{{.State.Status}}' r1), r2 $(dk h1 inspect --format '{{.State.Status}}' r2), s1 $(dk h1 inspect --format '{{.State.Status}}' s1)"

# The engine may still be retrying its restart-policy starts; what it gave up on is started by
# hand, as an operator would after bringing the plugin back.
for c in r1 r2; do
  if ! eventually 30 running "$c"; then
    info "$c did not come back by itself ($(dk h1 inspect --format '{{.State.Status}} {{.State.Error}}' "$c")): docker start"
    assert_ok "docker start $c once mvlan is up" dk h1 start "$c"
  fi
  pass "$c runs"
done
assert_ok "docker start s1 once mvlan is up" dk h1 start s1

step "the network answers correctly"
assert_contains "$(dk h1 network ls --format '{{.Name}} {{.Driver}}')" "lab mvlan" "network lab (driver mvlan) is listed"
assert_eq "$net_id" "$(dk h1 network inspect --format '{{.Id}}' lab)" "docker network inspect lab: the same id"
assert_eq "192.0.2.50" "$(ctr_ip h1 r2 lab)" "r2 kept its fixed address"
ctr_run h1 n1 lab
all=$(addresses r1 r2 s1 n1)
info "addresses: $all"
assert_eq 4 "$(wc -w <<<"$all")" "r1, r2, s1 and n1 run with an address on lab"
# shellcheck disable=SC2086
assert_unique "no address is held twice (gateway, r1, r2, s1, n1)" 192.0.2.1 $all
assert_ping h1 n1 "$(ctr_ip h1 r1 lab)"
assert_ping h1 r2 "$(ctr_ip h1 s1 lab)"

step "nothing stale remains"
assert_eq "$all" "$(grants)" "mvlan holds exactly the four containers' addresses (and the gateway)"
assert_eq "$(docker_view)" "$(mvlan_view)" "mvlan's endpoints are exactly Docker's containers on lab"
eventually 10 no_macvlan_links || true
assert_empty "$(links_of_type h1 macvlan)" "no macvlan link is left in h1's namespace"

step "removal"
assert_ok "remove the containers" dk h1 rm -f r1 r2 s1 n1
assert_ok "docker network rm lab" dk h1 network rm lab
eventually 10 no_macvlan_links || true
assert_empty "$(links_of_type h1 macvlan)" "no macvlan link left in h1"
assert_eq "0 0" "$(status_counts h1)" "mvlan status holds no pool and no network"

# The late mvlan is not a child of this shell (the harness cannot wait for it): stop it here, so
# that it ends on SIGTERM as a service would, not on the cleanup's SIGKILL.
late_pid=${E2E_PLUGIN_PID[h1]}
kill -TERM "$late_pid"
gone() { ! kill -0 "$late_pid" 2>/dev/null; }
eventually 10 gone || fail "the late mvlan stops on SIGTERM" "seen: pid $late_pid still running"
unset 'E2E_PLUGIN_PID[h1]'
pass "the late mvlan stopped on SIGTERM"
