#!/bin/bash
# Scenario 5: `docker network connect` / `disconnect` on a running container. Connecting adds a
# macvlan link inside the container with an address the IPAM grants; disconnecting removes the
# link (from the container, and from the host, where Docker hands it back) and releases the
# address. `docker network rm` is refused while an endpoint exists (Docker's own check); after
# the container goes, removal is clean: no macvlan link in the namespace, no pool in mvlan status.
#
# Usage: tests/e2e/connect_disconnect_test.sh --mvlan build/mvlan [--engine 20|28|29]
source "$(dirname "$0")/lib.sh" "$@"

plugin_require

step "setup: host h1 with a veth parent, an engine and the plugin"
host_create h1
veth_parent h1 p0
engine_start h1
plugin_start h1

step "two networks sharing the parent p0"
assert_ok "network create n1 (192.0.2.0/24)" \
  dk h1 network create -d mvlan --ipam-driver mvlan --subnet 192.0.2.0/24 -o parent=p0 n1
assert_ok "network create n2 (198.51.100.0/24)" \
  dk h1 network create -d mvlan --ipam-driver mvlan --subnet 198.51.100.0/24 -o parent=p0 n2

# ctr_links NAME: the links inside the container other than lo, "name:address" sorted by name.
ctr_links() {
  local l out=''
  for l in $(ctr_exec h1 "$1" ls /sys/class/net | grep -vx lo | sort); do
    out+="$l:$(ctr_exec h1 "$1" ip -o -4 addr show dev "$l" | awk '{print $4}') "
  done
  echo "${out% }"
}
grants() { status_allocations h1 container | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//'; }
host_macvlans() { links_of_type h1 macvlan | tr '\n' ' ' | sed 's/ $//'; }

step "a container on n1, and a peer on n2 to talk to"
ctr_run h1 c1 n1
ctr_run h1 peer n2
a1=$(ctr_ip h1 c1 n1)
peer=$(ctr_ip h1 peer n2)
assert_eq "eth0:$a1/24" "$(ctr_links c1)" "c1 has one link, eth0, with $a1/24"
assert_eq "$(printf '%s\n' "$a1" "$peer" | sort | tr '\n' ' ' | sed 's/ $//')" "$(grants)" \
  "mvlan status: granted to containers: c1's and peer's addresses"
assert_empty "$(host_macvlans)" "no macvlan link in h1's own namespace (both are in containers)"

step "docker network connect n2 c1"
assert_ok "network connect n2 c1" dk h1 network connect n2 c1
a2=$(ctr_ip h1 c1 n2)
assert_match '^198\.51\.100\.[0-9]+$' "$a2" "c1 got an address on n2 ($a2)"
assert_ne "$peer" "$a2" "c1's n2 address differs from peer's"
assert_eq "eth0:$a1/24 eth1:$a2/24" "$(ctr_links c1)" "c1 now has eth0 ($a1/24) and eth1 ($a2/24)"
assert_eq "$(printf '%s\n' "$a1" "$a2" "$peer" | sort | tr '\n' ' ' | sed 's/ $//')" "$(grants)" \
  "mvlan status: c1's new address on n2 is granted"
assert_eq 3 "$(status_endpoints h1 | wc -l)" "mvlan status: three endpoints (c1 on n1 and n2, peer)"
assert_ping h1 c1 "$peer"
assert_ping h1 peer "$a2"

step "docker network disconnect n1 c1 (its first network)"
assert_ok "network disconnect n1 c1" dk h1 network disconnect n1 c1
assert_eq "eth1:$a2/24" "$(ctr_links c1)" "c1 has only eth1 ($a2/24) left"
eventually 5 output_is "" host_macvlans || true
assert_empty "$(host_macvlans)" "the link Docker handed back to h1 was deleted"
assert_eq "$(printf '%s\n' "$a2" "$peer" | sort | tr '\n' ' ' | sed 's/ $//')" "$(grants)" \
  "mvlan status: c1's n1 address $a1 is released"
assert_eq 2 "$(status_endpoints h1 | wc -l)" "mvlan status: two endpoints left"
assert_ping h1 c1 "$peer"

step "docker network rm is refused while endpoints exist"
assert_fails "network rm n2 with c1 and peer on it is refused" dk h1 network rm n2
info "docker printed: $(tr '\n' ' ' <<<"$E2E_OUT")"
assert_contains "$E2E_OUT" "active endpoints" "Docker says the network has active endpoints"
assert_contains "$(dk h1 network ls --format '{{.Name}}')" n2 "n2 is still listed"
assert_ping h1 c1 "$peer"

step "connect c1 back to n1, then disconnect n2"
assert_ok "network connect n1 c1" dk h1 network connect n1 c1
a1b=$(ctr_ip h1 c1 n1)
assert_match '^192\.0\.2\.[0-9]+$' "$a1b" "c1 got an address on n1 again ($a1b)"
if ((E2E_ENGINE >= 29)); then # the engine names c1: its address was parked for it
  assert_eq "$a1" "$a1b" "c1 gets its n1 address $a1 back (engine 29 names the container: sticky)"
else
  assert_ne "$a1" "$a1b" "the just-released $a1 is not handed out again at once (round-robin)"
fi
assert_ok "network disconnect n2 c1" dk h1 network disconnect n2 c1
links=$(ctr_links c1)
assert_match "^eth[0-9]+:$a1b/24\$" "$links" "c1 has one link, with $a1b/24 ($links)"
assert_eq "$(printf '%s\n' "$a1b" "$peer" | sort | tr '\n' ' ' | sed 's/ $//')" "$(grants)" \
  "mvlan status: c1's n2 address $a2 is released"

step "removal"
assert_ok "remove the containers" dk h1 rm -f c1 peer
assert_empty "$(grants)" "mvlan status: no address granted to a container"
assert_ok "remove both networks" dk h1 network rm n1 n2
assert_empty "$(dk h1 network ls -q --filter driver=mvlan)" "no mvlan network listed"
eventually 5 output_is "" host_macvlans || true
assert_empty "$(host_macvlans)" "no macvlan link left in h1"
assert_eq "lo p0 p0-p" "$(links_of_type h1 | tr '\n' ' ' | sed 's/ $//')" "h1 has only its own links left"
assert_eq "0 0" "$(status_counts h1)" "mvlan status holds no pool and no network"
assert_contains "$(mvlan_status h1)" "no pools" "mvlan status says: no pools"
plugin_alive h1 || fail "the plugin is still running at the end" "expected: alive" "seen: exited"
pass "the plugin is still running at the end"
