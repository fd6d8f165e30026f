#!/bin/bash
# Scenario 2: two hosts and a wire. Each host has its own engine and its own mvlan; a veth pair
# plays the cable between them. Both create a network on their end of the wire with the SAME
# subnet and gateway and DISJOINT --ip-ranges (the README's two-hosts-one-LAN recipe):
# containers on different hosts reach each other, every address comes from its host's range,
# and no address is held twice on the LAN.
#
# Usage: tests/e2e/two_hosts_test.sh --mvlan build/mvlan [--engine 20|28|29]
source "$(dirname "$0")/lib.sh" "$@"

plugin_require

step "setup: hosts h1 and h2, a wire w1 <-> w2, an engine and the plugin on each"
host_create h1
host_create h2
wire h1 w1 h2 w2
engine_start h1
engine_start h2
plugin_start h1
plugin_start h2

declare -A range=([h1]=192.0.2.64/26 [h2]=192.0.2.128/26) parent=([h1]=w1 [h2]=w2)
# The host part each range allows (first..last usable address of the /26).
declare -A lo=([h1]=64 [h2]=128) hi=([h1]=127 [h2]=191)

step "the same subnet on both hosts, each with its own --ip-range"
for h in h1 h2; do
  assert_ok "$h: network create lan (ip-range ${range[$h]}, parent ${parent[$h]})" \
    dk "$h" network create -d mvlan --ipam-driver mvlan --subnet 192.0.2.0/24 \
    --gateway 192.0.2.1 --ip-range "${range[$h]}" -o parent="${parent[$h]}" lan
  assert_contains "$(dk "$h" network inspect --format '{{json .IPAM.Config}}' lan)" \
    "\"IPRange\":\"${range[$h]}\"" "$h: inspect shows the ip-range ${range[$h]}"
done

step "two containers on each host"
ctr_run h1 a1 lan
ctr_run h2 b1 lan
ctr_run h1 a2 lan
ctr_run h2 b2 lan
declare -A ip host=([a1]=h1 [a2]=h1 [b1]=h2 [b2]=h2)
for c in a1 a2 b1 b2; do
  h=${host[$c]}
  ip[$c]=$(ctr_ip "$h" "$c" lan)
  assert_match '^192\.0\.2\.[0-9]+$' "${ip[$c]}" "$h:$c has an address in 192.0.2.0/24 (${ip[$c]})"
  last=${ip[$c]##*.}
  ((last >= lo[$h] && last <= hi[$h])) ||
    fail "$h:$c's address comes from $h's range ${range[$h]}" "expected: 192.0.2.${lo[$h]}-192.0.2.${hi[$h]}" "seen: ${ip[$c]}"
  pass "$h:$c's address ${ip[$c]} comes from $h's range ${range[$h]}"
  assert_contains "$(ctr_exec "$h" "$c" ip -4 addr show eth0)" "inet ${ip[$c]}/24" \
    "$h:$c has ${ip[$c]}/24 on eth0 inside"
done
assert_unique "no address is held twice on the LAN (gateway and the four containers)" \
  192.0.2.1 "${ip[a1]}" "${ip[a2]}" "${ip[b1]}" "${ip[b2]}"

step "each host's IPAM granted exactly its own containers' addresses"
for h in h1 h2; do
  want=$(for c in a1 a2 b1 b2; do if [[ ${host[$c]} == "$h" ]]; then echo "${ip[$c]}"; fi; done | sort | tr '\n' ' ' | sed 's/ $//')
  seen=$(status_allocations "$h" container | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//')
  assert_eq "$want" "$seen" "$h: mvlan status lists the container addresses $want"
done

step "containers on different hosts reach each other across the wire"
assert_ping h1 a1 "${ip[b1]}"
assert_ping h1 a2 "${ip[b2]}"
assert_ping h2 b1 "${ip[a2]}"
assert_ping h2 b2 "${ip[a1]}"
step "and siblings on one host too"
assert_ping h1 a1 "${ip[a2]}"
assert_ping h2 b2 "${ip[b1]}"

step "the neighbours see each address at one MAC only (no duplicate on the wire)"
for c in b1 b2; do
  mac=$(dk h2 inspect --format '{{(index .NetworkSettings.Networks "lan").MacAddress}}' "$c")
  neigh=$(ctr_exec h1 a1 ip neigh show "${ip[$c]}")
  assert_contains "$neigh" "$mac" "h1:a1's neighbour entry for ${ip[$c]} is h2:$c's MAC $mac"
done

step "removal on both hosts"
declare -A ctrs=([h1]="a1 a2" [h2]="b1 b2")
for h in h1 h2; do
  # shellcheck disable=SC2086 # two names
  assert_ok "$h: remove the containers" dk "$h" rm -f ${ctrs[$h]}
  assert_ok "$h: remove the network" dk "$h" network rm lan
  eventually 5 output_is "" links_of_type "$h" macvlan || true
  assert_empty "$(links_of_type "$h" macvlan)" "$h: no macvlan link left"
  assert_eq "0 0" "$(status_counts "$h")" "$h: mvlan status holds no pool and no network"
  plugin_alive "$h" || fail "$h: the plugin is still running at the end" "expected: alive" "seen: exited"
  pass "$h: the plugin is still running at the end"
done
