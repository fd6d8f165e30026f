#!/bin/bash
# Scenario 1 of the product, the seed users' lab: one engine, mvlan as network AND IPAM driver on
# a veth parent, an aux address kept out of allocation, three containers (one with a static
# --ip) that all reach each other; inspect shows what was asked; removal leaves no macvlan link.
#
# Usage: tests/e2e/seed_lab_test.sh --mvlan build/mvlan [--engine 20|28|29]
#   E2E_REFERENCE=builtin runs the same scenario with Docker's built-in macvlan driver and default
#   IPAM instead (no plugin): the reference behaviour, and a check of the scenario itself.
source "$(dirname "$0")/lib.sh" "$@"

if [[ ${E2E_REFERENCE:-} == builtin ]]; then
  driver=(-d macvlan)
  want_driver=macvlan want_ipam=default
else
  driver=(-d mvlan --ipam-driver mvlan)
  want_driver=mvlan want_ipam=mvlan
fi

[[ $want_driver == macvlan ]] || plugin_require

step "setup: host h1 with a veth parent, an engine and the plugin"
host_create h1
veth_parent h1 p0
engine_start h1
[[ $want_driver == macvlan ]] || plugin_start h1

step "create the lab network (${driver[*]})"
assert_ok "network create lab" \
  dk h1 network create "${driver[@]}" --subnet 192.0.2.0/24 --gateway 192.0.2.1 \
  --aux-address exclude_host=192.0.2.21 -o parent=p0 lab

net=$(dk h1 network inspect --format '{{.Driver}} {{.IPAM.Driver}} {{json .IPAM.Config}}' lab)
assert_eq "$want_driver" "${net%% *}" "inspect: network driver"
ipam=${net#* }
assert_eq "$want_ipam" "${ipam%% *}" "inspect: IPAM driver"
assert_contains "$net" '"Subnet":"192.0.2.0/24"' "inspect shows the subnet"
assert_contains "$net" '"Gateway":"192.0.2.1"' "inspect shows the gateway"
assert_contains "$net" '"exclude_host":"192.0.2.21"' "inspect shows the aux address"
assert_contains "$(dk h1 network inspect --format '{{json .Options}}' lab)" '"parent":"p0"' "inspect shows parent=p0"

step "three containers, one with a static address"
ctr_run h1 c1 lab
ctr_run h1 c2 lab
ctr_run h1 c3 lab --ip 192.0.2.50
declare -A ip
for c in c1 c2 c3; do
  ip[$c]=$(ctr_ip h1 "$c" lab)
  assert_match '^192\.0\.2\.([2-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-4])$' "${ip[$c]}" \
    "$c has a host address in 192.0.2.0/24 (${ip[$c]})"
done
assert_eq 192.0.2.50 "${ip[c3]}" "c3 got the static address it asked for"
assert_unique "no container has the gateway, the aux address or another's address" \
  192.0.2.1 192.0.2.21 "${ip[c1]}" "${ip[c2]}" "${ip[c3]}"
for c in c1 c2 c3; do
  assert_contains "$(ctr_exec h1 "$c" ip route)" "default via 192.0.2.1" "$c's default route goes via the gateway"
done

step "every container reaches every other"
for a in c1 c2 c3; do
  for b in c1 c2 c3; do
    [[ $a == "$b" ]] || assert_ping h1 "$a" "${ip[$b]}"
  done
done

step "removal"
assert_ok "remove the containers" dk h1 rm -f c1 c2 c3
assert_ok "remove the network" dk h1 network rm lab
assert_not_contains "$(dk h1 network ls --format '{{.Name}}')" lab "network lab is gone"
eventually 5 output_is "" links_of_type h1 macvlan || true
assert_empty "$(links_of_type h1 macvlan)" "no macvlan link left in h1"
assert_eq "lo p0 p0-p" "$(links_of_type h1 | tr '\n' ' ' | sed 's/ $//')" "h1 has only its own links left"
if [[ $want_driver == mvlan ]]; then
  plugin_alive h1 || fail "the plugin is still running at the end" "expected: alive" "seen: exited"
  pass "the plugin is still running at the end"
fi
