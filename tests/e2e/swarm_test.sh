#!/bin/bash
# Swarm services on mvlan, as the README's "Swarm services" section tells users to run them: the
# managed plugin under the same name on every node (swarm ignores legacy plugins, and the legacy
# daemon is refused), a --config-only network per node, one --scope swarm --config-from network,
# and a service with --endpoint-mode dnsrr (a node-local network gets no VIP):
#   0. the legacy daemon: a local network works, a swarm network on it is refused;
#   1. a config-only network with a typo (-o parnet=...) is accepted by Docker; the first task
#      fails and its error names the option and the network;
#   2. 3 replicas, scaled to 5, a rolling update (service update --force), scaled back to 3: every
#      replica has an address no other holds, from its node's part of the subnet, and reaches the
#      others (across nodes too); the service's name resolves to every replica on every node; on
#      one node and engine 29 every replica keeps its address through the update (sticky);
#   3. service rm and network rm: on every node no container, no macvlan link, and mvlan holds no
#      endpoint, network or pool (with etcd: no address or pool key left in etcd).
# E2E_SWARM_NODES=1|2 (default 1): one manager, or a manager and a worker on one LAN (a bridge in
# a namespace of its own). E2E_SWARM_IPAM=sqlite|etcd (default sqlite): with sqlite each node's
# config-only network has its own --ip-range; with etcd (two nodes, a three-member etcd cluster on
# the LAN) both give the same --subnet and no --ip-range, and never hand out an address twice.
#
# Usage: E2E_SWARM_NODES=2 tests/e2e/swarm_test.sh --mvlan build/mvlan [--engine 20|28|29]
# (the release binary: it runs as the managed plugin)
source "$(dirname "$0")/lib.sh" "$@"

NODES=${E2E_SWARM_NODES:-1}
IPAM=${E2E_SWARM_IPAM:-sqlite}
[[ $NODES == 1 || $NODES == 2 ]] || fail "E2E_SWARM_NODES=$NODES: give 1 or 2"
[[ $IPAM == sqlite || $IPAM == etcd ]] || fail "E2E_SWARM_IPAM=$IPAM: give sqlite or etcd"
[[ $IPAM == sqlite || $NODES == 2 ]] || fail "E2E_SWARM_IPAM=etcd needs E2E_SWARM_NODES=2"
P=mvlan:latest
plugin_require
if [[ $IPAM == etcd ]] && ! command -v etcd >/dev/null; then
  echo "e2e: etcd not installed (package etcd-server); skipped" >&2
  exit 77
fi

HOSTS=(h1)
((NODES == 1)) || HOSTS+=(h2)
step "setup: ${HOSTS[*]} on one LAN (198.51.100.0/24), an engine on each, the managed plugin $P on each ($IPAM)"
lan_create "${HOSTS[@]}"
if [[ $IPAM == etcd ]]; then
  endpoints=$(lan_etcd_start "$E2E_RUN/etcd")
  prefix=/mvlan-e2e-$E2E_PID/
fi
declare -A addr parent range
i=0
for h in "${HOSTS[@]}"; do
  i=$((i + 1))
  addr[$h]=198.51.100.1$i
  parent[$h]=w$i
  engine_start "$h"
done

# Before the managed plugin exists: `-d mvlan` would find mvlan:latest ("could not resolve driver
# mvlan in registry").
step "the legacy daemon (mvlan serve on a socket), used before the swarm, serves no swarm network"
plugin_start h1
assert_ok "h1: a local network on the legacy plugin" dk h1 network create -d mvlan \
  --ipam-driver mvlan --subnet 203.0.113.0/24 -o parent=w1 local1
swarm_init h1 "${addr[h1]}"
assert_ok "h1: network create --config-only legacy-cfg" dk h1 network create --config-only \
  --ipam-driver mvlan --subnet 198.18.0.0/24 -o parent=w1 legacy-cfg
assert_fails "network create -d mvlan --scope swarm (the legacy plugin) is refused" \
  --with "legacy plugin mvlan of type NetworkDriver is not supported in swarm mode" \
  dk h1 network create -d mvlan --scope swarm --config-from legacy-cfg legacy
assert_ok "h1: network rm legacy-cfg local1" dk h1 network rm legacy-cfg local1
plugin_kill h1 TERM

managed_plugin_dir "$E2E_RUN/plugin"
for h in "${HOSTS[@]}"; do
  managed_create "$h" "$P" "$E2E_RUN/plugin"
  if [[ $IPAM == etcd ]]; then
    assert_ok "$h: docker plugin set (the etcd settings)" dk "$h" plugin set "$P" \
      MVLAN_IPAM_BACKEND=etcd MVLAN_ETCD_ENDPOINTS="$endpoints" \
      MVLAN_ETCD_PREFIX="$prefix" MVLAN_HOST_ID="$h"
  fi
  managed_enable "$h" "$P" >/dev/null
  E2E_STATE_DIR[$h]=$(managed_state_dir "$h" "$P")
done
range=([h1]=192.0.2.64/26 [h2]=192.0.2.128/26)
declare -A lo=([h1]=64 [h2]=128) hi=([h1]=127 [h2]=191)

((NODES == 1)) || swarm_join h2 "${addr[h2]}" h1 "${addr[h1]}"
assert_eq "$NODES" "$(dk h1 node ls -q | wc -l)" "the swarm has $NODES node(s)"
swarm_wait_plugin h1 "$P"

# config_only HOST NAME [-o KEY=VALUE...]: the node's own part of the network's configuration.
config_only() {
  local h=$1 name=$2
  shift 2
  local r=(--ip-range "${range[$h]}")
  [[ $IPAM == sqlite ]] || r=()
  assert_ok "$h: network create --config-only $name ${r[*]} $*" dk "$h" network create --config-only \
    --ipam-driver "$P" --subnet 192.0.2.0/24 --gateway 192.0.2.1 "${r[@]}" "$@" "$name"
}

# ---- 1. a typo in the config-only network --------------------------------------------------------
step "a typo in a config-only network reaches mvlan only when the first task starts"
for h in "${HOSTS[@]}"; do config_only "$h" typo-cfg -o parnet="${parent[$h]}"; done
assert_ok "network create --scope swarm --config-from typo-cfg typo" \
  dk h1 network create -d "$P" --scope swarm --config-from typo-cfg typo
typo_id=$(dk h1 network inspect --format '{{.Id}}' typo)
assert_ok "service create bad (on typo): Docker accepts it" dk h1 service create -d --name bad \
  --network typo --endpoint-mode dnsrr --replicas 1 --no-resolve-image "$E2E_IMAGE" sleep 1d
task_error() { dk h1 service ps --no-trunc --format '{{.Error}}' bad | grep -m1 .; }
eventually 30 task_error || fail "the task of service bad fails" "tasks: $(dk h1 service ps --no-trunc bad 2>&1)"
err=$(task_error)
info "the task's error: $err"
assert_contains "$err" "network ${typo_id:0:12}: unknown option \"parnet\" (did you mean parent?)" \
  "the task's error names the network (${typo_id:0:12}, as network ls shows it) and the option"
assert_ok "service rm bad" dk h1 service rm bad
assert_ok "network rm typo" dk h1 network rm typo
for h in "${HOSTS[@]}"; do assert_ok "$h: network rm typo-cfg" dk "$h" network rm typo-cfg; done

# ---- 2. the service --------------------------------------------------------------------------------
step "config-only networks, the swarm network, a dnsrr service of 3"
for h in "${HOSTS[@]}"; do config_only "$h" lan-cfg -o parent="${parent[$h]}"; done
assert_ok "network create -d $P --scope swarm --config-from lan-cfg lan" \
  dk h1 network create -d "$P" --scope swarm --config-from lan-cfg lan
assert_eq "swarm $P" "$(dk h1 network inspect --format '{{.Scope}} {{.Driver}}' lan)" \
  "lan is a swarm network of $P"
assert_ok "service create web (dnsrr, 3 replicas)" dk h1 service create -d --name web --network lan \
  --endpoint-mode dnsrr --replicas 3 --update-parallelism 2 --update-delay 0s --update-monitor 1s \
  --no-resolve-image "$E2E_IMAGE" sh -c 'trap "exit 0" TERM; sleep 1d & wait'

# dns_addresses HOST CONTAINER NAME: the IPv4 addresses NAME resolves to inside CONTAINER, sorted.
dns_addresses() {
  dk "$1" exec "$2" nslookup "$3" 2>/dev/null | awk '$1 == "Address:" && $2 !~ /:/ {print $2}' | sort | tr '\n' ' '
}

# check_replicas N: N replicas run, with N distinct addresses from their node's part (SQLite) and
# distinct MACs, mvlan's endpoints are exactly the replicas, the name web resolves to them all, and
# they reach each other.
check_replicas() {
  local n=$1 h c a last all=() seen want
  local -A where=() ipof=()
  service_wait h1 web "$n" 90
  for h in "${HOSTS[@]}"; do
    for c in $(service_containers "$h" web); do
      a=$(dk "$h" inspect --format '{{(index .NetworkSettings.Networks "lan").IPAddress}}' "$c")
      assert_match '^192\.0\.2\.[0-9]+$' "$a" "$h: replica ${c:0:12} has an address ($a)"
      if [[ $IPAM == sqlite ]]; then
        last=${a##*.}
        ((last >= lo[$h] && last <= hi[$h])) ||
          fail "$h: replica ${c:0:12}'s address is from $h's --ip-range ${range[$h]}" "seen: $a"
      fi
      where[$c]=$h
      ipof[$c]=$a
      all+=("$a")
    done
  done
  assert_eq "$n" "${#all[@]}" "$n replicas run on the nodes"
  assert_unique "no two replicas (and not the gateway) share an address" 192.0.2.1 "${all[@]}"
  for h in "${HOSTS[@]}"; do
    want=$(for c in "${!where[@]}"; do if [[ ${where[$c]} == "$h" ]]; then echo "${ipof[$c]}"; fi; done | sort | tr '\n' ' ')
    seen=$(status_endpoints "$h" | awk '{sub(/\/.*/, "", $4); print $4}' | sort | tr '\n' ' ')
    assert_eq "$want" "$seen" "$h: mvlan's endpoints are the replicas on $h"
  done
  # shellcheck disable=SC2046 # one MAC a line
  assert_unique "no two replicas share a MAC" $(for h in "${HOSTS[@]}"; do status_endpoints "$h" | awk '{print $3}'; done)
  # dnsrr: the service's name resolves to every replica's address, on every node
  want=$(printf '%s\n' "${all[@]}" | sort | tr '\n' ' ')
  for h in "${HOSTS[@]}"; do
    a=$(service_containers "$h" web | head -1)
    eventually 20 output_is "$want" dns_addresses "$h" "$a" web ||
      fail "$h: the name web resolves to every replica" "expected: $want" "seen: $(dns_addresses "$h" "$a" web)"
    pass "$h: the name web resolves to every replica ($want)"
  done
  # one replica reaches every other, and every other reaches it (across nodes too)
  c=$(printf '%s\n' "${!where[@]}" | head -1)
  for a in "${all[@]}"; do
    [[ $a == "${ipof[$c]}" ]] || assert_ping "${where[$c]}" "${c:0:12}" "$a"
  done
  for a in "${!where[@]}"; do
    [[ $a == "$c" ]] || assert_ping "${where[$a]}" "${a:0:12}" "${ipof[$c]}"
  done
}
check_replicas 3
((NODES == 1)) || assert_ne 0 "$(service_containers h2 web | wc -l)" "h2 runs replicas too"

step "scale to 5"
assert_ok "service scale web=5" dk h1 service scale -d web=5
check_replicas 5

# slot_addresses: "SLOT ADDRESS" of every replica on every node, by slot (task web.SLOT.ID).
slot_addresses() {
  local h c
  for h in "${HOSTS[@]}"; do
    for c in $(service_containers "$h" web); do
      dk "$h" inspect --format \
        '{{index .Config.Labels "com.docker.swarm.task.name"}} {{(index .NetworkSettings.Networks "lan").IPAddress}}' "$c"
    done
  done | awk '{split($1, t, "."); print t[2], $2}' | sort -n
}

step "rolling update: service update --force replaces every task"
before=$(for h in "${HOSTS[@]}"; do service_containers "$h" web; done | sort)
slots_before=$(slot_addresses)
assert_ok "service update --force web" dk h1 service update -d --force web
updated() {
  [[ $(dk h1 service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' web) == completed ]]
}
eventually 120 updated || fail "the update of web completes" "$(dk h1 service inspect --format '{{json .UpdateStatus}}' web)"
pass "the update of web completed"
check_replicas 5
after=$(for h in "${HOSTS[@]}"; do service_containers "$h" web; done | sort)
assert_empty "$(comm -12 <(echo "$before") <(echo "$after"))" "no container of before the update runs"
slots_after=$(slot_addresses)
info "slot and address before the update: $(tr '\n' ' ' <<<"$slots_before"); after: $(tr '\n' ' ' <<<"$slots_after")"
# Sticky addresses: engine 29 names each task web.SLOT.ID, and mvlan binds it by web.SLOT. On one
# node every slot's new task runs where its old one did (with two, swarm may move it).
if ((NODES == 1 && E2E_ENGINE >= 29)); then
  assert_eq "$slots_before" "$slots_after" "engine 29: every replica kept its address through the update (bound by service and slot)"
elif ((NODES == 1)); then
  assert_empty "$(comm -12 <(echo "$slots_before") <(echo "$slots_after"))" \
    "engine $E2E_ENGINE sends no names: no replica's new task got its old address (round-robin)"
fi

step "scale back to 3"
assert_ok "service scale web=3" dk h1 service scale -d web=3
check_replicas 3

# ---- 3. removal ----------------------------------------------------------------------------------
step "service rm, network rm: nothing left behind"
assert_ok "service rm web" dk h1 service rm web
for h in "${HOSTS[@]}"; do
  eventually 30 output_is "" service_containers "$h" web || fail "$h: web's containers are gone" "$(service_containers "$h" web)"
  pass "$h: web's containers are gone"
done
assert_ok "network rm lan" dk h1 network rm lan
for h in "${HOSTS[@]}"; do
  eventually 30 output_is "" dk "$h" network ls -q --filter name=^lan$ ||
    fail "$h: the node's copy of lan is gone" "$(dk "$h" network ls 2>&1)"
  pass "$h: the node's copy of lan is gone"
  assert_ok "$h: network rm lan-cfg" dk "$h" network rm lan-cfg
  assert_empty "$(links_of_type "$h" macvlan)" "$h: no macvlan link left"
  assert_empty "$(status_endpoints "$h")" "$h: mvlan holds no endpoint"
  assert_eq "0 0" "$(status_counts "$h")" "$h: mvlan holds no pool and no network"
done
if [[ $IPAM == etcd ]]; then
  left=$(lan_etcd_keys "$prefix" addr)
  assert_empty "$left" "etcd holds no address key any more"
  left=$(lan_etcd_keys "$prefix" pools)
  assert_empty "$left" "etcd holds no pool key any more"
  lan_etcd stop "$E2E_RUN/etcd" >/dev/null
fi
