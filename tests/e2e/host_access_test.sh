#!/bin/bash
# Issue 7, host access: the host cannot reach its own macvlan containers (the kernel passes no
# traffic between a parent and its macvlan children) unless the network has -o host_access, which
# gives the host a macvlan link of its own on the parent. Shown both ways: without host_access the
# host's ping fails although it has an address on the same LAN; with it the host pings a
# container and the container pings the host; after a plugin restart, and after the host link was
# deleted behind mvlan's back and mvlan restarted, it works again; removal leaves no link.
#
# Usage: tests/e2e/host_access_test.sh --mvlan build/mvlan [--engine 20|28|29]
source "$(dirname "$0")/lib.sh" "$@"

plugin_require

# both_ways: the host reaches c1, and c1 reaches the host's address on lab.
both_ways() {
  assert_host_ping h1 "$ip1"
  assert_ping h1 c1 192.0.2.254
}

step "setup: host h1 with two veth parents (p1 carries the host's own LAN address), an engine, the plugin"
host_create h1
veth_parent h1 p0
veth_parent h1 p1
in_ns h1 ip addr add 198.51.100.21/24 dev p1 || fail "address 198.51.100.21/24 on p1"
engine_start h1
plugin_start h1

step "without host_access: the host cannot ping a container, even from an address on its LAN"
assert_ok "network create plain" \
  dk h1 network create -d mvlan --ipam-driver mvlan --subnet 198.51.100.0/24 \
  --gateway 198.51.100.1 --aux-address exclude_host=198.51.100.21 -o parent=p1 plain
ctr_run h1 c0 plain
ip0=$(ctr_ip h1 c0 plain)
! host_pings h1 "$ip0" || fail "host h1 must not reach $ip0 on plain" "expected: no answer" "seen: answers"
pass "host h1 does not reach $ip0 (macvlan's limit)"
assert_no_ping h1 c0 198.51.100.21

step "host_access is refused where it cannot work"
assert_fails "host_access on a passthru network" --with "passthru" \
  dk h1 network create -d mvlan --ipam-driver mvlan --subnet 203.0.113.0/24 \
  -o parent=p0 -o macvlan_mode=passthru -o host_access=203.0.113.254 refused
assert_fails "host_access on an internal network" --with "internal" \
  dk h1 network create -d mvlan --ipam-driver mvlan --subnet 203.0.113.0/24 --internal \
  -o parent=p0 -o host_access=auto refused
assert_fails "host_access outside the subnet" --with "outside" \
  dk h1 network create -d mvlan --ipam-driver mvlan --subnet 203.0.113.0/24 \
  -o parent=p0 -o host_access=192.0.2.254 refused

step "with host_access=192.0.2.254: the host and the containers reach each other"
assert_ok "network create lab" \
  dk h1 network create -d mvlan --ipam-driver mvlan --subnet 192.0.2.0/24 --gateway 192.0.2.1 \
  -o parent=p0 -o host_access=192.0.2.254 lab
id=$(dk h1 network inspect --format '{{.Id}}' lab)
shim=mh${id:0:12}
assert_eq "$shim" "$(links_of_type h1 macvlan | grep '^mh')" "the host link $shim is on h1"
assert_contains "$(in_ns h1 ip -o addr show dev "$shim")" "192.0.2.254/32" "$shim holds 192.0.2.254/32"
ctr_run h1 c1 lab
ctr_run h1 c2 lab
ip1=$(ctr_ip h1 c1 lab)
ip2=$(ctr_ip h1 c2 lab)
assert_unique "no container has the host's address or the gateway" 192.0.2.254 192.0.2.1 "$ip1" "$ip2"
assert_fails "a container cannot take the host's address" --with "already in use" \
  dk h1 run -d --name c9 --network lab --ip 192.0.2.254 "$E2E_IMAGE" sh -c 'exit 0'
dk h1 rm -f c9 >/dev/null 2>&1 || true
both_ways
assert_host_ping h1 "$ip2"
assert_contains "$(in_ns h1 ip route show dev "$shim")" "$ip1 " "a host route to c1 goes through $shim"
assert_contains "$(mvlan_status h1)" "host access 192.0.2.254  link $shim" "mvlan status shows the host access"
assert_eq "192.0.2.254 host -" "$(status_allocations h1 host)" "mvlan status shows 192.0.2.254 held for the host"

step "the plugin restarts: host access still works"
plugin_restart h1
both_ways

step "the host link is deleted behind mvlan's back; the next start brings it back"
in_ns h1 ip link del "$shim" || fail "deleting $shim"
! host_pings h1 "$ip1" || fail "without $shim the host must not reach c1" "expected: no answer" "seen: answers"
pass "without $shim the host does not reach c1"
plugin_restart h1
assert_eq "$shim" "$(links_of_type h1 macvlan | grep '^mh')" "$shim is back"
both_ways
assert_host_ping h1 "$ip2"

step "a container that leaves takes its host route with it"
assert_ok "remove c2" dk h1 rm -f c2
assert_not_contains "$(in_ns h1 ip route show dev "$shim")" "$ip2 " "no route to c2's old address"

step "removal"
assert_ok "remove the containers" dk h1 rm -f c0 c1
assert_ok "remove the networks" dk h1 network rm lab plain
assert_clean h1
