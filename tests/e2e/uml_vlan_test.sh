#!/bin/bash
# Scenario 8 of the product: VLAN parents that mvlan makes, inside user-mode Linux (the host kernel
# has no 802.1Q, nor dummy links) with a real Docker engine (20.10 or 28.5). A dummy link d0 plays
# the NIC. Two networks on -o parent=d0.10 and -o parent=d0.20 make VLAN links 10 and 20; both
# networks use the SAME subnet (disjoint --ip-range), so only the VLAN parent separates them: two
# containers on VLAN 10 reach each other, one on VLAN 20 does not reach them although its address
# is on-link. A network without parent gets a dummy link mvlan makes, and no gateway on engine 28
# (GwAllocCheck), one it keeps unused on 20.10. Removing the networks removes the VLAN and dummy
# links mvlan made; a VLAN link the user made (d0.30) survives `docker network rm` of its network.
#
# Usage (root, on the host): tests/e2e/uml_vlan_test.sh [--mvlan build/mvlan] [--engine 20|28|29]
# It re-runs itself inside UML through tests/e2e/uml_engine.sh (see there: deadline, logs).
#
# Note: a dummy link drops what it sends, so VLAN 10 and VLAN 20 here are two L2 segments that
# share nothing: what is checked is that mvlan puts each network's containers on its own VLAN
# link (not on d0, not on the other VLAN), which is what keeps them apart on a real trunk.
if [[ -z ${MVLAN_IN_UML:-} ]]; then exec bash "$(dirname "$0")/uml_engine.sh" "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=uml_engine_lib.sh
source "$MVLAN_UML_LIB"

mv=(-d mvlan --ipam-driver mvlan)

step "setup: a dummy link d0 as the NIC, no VLAN links yet"
ip link add d0 type dummy
ip link set d0 up
for l in d0.10 d0.20; do assert_no_link "$l" "no $l before the networks"; done

step "two networks on VLANs 10 and 20 of d0, one subnet, disjoint ip-ranges"
assert_ok "network create vlan10 (parent d0.10)" \
  dk network create "${mv[@]}" --subnet 192.0.2.0/24 --ip-range 192.0.2.64/26 \
  --gateway 192.0.2.1 -o parent=d0.10 vlan10
assert_vlan d0.10 d0 10
assert_ok "network create vlan20 (parent d0.20, same subnet, other ip-range)" \
  dk network create "${mv[@]}" --subnet 192.0.2.0/24 --ip-range 192.0.2.128/26 \
  --gateway 192.0.2.254 -o parent=d0.20 vlan20
assert_vlan d0.20 d0 20
assert_vlan d0.10 d0 10

step "two containers on VLAN 10, one on VLAN 20"
# One after the other: started together they contend for the xtables lock (the engine's DNS
# rules) on UML's single CPU, and are no faster.
ctr_run c1 vlan10
ctr_run c2 vlan10
ctr_run c3 vlan20
declare -A ip
out=$(dk inspect --format '{{.Name}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' c1 c2 c3)
while read -r c a; do ip[${c#/}]=$a; done <<<"$out"
for c in c1 c2; do
  assert_match '^192\.0\.2\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])$' "${ip[$c]:-}" "$c has an address of vlan10's ip-range (${ip[$c]:-})"
done
assert_match '^192\.0\.2\.(12[89]|1[3-8][0-9]|19[01])$' "${ip[c3]:-}" "c3 has an address of vlan20's ip-range (${ip[c3]:-})"
assert_eq 3 "$(printf '%s\n' "${ip[@]}" | sort -u | wc -l)" "the three addresses differ"

step "VLAN 10 containers reach each other; the VLAN 20 one does not reach them"
# One exec per container (each costs seconds here): the lower link (iflink) of its eth0, which
# must be its network's VLAN link; its routes, where 192.0.2.0/24 must be on-link, so that only
# layer 2 can keep c3 from c1; and whether it reaches its peer (3 tries: the first ARP may be slow).
probe() { # NAME PEER-IP TRIES
  # shellcheck disable=SC2016 # expanded by the container's sh
  ctr_exec "$1" sh -c 'cat /sys/class/net/eth0/iflink; ip route
    i=0; while [ $i -lt "$2" ]; do ping -c 1 -W 1 "$1" >/dev/null 2>&1 && { echo reached; exit; }; i=$((i+1)); done
    echo unreached' sh "$2" "$3"
}
idx10=$(cat /sys/class/net/d0.10/ifindex)
idx20=$(cat /sys/class/net/d0.20/ifindex)
for c in c1 c2 c3; do
  case $c in
    c1) peer=c2 want=$idx10 vlan=d0.10 reach=reached tries=3 ;;
    c2) peer=c1 want=$idx10 vlan=d0.10 reach=reached tries=3 ;;
    c3) peer=c1 want=$idx20 vlan=d0.20 reach=unreached tries=2 ;;
  esac
  out=$(probe "$c" "${ip[$peer]}" "$tries")
  assert_eq "$want" "${out%%$'\n'*}" "$c's eth0 hangs off $vlan (ifindex $want)"
  assert_contains "$out" "192.0.2.0/24 dev eth0" "$c has 192.0.2.0/24 on-link"
  if [[ $reach == reached ]]; then
    assert_eq reached "${out##*$'\n'}" "$c pings $peer (${ip[$peer]})"
  else
    assert_eq unreached "${out##*$'\n'}" "$c (VLAN 20) does not reach $peer (${ip[$peer]}, VLAN 10)"
  fi
done

step "a network on a VLAN link the user made (d0.30)"
ip link add link d0 name d0.30 type vlan id 30
ip link set d0.30 up
assert_ok "network create vlan30 (parent d0.30, the user's)" \
  dk network create "${mv[@]}" --subnet 203.0.113.0/24 --gateway 203.0.113.1 -o parent=d0.30 vlan30

step "a network without parent: mvlan makes a dummy link for it, and the network is internal"
assert_ok "network create noparent (no -o parent)" dk network create "${mv[@]}" --subnet 198.51.100.0/24 noparent
id=$(dk network inspect --format '{{.Id}}' noparent)
dm=dm-${id:0:12}
assert_match "^[0-9]+: $dm: <([^>]*,)?UP[,>].* dummy " "$(link_details "$dm")" "$dm is a dummy link, up"
gw=$(mvlan_status | awk '$1 ~ /^198\.51\.100\./ && $2 == "gateway" {print $1}')
# The engines differ here (README "Engine compatibility"): only 28 asks the driver first.
if ((E2E_ENGINE >= 28)); then
  assert_empty "$gw" "engine 28: mvlan was asked for no gateway for noparent (GwAllocCheck: skip)"
  first=198.51.100.1
else
  assert_eq 198.51.100.1 "$gw" "engine 20.10: the engine asks for a gateway anyway (no GwAllocCheck); mvlan holds 198.51.100.1 unused"
  first=198.51.100.2
fi
ctr_run c4 noparent
assert_eq "$first" "$(ctr_ip c4 noparent)" "the first container on noparent gets $first"
out=$(ctr_exec c4 sh -c 'cat /sys/class/net/eth0/iflink; ip route')
assert_eq "$(cat "/sys/class/net/$dm/ifindex")" "${out%%$'\n'*}" "c4's eth0 hangs off $dm"
[[ $out != *default* ]] || fail "c4 on the internal noparent has no default route" "seen: $out"
pass "c4 on the internal noparent has no default route"

step "removal: the VLAN and dummy links mvlan made go with their networks, the user's stays"
assert_ok "remove the containers" dk rm -f c1 c2 c3 c4
assert_ok "network rm noparent" dk network rm noparent
assert_no_link "$dm" "$dm (made by mvlan) is gone with noparent"
assert_ok "network rm vlan10" dk network rm vlan10
assert_no_link d0.10 "d0.10 (made by mvlan) is gone with vlan10"
assert_vlan d0.20 d0 20
assert_ok "network rm vlan20" dk network rm vlan20
assert_no_link d0.20 "d0.20 (made by mvlan) is gone with vlan20"
assert_ok "network rm vlan30" dk network rm vlan30
assert_vlan d0.30 d0 30
assert_empty "$(links_of_type macvlan)" "no macvlan link is left"
assert_eq "d0 d0.30" "$( (links_of_type dummy; links_of_type vlan) | sort | tr '\n' ' ' | sed 's/ $//')" \
  "only d0 and the user's d0.30 are left of the dummy and VLAN links"
plugin_alive || fail "the plugin is still running at the end" "expected: alive" "seen: exited"
pass "the plugin is still running at the end"
