#!/bin/bash
# Issue 10: three hosts, one LAN, one subnet with NO per-host --ip-range, addresses coordinated in
# a three-member etcd cluster (MVLAN_IPAM_BACKEND=etcd). Each host has its own engine and plugin;
# a bridge in a fourth namespace ("lan") is the switch, and the etcd members run there on
# 198.51.100.1-3 (the hosts reach them over the same wire, at 198.51.100.11-13).
# 30 containers started at once across the hosts get 30 distinct addresses and reach each other;
# with one etcd member down (the leader) containers still start; with two down a start fails with
# the no-quorum message and nothing is allocated (not in etcd, not on the host); with the members
# back it starts. A plugin killed and restarted, and an engine restarted, change nothing.
# Sticky addresses through etcd: on engine 29 (which names containers) a container removed and run
# again under its name, on a daemon host and on the managed plugin's, is back on its address (parked
# in between, as mvlan status shows), and a --restart=always container comes back on its own after
# an engine restart while the others' addresses stay parked; on 20.10 and 28.5 the same steps get
# fresh addresses, as before.
# h1 and h2 run `mvlan serve` (the daemon install); h3 runs the managed plugin built from the
# release binary (E2E_MANAGED_BIN, default build/mvlan), its etcd settings given with `docker
# plugin set`.
# Removing everything leaves no address and no pool in etcd.
#
# Usage: tests/e2e/etcd_cluster_test.sh --mvlan build/mvlan [--engine 20|28|29]
source "$(dirname "$0")/lib.sh" "$@"

plugin_require
sticky=0
((E2E_ENGINE >= 29)) && sticky=1
command -v etcd >/dev/null || { echo "e2e: etcd not installed (package etcd-server); skipped" >&2; exit 77; }
HOSTS=(h1 h2 h3)

step "setup: a switch (bridge) in namespace lan, hosts h1-h3 wired to it, etcd on 198.51.100.1-3"
lan_create "${HOSTS[@]}"
ETCD_DIR="$E2E_RUN/etcd"
endpoints=$(lan_etcd_start "$ETCD_DIR")
export MVLAN_IPAM_BACKEND=etcd MVLAN_ETCD_ENDPOINTS="$endpoints" MVLAN_ETCD_PREFIX="/mvlan-e2e-$E2E_PID/"
for h in "${HOSTS[@]}"; do engine_start "$h"; done
for h in h1 h2; do MVLAN_HOST_ID=$h plugin_start "$h"; done
# The driver's name on each host: the daemon's socket name, or the managed plugin's name.
P=mvlan-etcd:latest
declare -A driver=([h1]=mvlan [h2]=mvlan [h3]=$P)
managed_plugin_dir "$E2E_RUN/plugin" "${E2E_MANAGED_BIN:-$E2E_REPO_DIR/build/mvlan}"
managed_create h3 "$P" "$E2E_RUN/plugin"
assert_ok "h3: docker plugin set (the etcd settings)" dk h3 plugin set "$P" MVLAN_IPAM_BACKEND=etcd \
  MVLAN_ETCD_ENDPOINTS="$endpoints" MVLAN_ETCD_PREFIX="$MVLAN_ETCD_PREFIX" MVLAN_HOST_ID=h3
managed_enable h3 "$P" >/dev/null
E2E_STATE_DIR[h3]=$(managed_state_dir h3 "$P")

# `mvlan status` of host H (the cluster's view, read from etcd in H's namespace, where the members
# are reachable): the allocated addresses, one per line. Fails when status does: call it in an
# assignment (`x=$(cluster_addresses h1)`), where set -e sees that, never inside an assertion's
# arguments, where a failing status would read as "no address".
cluster_status_text() {
  MVLAN_HOST_ID=$1 nsenter --net="/run/netns/$(host_ns "$1")" -- "$MVLAN_BIN" status \
    --state-dir "$(plugin_state_dir "$1")"
}
cluster_addresses() {
  local out
  out=$(cluster_status_text "$1") || fail "$1: mvlan status failed" "$out"
  awk '/^    [0-9]/ {print $1}' <<<"$out" | sort -V
}

# etcd_keys SUBDIR: the keys under $MVLAN_ETCD_PREFIX/SUBDIR/, one per line, as etcd itself has
# them (all three members are up whenever this is called), whatever mvlan says.
etcd_keys() { lan_etcd_keys "$MVLAN_ETCD_PREFIX" "$1"; }

step "the same subnet on every host, no --ip-range"
for i in 1 2 3; do
  d=${driver[h$i]}
  assert_ok "h$i: network create lan (driver $d, parent w$i)" dk "h$i" network create -d "$d" \
    --ipam-driver "$d" --subnet 192.0.2.0/24 --gateway 192.0.2.1 -o parent="w$i" lan
done

step "30 containers started at the same time, 10 per host"
declare -A pid_of=() host_of=()
for h in "${HOSTS[@]}"; do
  for k in $(seq 1 10); do
    c="$h-c$k"
    host_of[$c]=$h
    dk "$h" run -d --name "$c" --network lan "$E2E_IMAGE" \
      sh -c 'trap "exit 0" TERM INT; sleep 1d & wait' >"$E2E_RUN/$c.out" 2>&1 &
    pid_of[$c]=$!
  done
done
for c in "${!pid_of[@]}"; do
  wait "${pid_of[$c]}" || fail "docker run $c" "$(cat "$E2E_RUN/$c.out")"
done
pass "30 containers running"
declare -A ip=()
for c in "${!host_of[@]}"; do
  ip[$c]=$(ctr_ip "${host_of[$c]}" "$c" lan)
  assert_match '^192\.0\.2\.[0-9]+$' "${ip[$c]}" "$c has an address in 192.0.2.0/24 (${ip[$c]})"
done
assert_unique "no address is held twice on the LAN (gateway and 30 containers)" 192.0.2.1 "${ip[@]}"
expected=$(printf '%s\n' 192.0.2.1 "${ip[@]}" | sort -V)
for h in "${HOSTS[@]}"; do
  seen=$(cluster_addresses "$h")
  assert_eq "$expected" "$seen" "$h: mvlan status shows exactly the gateway and the 30 containers' addresses"
done
assert_eq 31 "$(etcd_keys addr | wc -l)" "etcd holds 31 address keys"

step "a container removed and run again under its name: $( ((sticky)) && echo "back on its address" || echo "a fresh address (this engine names no container)")"
for c in h1-c1 h3-c1; do
  h=${host_of[$c]}
  assert_ok "$h: rm -f $c" dk "$h" rm -f "$c"
  if ((sticky)); then
    out=$(cluster_status_text h2) || fail "h2: mvlan status failed" "$out"
    line=$(awk -v a="${ip[$c]}" '$1 == a' <<<"$out")
    assert_contains "$line" "parked    $h" "h2's mvlan status: ${ip[$c]} is parked, on $h"
    assert_contains "$line" " $c  parked since" "and bound to $c"
  fi
  ctr_run "$h" "$c" lan
  again=$(ctr_ip "$h" "$c" lan)
  if ((sticky)); then
    assert_eq "${ip[$c]}" "$again" "$c is back on its address"
  else
    assert_ne "${ip[$c]}" "$again" "$c is on a fresh address ($again)"
    ip[$c]=$again
  fi
done
assert_unique "no address is held twice on the LAN" 192.0.2.1 "${ip[@]}"

# etcd_leader: the number (1-3) of the member that leads the cluster now.
etcd_leader() {
  local n st
  for n in 1 2 3; do
    st=$(lan_etcd_v3 "$n" maintenance/status '{}') || continue
    [[ $st =~ \"member_id\":\"([0-9]+)\" ]] || continue
    [[ $st == *"\"leader\":\"${BASH_REMATCH[1]}\""* ]] && { echo "$n"; return 0; }
  done
  fail "no etcd member says it leads the cluster"
}

step "containers on different hosts reach each other"
assert_ping h1 h1-c1 "${ip[h2-c1]}"
assert_ping h1 h1-c2 "${ip[h3-c1]}"
assert_ping h2 h2-c3 "${ip[h3-c2]}"
assert_ping h2 h2-c4 "${ip[h1-c3]}"
assert_ping h3 h3-c4 "${ip[h1-c5]}"
assert_ping h3 h3-c5 "${ip[h2-c6]}"

step "one etcd member lost (the leader, the harder case): containers still start"
first=$(etcd_leader)
lan_etcd kill "$ETCD_DIR" "$first"
info "killed member $first (198.51.100.$first), the leader"
ctr_run h2 one-down lan
ip[one-down]=$(ctr_ip h2 one-down lan)
assert_match '^192\.0\.2\.[0-9]+$' "${ip[one-down]}" "one-down has an address in 192.0.2.0/24 (${ip[one-down]})"
assert_unique "its address is new on the LAN" 192.0.2.1 "${ip[@]}"
assert_ping h1 h1-c1 "${ip[one-down]}"

step "two members lost: no quorum, a new container fails saying so and nothing is allocated"
before=$(cluster_addresses h1)
assert_eq 32 "$(wc -l <<<"$before")" "mvlan status shows 32 addresses before the members go"
# h3's own endpoints (in its local database: read without etcd, which is about to lose quorum)
endpoints_before=$(MVLAN_IPAM_BACKEND=sqlite status_endpoints h3)
assert_eq 10 "$(wc -l <<<"$endpoints_before")" "h3 holds its 10 endpoints"
second=$(( first % 3 + 1 ))
lan_etcd kill "$ETCD_DIR" "$second"
info "killed member $second (198.51.100.$second) too"
rc=0
out=$(dk h3 run -d --name two-down --network lan "$E2E_IMAGE" sleep 1d 2>&1) || rc=$?
((rc != 0)) || fail "docker run without etcd quorum succeeded" "$out"
info "docker run (status $rc): $out"
assert_contains "$out" "no quorum" "docker run fails with the no-quorum message"
assert_contains "$out" "no address was allocated" "and says that nothing was allocated"
endpoints_after=$(MVLAN_IPAM_BACKEND=sqlite status_endpoints h3)
assert_eq "$endpoints_before" "$endpoints_after" "h3 holds the same endpoints as before, no new one"
assert_ping h1 h1-c1 "${ip[h2-c1]}"
assert_ping h3 h3-c1 "${ip[h2-c2]}"
dk h3 rm -f two-down >/dev/null 2>&1 || true

step "members back: the count is unchanged, and the container starts"
lan_etcd restore "$ETCD_DIR" "$first"
lan_etcd restore "$ETCD_DIR" "$second"
after=$(cluster_addresses h1)
assert_eq "$before" "$after" "mvlan status shows the same addresses as before the failed start"
assert_eq 32 "$(etcd_keys addr | wc -l)" "etcd holds 32 address keys, as before"
ctr_run h3 two-down lan
ip[two-down]=$(ctr_ip h3 two-down lan)
assert_match '^192\.0\.2\.[0-9]+$' "${ip[two-down]}" "two-down has an address in 192.0.2.0/24 (${ip[two-down]})"
assert_unique "its address is new on the LAN" 192.0.2.1 "${ip[@]}"
assert_ping h1 h1-c1 "${ip[two-down]}"

step "h2's plugin killed (SIGKILL) and started again: the cluster is unchanged and h2 grants on"
before=$(cluster_addresses h1)
MVLAN_HOST_ID=h2 plugin_restart h2
after=$(cluster_addresses h2)
assert_eq "$before" "$after" "mvlan status on h2 shows the same addresses as before the kill"
ctr_run h2 after-kill lan
ip[after-kill]=$(ctr_ip h2 after-kill lan)
assert_match '^192\.0\.2\.[0-9]+$' "${ip[after-kill]}" "after-kill has an address in 192.0.2.0/24 (${ip[after-kill]})"
assert_unique "its address is new on the LAN" 192.0.2.1 "${ip[@]}"
assert_ping h3 h3-c1 "${ip[after-kill]}"

step "h3's engine restarted: its --restart=always container comes back, the others' addresses are $( ((sticky)) && echo parked || echo freed)"
ctr_run h3 always lan --restart=always
always_before=$(ctr_ip h3 always lan)
engine_restart h3
managed_wait h3 "$P" >/dev/null  # the engine enables its plugins again as it starts
eventually 30 output_is true dk h3 inspect --format '{{.State.Running}}' always ||
  fail "h3's --restart=always container runs again after the engine restart" \
    "seen: $(dk h3 inspect --format '{{.State.Status}} {{.State.Error}}' always 2>&1)"
pass "h3's --restart=always container runs again after the engine restart"
# The engine stopped h3's other containers on the way down (their addresses go back to the
# cluster; engine 29 named them, so there they stay parked for them) and asked again for the one
# it restarted.
if ((!sticky)); then
  for k in $(seq 1 10); do unset "ip[h3-c$k]"; done
  unset "ip[two-down]"
fi
ip[always]=$(ctr_ip h3 always lan)
assert_match '^192\.0\.2\.[0-9]+$' "${ip[always]}" "it has an address in 192.0.2.0/24 (${ip[always]})"
if ((sticky)); then assert_eq "$always_before" "${ip[always]}" "it is back on its own address"; fi
assert_unique "no address is held twice on the LAN" 192.0.2.1 "${ip[@]}"
expected=$(printf '%s\n' 192.0.2.1 "${ip[@]}" | sort -V)
eventually 30 output_is "$expected" cluster_addresses h1 || true
seen=$(cluster_addresses h1)
assert_eq "$expected" "$seen" "mvlan status shows exactly the gateway and the running containers' addresses"
assert_ping h1 h1-c1 "${ip[always]}"

step "removal on every host"
for h in "${HOSTS[@]}"; do
  # shellcheck disable=SC2046 # container names
  assert_ok "$h: remove the containers" dk "$h" rm -f $(dk "$h" ps -aq)
  assert_ok "$h: remove the network" dk "$h" network rm lan
done
left=$(cluster_addresses h1)
assert_empty "$left" "mvlan status shows no address any more"
left=$(etcd_keys addr)
assert_empty "$left" "etcd holds no address key any more"
left=$(etcd_keys pools)
assert_empty "$left" "etcd holds no pool key any more"
left=$(etcd_keys names)
assert_empty "$left" "etcd holds no name binding any more"
assert_ok "h3: docker plugin disable" dk h3 plugin disable "$P"
assert_ok "h3: docker plugin rm" dk h3 plugin rm "$P"
lan_etcd stop "$ETCD_DIR"
