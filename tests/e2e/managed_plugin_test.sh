#!/bin/bash
# mvlan as a MANAGED plugin (docker plugin create/enable), the way most users install it: the
# plugin directory that `make plugin` builds (config.json + a rootfs with the release binary and
# the libraries it needs), in an isolated engine. One engine, one plugin, in this order:
#   1. the seed lab (scenario 1): -d mvlan:latest --ipam-driver mvlan:latest, aux address, three
#      containers (one static), unique addresses, all ping each other;
#   2. macvlan modes (scenario 3): private siblings cannot talk, passthru takes one container only
#      and its parent cannot carry a second network (bridge is the lab's mode);
#   3. SIGKILL of the plugin process (scenario 6): the engine starts it again; running containers
#      keep working; new containers get addresses nobody holds;
#   4. `docker plugin disable -f`, `docker plugin set LOG_LEVEL=debug` (refused while enabled),
#      enable: the network and every address survive, and the plugin logs at debug level;
#   5. engine restart: the plugin comes back with the engine, a --restart=always container comes
#      back with its address, stopped containers start again, nothing is handed out twice;
#   6. removal: networks, plugin; no macvlan link and no plugin cgroup left.
#
# Usage: tests/e2e/managed_plugin_test.sh --mvlan build/mvlan [--engine 20|28|29]
# (the release binary: an ASan build would need its runtime inside the plugin's rootfs)
source "$(dirname "$0")/lib.sh" "$@"

P=mvlan:latest
plugin_require

step "the plugin directory, as make plugin builds it"
managed_plugin_dir "$E2E_RUN/plugin"
[[ ! -e $E2E_RUN/plugin/rootfs/bin/sh && ! -e $E2E_RUN/plugin/rootfs/usr/bin/sh ]] ||
  fail "the plugin's rootfs has a shell"
pass "the plugin's rootfs has no shell"

step "setup: host h1, parents p0 (lab), p1 (private), p2 (passthru), an engine; the plugin"
host_create h1
for l in p0 p1 p2; do veth_parent h1 "$l"; done
engine_start h1
managed_create h1 "$P" "$E2E_RUN/plugin"
t0=$EPOCHREALTIME
pid=$(managed_enable h1 "$P")
info "plugin enabled and answering in $(_e2e_since "$t0") (pid $pid)"
assert_eq true "$(dk h1 plugin inspect --format '{{.Enabled}}' "$P")" "docker plugin ls shows $P enabled"
assert_eq '[CAP_NET_ADMIN]' "$(dk h1 plugin inspect --format '{{.Config.Linux.Capabilities}}' "$P")" \
  "the plugin asks for CAP_NET_ADMIN only"
assert_eq "[LOG_LEVEL=info MVLAN_DEFAULT_POOLS=198.18.0.0/15/24,fd6d:766c:616e::/48/64 MVLAN_JOIN_GRACE=60 MVLAN_IPAM_BACKEND=sqlite MVLAN_ETCD_ENDPOINTS= MVLAN_ETCD_PREFIX=/mvlan/ MVLAN_HOST_ID= MVLAN_ETCD_TIMEOUT=5 MVLAN_ETCD_CACERT= MVLAN_ETCD_CERT= MVLAN_ETCD_KEY=]" \
  "$(dk h1 plugin inspect --format '{{.Settings.Env}}' "$P")" "settable env and defaults (etcd settings empty: SQLite)"
state=$(managed_state_dir h1 "$P")
[[ -f $state/mvlan.db ]] || fail "the database is in the propagatedMount" "expected: $state/mvlan.db" "seen: $(ls -la "$state" 2>&1)"
pass "the database is in the propagatedMount ($state)"

# ---- 1. the seed lab ---------------------------------------------------------------------------
step "scenario 1: the seed lab on $P"
assert_ok "network create lab" \
  dk h1 network create -d "$P" --ipam-driver "$P" --subnet 192.0.2.0/24 --gateway 192.0.2.1 \
  --aux-address exclude_host=192.0.2.21 -o parent=p0 lab
net=$(dk h1 network inspect --format '{{.Driver}} {{.IPAM.Driver}} {{json .IPAM.Config}}' lab)
assert_eq "$P $P" "$(cut -d' ' -f1,2 <<<"$net")" "inspect: network and IPAM driver are $P"
assert_contains "$net" '"exclude_host":"192.0.2.21"' "inspect shows the aux address"
ctr_run h1 c1 lab
ctr_run h1 c2 lab --restart always
ctr_run h1 c3 lab --ip 192.0.2.50
declare -A ip
for c in c1 c2 c3; do ip[$c]=$(ctr_ip h1 "$c" lab); done
assert_eq 192.0.2.50 "${ip[c3]}" "c3 got the static address it asked for"
assert_match '^192\.0\.2\.[0-9]+$' "${ip[c1]}" "c1 has an address (${ip[c1]})"
assert_unique "no container has the gateway, the aux address or another's address" \
  192.0.2.1 192.0.2.21 "${ip[c1]}" "${ip[c2]}" "${ip[c3]}"
for a in c1 c2 c3; do
  for b in c1 c2 c3; do [[ $a == "$b" ]] || assert_ping h1 "$a" "${ip[$b]}"; done
done

# ---- 2. modes ----------------------------------------------------------------------------------
step "scenario 3: private siblings cannot talk; passthru takes one container and its parent"
assert_ok "network create priv (private, p1)" dk h1 network create -d "$P" --ipam-driver "$P" \
  --subnet 198.51.100.0/24 --gateway 198.51.100.1 -o parent=p1 -o macvlan_mode=private priv
ctr_run h1 v1 priv
ctr_run h1 v2 priv
assert_no_ping h1 v1 "$(ctr_ip h1 v2 priv)"
assert_ok "network create pt (passthru, p2)" dk h1 network create -d "$P" --ipam-driver "$P" \
  --subnet 203.0.113.0/24 --gateway 203.0.113.1 -o parent=p2 -o macvlan_mode=passthru pt
ctr_run h1 t1 pt
assert_fails "a second container on the passthru network is refused" \
  dk h1 run -d --name t2 --network pt "$E2E_IMAGE" sleep 1d
dk h1 rm -f t2 >/dev/null 2>&1 || true
assert_fails "a second network on the passthru parent is refused" --with passthru \
  dk h1 network create -d "$P" --ipam-driver "$P" --subnet 198.18.5.0/24 -o parent=p2 pt2
assert_ok "remove the mode containers and networks" \
  sh -c "$(printf '%q ' "$E2E_DOCKER" -H "unix://$(host_dir h1)/docker.sock") rm -f v1 v2 t1 >/dev/null && \
    $(printf '%q ' "$E2E_DOCKER" -H "unix://$(host_dir h1)/docker.sock") network rm priv pt"

# ---- 3. SIGKILL --------------------------------------------------------------------------------
step "scenario 6: SIGKILL the plugin process while containers run"
t0=$EPOCHREALTIME
kill -KILL "$pid"
info "plugin (pid $pid) killed with SIGKILL"
pid=$(managed_wait h1 "$P" "$pid" 30)
info "the engine started the plugin again in $(_e2e_since "$t0") (pid $pid)"
assert_eq true "$(dk h1 plugin inspect --format '{{.Enabled}}' "$P")" "the plugin is still enabled"
assert_ping h1 c1 "${ip[c3]}"
assert_ping h1 c3 "${ip[c2]}"
ctr_run h1 c4 lab
ip[c4]=$(ctr_ip h1 c4 lab)
assert_unique "c4 (after the crash) got an address nobody holds (${ip[c4]})" \
  192.0.2.1 192.0.2.21 "${ip[c1]}" "${ip[c2]}" "${ip[c3]}" "${ip[c4]}"
assert_ping h1 c4 "${ip[c1]}"

# ---- 4. disable, set, enable -------------------------------------------------------------------
step "disable -f, docker plugin set LOG_LEVEL=debug, enable: state kept, debug logging"
before=$(managed_status h1 "$P" | grep -v 'last dynamic')
assert_fails "docker plugin set is refused while enabled" --with disable \
  dk h1 plugin set "$P" LOG_LEVEL=debug
assert_fails "docker plugin disable (no -f) is refused while a network uses it" \
  dk h1 plugin disable "$P"
assert_ok "docker plugin disable -f" dk h1 plugin disable -f "$P"
eventually 10 output_is "" managed_pids h1 || fail "the plugin process ended on disable" "seen: $(managed_pids h1)"
pass "the plugin process ended on disable"
assert_ok "docker plugin set LOG_LEVEL=debug (disabled)" dk h1 plugin set "$P" LOG_LEVEL=debug
assert_contains "$(dk h1 plugin inspect --format '{{.Settings.Env}}' "$P")" LOG_LEVEL=debug "the setting is kept"
mark=$(wc -l <"$(host_dir h1)/dockerd.log")
pid=$(managed_enable h1 "$P")
assert_eq LOG_LEVEL=debug "$(tr '\0' '\n' <"/proc/$pid/environ" | grep '^LOG_LEVEL=')" \
  "the plugin process runs with LOG_LEVEL=debug"
assert_eq "$before" "$(managed_status h1 "$P" | grep -v 'last dynamic')" \
  "mvlan status shows the same pools, networks, endpoints and addresses after disable/enable"
assert_ping h1 c1 "${ip[c4]}"
ctr_run h1 c5 lab
ip[c5]=$(ctr_ip h1 c5 lab)
assert_unique "c5 (after disable/enable) got an address nobody holds (${ip[c5]})" \
  192.0.2.1 192.0.2.21 "${ip[c1]}" "${ip[c2]}" "${ip[c3]}" "${ip[c4]}" "${ip[c5]}"
assert_ping h1 c5 "${ip[c3]}"
debug_lines=$(tail -n +"$((mark + 1))" "$(host_dir h1)/dockerd.log" | grep -c 'msg="[0-9T:.-]*Z debug' || true)
((debug_lines > 0)) || fail "LOG_LEVEL=debug makes the plugin log every request" \
  "expected: debug lines from the plugin in the engine's log after enable" "seen: none" \
  "(the binary reads MVLAN_LOG_LEVEL only: plugin/options.cpp must fall back to LOG_LEVEL)"
pass "LOG_LEVEL=debug makes the plugin log every request ($debug_lines debug lines)"

# ---- 5. engine restart -------------------------------------------------------------------------
step "engine restart"
assert_ok "stop c5 (it is started again after the restart)" dk h1 stop -t 1 c5
engine_restart h1
pid=$(managed_wait h1 "$P")
assert_eq true "$(dk h1 plugin inspect --format '{{.Enabled}}' "$P")" "the plugin is enabled again with the engine"
assert_contains "$(dk h1 network ls --format '{{.Name}} {{.Driver}}')" "lab $P" "network lab is there"
eventually 20 output_is true dk h1 inspect --format '{{.State.Running}}' c2 ||
  fail "c2 (--restart always) runs again after the engine restart"
pass "c2 (--restart always) runs again after the engine restart"
assert_ok "start c1 c3 c4 c5 again" dk h1 start c1 c3 c4 c5
for c in c1 c2 c3 c4 c5; do ip[$c]=$(ctr_ip h1 "$c" lab); done
assert_eq 192.0.2.50 "${ip[c3]}" "c3 has its static address again"
assert_unique "after the restart no address is held twice (${ip[*]})" \
  192.0.2.1 192.0.2.21 "${ip[c1]}" "${ip[c2]}" "${ip[c3]}" "${ip[c4]}" "${ip[c5]}"
for c in c1 c2 c4 c5; do assert_ping h1 c3 "${ip[$c]}"; done
assert_ping h1 c2 "${ip[c3]}"
# grants of the lab's pool held for containers: not the gateway, the aux address, nor an address
# parked for a container's name (engine 29)
lab_grants() {
  managed_status h1 "$P" |
    awk '$1 ~ /^192\.0\.2\./ && $1 != "192.0.2.1" && $1 != "192.0.2.21" && $2 != "parked" {print $1}' |
    sort | tr '\n' ' '
}
assert_eq "$(printf '%s\n' "${ip[@]}" | sort | tr '\n' ' ')" "$(lab_grants)" \
  "mvlan status: the plugin holds exactly the running containers' addresses"

# ---- 6. removal --------------------------------------------------------------------------------
step "removal"
id=$(managed_id h1 "$P")
assert_ok "remove the containers" dk h1 rm -f c1 c2 c3 c4 c5
assert_empty "$(lab_grants)" "mvlan status: every container address was released"
assert_ok "remove the network" dk h1 network rm lab
eventually 5 output_is "" links_of_type h1 macvlan || true
assert_empty "$(links_of_type h1 macvlan)" "no macvlan link left in h1"
assert_ok "docker plugin disable" dk h1 plugin disable "$P"
assert_ok "docker plugin rm" dk h1 plugin rm "$P"
eventually 5 output_is "" managed_pids h1 || true
assert_empty "$(managed_pids h1)" "no mvlan process left"
assert_empty "$(ls -d /sys/fs/cgroup/*/"$id" 2>/dev/null)" "no cgroup of the plugin left"
