#!/bin/bash
# Fault 2: SIGKILL the plugin while 20 `docker run`s on its network are under way, and start it
# again. Every container either runs with an address no other holds (and mvlan agrees with Docker
# on it), or its run failed with an error and left nothing running; the failed ones run when tried
# again; no endpoint link is left in the host's namespace. The kill lands after a random number
# of Joins (seeded; E2E_FAULT_SEED repeats a run).
#
# Usage: tests/fault/plugin_kill_during_runs_test.sh --mvlan build/mvlan [--engine 20|28|29]
source "$(dirname "$0")/../e2e/lib.sh" "$@"

plugin_require
N=20
seed=${E2E_FAULT_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$seed
kill_after=$((1 + RANDOM % 12)) # Joins answered before the kill
info "seed $seed (E2E_FAULT_SEED=$seed repeats it): SIGKILL after $kill_after Joins"

step "setup: host h1 with a veth parent, an engine and the plugin"
host_create h1
veth_parent h1 p0
engine_start h1
plugin_start h1
B=$(host_dir h1)
assert_ok "network create lab" \
  dk h1 network create -d mvlan --ipam-driver mvlan --subnet 192.0.2.0/24 --gateway 192.0.2.1 -o parent=p0 lab

# joins: Joins the plugin answered since the log line $1 (the log is appended across restarts).
joins() { tail -n +"$1" "$B/mvlan.log" | grep -c ' joined: link ' || true; }
# run_one NAME: docker run in the background; its status and output land in $B/run-NAME.{rc,out}.
run_pids=()
run_one() {
  (rc=0
  dk h1 run -d --name "$1" --network lab "$E2E_IMAGE" sh -c 'trap "exit 0" TERM INT; sleep 1d & wait' \
    >"$B/run-$1.out" 2>&1 || rc=$?
  echo "$rc" >"$B/run-$1.rc") &
  run_pids+=($!)
}
# running NAME: the container is running.
running() { [[ $(dk h1 inspect --format '{{.State.Running}}' "$1" 2>/dev/null) == true ]]; }
# (eventually runs its command again and again, so the conditions are functions, not $(...).)
joined_at_least() { (($(joins "$log_from") >= $1)); }
runs_ended() { (($(find "$B" -maxdepth 1 -name 'run-r*.rc' | wc -l) == N)); }
no_macvlan_links() { [[ -z $(links_of_type h1 macvlan) ]]; }
# docker_view / mvlan_view: "ADDRESS MAC" of every container on lab, as Docker and as mvlan see it.
docker_view() {
  dk h1 network inspect --format '{{range .Containers}}{{.IPv4Address}} {{.MacAddress}}{{"\n"}}{{end}}' lab |
    sed '/^$/d' | sort
}
mvlan_view() { status_endpoints h1 | awk '{print $4, $3}' | sort; }

step "$N docker runs at once; SIGKILL the plugin after $kill_after of their Joins"
log_from=$(($(wc -l <"$B/mvlan.log") + 1))
for i in $(seq 1 $N); do run_one "r$i"; done
eventually 60 joined_at_least "$kill_after" ||
  fail "the plugin answered $kill_after Joins" "seen: $(joins "$log_from")"
plugin_kill h1 KILL
pass "killed the plugin after $(joins "$log_from") Joins"

step "start the plugin again; wait for every docker run to end"
plugin_start h1
eventually 120 runs_ended ||
  fail "all $N docker runs ended" "seen: $(find "$B" -maxdepth 1 -name 'run-r*.rc' | wc -l) ended" \
    "plugin answers: $(plugin_answers h1 && echo yes || echo no)" "$(dk h1 ps -a --format '{{.Names}} {{.Status}}' 2>&1)"
wait "${run_pids[@]}"

declare -a ran=() failed=()
for i in $(seq 1 $N); do
  if [[ $(cat "$B/run-r$i.rc") == 0 ]]; then ran+=("r$i"); else failed+=("r$i"); fi
done
info "${#ran[@]} runs succeeded, ${#failed[@]} failed${failed:+: ${failed[*]}}"
for c in "${failed[@]}"; do
  info "$c: $(tr '\n' ' ' <"$B/run-$c.out")"
  assert_match '[Ee]rror' "$(cat "$B/run-$c.out")" "docker run $c failed with an error message"
  running "$c" && fail "$c is not running after its failed run" "seen: running"
  pass "$c is not running"
done

step "every container that runs has an address of its own, and mvlan agrees"
declare -A ip
for c in "${ran[@]}"; do
  eventually 10 running "$c" || fail "$c runs" "seen: $(dk h1 inspect --format '{{.State.Status}} {{.State.Error}}' "$c" 2>&1)"
  ip[$c]=$(ctr_ip h1 "$c" lab)
  assert_match '^192\.0\.2\.[0-9]+$' "${ip[$c]}" "$c has an address on lab"
done
((${#ran[@]} == 0)) || assert_unique "no address is held twice (gateway and the running containers)" 192.0.2.1 "${ip[@]}"
assert_eq "$(docker_view)" "$(mvlan_view)" "mvlan's endpoints are exactly Docker's containers on lab"
eventually 10 no_macvlan_links || true
assert_empty "$(links_of_type h1 macvlan)" "no macvlan link is left in h1's namespace"
# Parked addresses (engine 29: kept for a container's name) are no leak.
leaked=$(comm -23 <(status_allocations h1 | awk '$2 != "gateway" && $2 != "parked" {print $1}' | sort) \
  <(printf '%s\n' "${ip[@]}" | sed '/^$/d' | sort) | tr '\n' ' ')
info "grants held by no running container: ${leaked:-none}"
# A CreateEndpoint the kill cut off after mvlan stored it: dropped when Docker released its address.
dropped=$(grep -c ' when Docker released it' "$B/mvlan.log" || true)
info "endpoints of cut-off CreateEndpoints dropped on ReleaseAddress: $dropped"

step "the runs that failed succeed when tried again"
for c in "${failed[@]}"; do
  assert_ok "remove the failed $c" dk h1 rm -f "$c"
  ctr_run h1 "$c" lab
  ip[$c]=$(ctr_ip h1 "$c" lab)
done
assert_unique "no address is held twice (gateway and all $N containers)" 192.0.2.1 "${ip[@]}"
assert_eq "$N" "$(docker_view | wc -l)" "$N containers on lab"
assert_eq "$(docker_view)" "$(mvlan_view)" "mvlan's endpoints are exactly Docker's $N containers"
assert_ping h1 r1 "${ip[r$N]}"

step "removal"
assert_ok "remove the containers" dk h1 rm -f $(seq -f 'r%g' 1 $N)
assert_ok "remove the network" dk h1 network rm lab
eventually 10 no_macvlan_links || true
assert_empty "$(links_of_type h1 macvlan)" "no macvlan link left in h1"
assert_eq "0 0" "$(status_counts h1)" "mvlan status holds no pool and no network"
info "figures: seed $seed, 1 kill after $kill_after Joins, $N runs: ${#ran[@]} ran, ${#failed[@]} failed and ran when tried again; grants left by failed runs: ${leaked:-none}; endpoints dropped: $dropped"
