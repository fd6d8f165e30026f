#!/bin/bash
# Docker Compose v2 on mvlan, with the README's compose file (section "Docker Compose"): a network
# with driver mvlan (driver_opts parent, macvlan_mode), ipam driver mvlan (subnet, gateway,
# ip_range, aux_addresses), a service "web" of 3 replicas and a service "db" with a fixed
# ipv4_address and mac_address.
#   1. up -d: every container runs with an address from the ip_range (db: its own), none holds the
#      gateway or the aux address, db has its MAC, and they reach each other;
#   2. up -d again changes nothing (same containers, same network, same mvlan state);
#   3. --scale web=5, then web=2: distinct addresses, mvlan's endpoints are exactly the containers;
#   4. up -d --force-recreate: new containers; db keeps its address and MAC, web gets addresses
#      none of the old ones had (round-robin);
#   5. down: no container, no network, no macvlan link, and mvlan holds no pool, network, endpoint
#      or address; 6. up -d again works as the first time; down.
# Engine 20.10 (API 1.41): compose refuses a per-network mac_address below API 1.44 (after making
# the network and web's containers); the scenario asserts that refusal and that down removes what
# it made, then gives db its MAC at service level (mac_address beside image), which works there.
# VLAN parents (the README's second network) are not used: this host's kernel has no 8021q
# (uml_vlan_test covers them).
#
# Usage: tests/e2e/compose_test.sh --mvlan build/mvlan [--engine 20|28|29]
source "$(dirname "$0")/lib.sh" "$@"

plugin_require
compose_enable

step "setup: host h1, parent p0, an engine, mvlan"
host_create h1
veth_parent h1 p0
engine_start h1
plugin_start h1

DB_MAC=02:42:c0:00:02:0a
PROJECT_DIR=$E2E_RUN/shop
mkdir -p "$PROJECT_DIR"
# compose_file MAC_PLACE: the README's file on p0; MAC_PLACE is "network" (mac_address under the
# service's network, API >= 1.44) or "service" (beside image, for older engines).
compose_file() {
  local at_net='' at_svc=''
  if [[ $1 == network ]]; then at_net="        mac_address: $DB_MAC"; else at_svc="    mac_address: $DB_MAC"; fi
  cat >"$PROJECT_DIR/compose.yaml" <<YAML
name: shop
services:
  web:
    image: $E2E_IMAGE
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1d & wait"]
    deploy:
      replicas: 3
    networks:
      - lan
  db:
    image: $E2E_IMAGE
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1d & wait"]
$at_svc
    networks:
      lan:
        ipv4_address: 192.0.2.10
$at_net
networks:
  lan:
    driver: mvlan
    driver_opts:
      parent: p0
      macvlan_mode: bridge
    ipam:
      driver: mvlan
      config:
        - subnet: 192.0.2.0/24
          gateway: 192.0.2.1
          ip_range: 192.0.2.64/26
          aux_addresses:
            router: 192.0.2.2
YAML
}
compose() { dk h1 compose --project-directory "$PROJECT_DIR" "$@"; }

if [[ $E2E_ENGINE == 20 ]]; then
  step "engine 20.10 (API 1.41): compose refuses a per-network mac_address when it creates db"
  compose_file network
  assert_fails "compose up -d with a per-network mac_address" \
    --with '"specify mac-address per network" requires API version 1.44' compose up -d
  # by then compose has made the network and web's containers: down removes them
  assert_empty "$(dk h1 ps -aq --filter name=shop-db)" "no db container was made"
  assert_ok "compose down" compose down
  assert_eq "0 0" "$(status_counts h1)" "after down mvlan holds no pool and no network"
  assert_empty "$(status_allocations h1)" "after down mvlan holds no address"
  compose_file service
else
  compose_file network
fi

# containers SERVICE: its container ids, sorted.
containers() { compose ps -q "$1" | sort; }
ip_of() { dk h1 inspect --format '{{(index .NetworkSettings.Networks "shop_lan").IPAddress}}' "$1"; }
mac_of() { dk h1 inspect --format '{{(index .NetworkSettings.Networks "shop_lan").MacAddress}}' "$1"; }
# snapshot: what a user would compare: containers, network id, mvlan's endpoints and grants.
snapshot() {
  containers web
  containers db
  dk h1 network inspect --format '{{.Id}}' shop_lan
  status_endpoints h1
  status_allocations h1
}

# check WEB_REPLICAS: web has that many containers, every address is unique, web's come from the
# ip_range, db has 192.0.2.10 and its MAC, mvlan's endpoints are exactly the containers, and web's
# first container reaches every other one. Leaves web's addresses in WEB_IPS.
check() {
  local n=$1 c a last all=() seen want first
  WEB_IPS=()
  assert_eq "$n" "$(containers web | wc -l)" "web has $n containers"
  for c in $(containers web); do
    a=$(ip_of "$c")
    last=${a##*.}
    if [[ $a != 192.0.2.* ]] || ((last < 64 || last > 127)); then
      fail "web container ${c:0:12} has an address from ip_range 192.0.2.64/26" "seen: '$a'"
    fi
    WEB_IPS+=("$a")
  done
  pass "web's addresses come from the ip_range: ${WEB_IPS[*]}"
  c=$(containers db)
  assert_eq "192.0.2.10 $DB_MAC" "$(ip_of "$c") $(mac_of "$c")" "db has its ipv4_address and mac_address"
  assert_contains "$(ctr_exec h1 "$c" ip link show eth0)" "$DB_MAC" "db's eth0 has the MAC inside"
  all=(192.0.2.1 192.0.2.2 192.0.2.10 "${WEB_IPS[@]}")
  assert_unique "no container holds the gateway, the aux address or another's address" "${all[@]}"
  want=$(printf '%s\n' 192.0.2.10 "${WEB_IPS[@]}" | sort | tr '\n' ' ')
  seen=$(status_endpoints h1 | awk '{sub(/\/.*/, "", $4); print $4}' | sort | tr '\n' ' ')
  assert_eq "$want" "$seen" "mvlan's endpoints are exactly the containers' addresses"
  first=$(containers web | head -1)
  assert_ping h1 "${first:0:12}" 192.0.2.10
  for a in "${WEB_IPS[@]:1}"; do assert_ping h1 "${first:0:12}" "$a"; done
}

step "1. compose up -d"
assert_ok "compose up -d" compose up -d
assert_eq "mvlan mvlan" "$(dk h1 network inspect --format '{{.Driver}} {{.IPAM.Driver}}' shop_lan)" \
  "compose made shop_lan with driver and IPAM driver mvlan"
assert_contains "$(dk h1 network inspect --format '{{json .IPAM.Config}}' shop_lan)" \
  '"IPRange":"192.0.2.64/26"' "the network has the ip_range"
check 3

step "2. compose up -d again changes nothing"
before=$(snapshot)
assert_ok "compose up -d (again)" compose up -d
assert_eq "$before" "$(snapshot)" "same containers, network, endpoints and grants"

step "3. --scale web=5, then web=2"
assert_ok "compose up -d --scale web=5" compose up -d --scale web=5
check 5
assert_ok "compose up -d --scale web=2" compose up -d --scale web=2
check 2

# web_by_name: "NAME ADDRESS" of web's containers (shop-web-1 ...), sorted.
web_by_name() {
  local c
  for c in $(containers web); do echo "$(dk h1 inspect --format '{{.Name}}' "$c" | tr -d /) $(ip_of "$c")"; done | sort
}

step "4. up -d --force-recreate"
old_ids=$(containers web; containers db)
old_ips=("${WEB_IPS[@]}")
old_names=$(web_by_name)
assert_ok "compose up -d --force-recreate --scale web=3" compose up -d --force-recreate --scale web=3
assert_empty "$(comm -12 <(sort <<<"$old_ids") <({ containers web; containers db; } | sort))" \
  "every container is new"
check 3
if ((E2E_ENGINE >= 29)); then # sticky addresses: the engine names each container
  assert_eq "$old_names" "$(web_by_name | grep -F -f <(awk '{print $1 " "}' <<<"$old_names"))" \
    "engine 29: the recreated web containers are back on their addresses ($(tr '\n' ' ' <<<"$old_names"))"
else
  assert_unique "the recreated web containers got addresses none of the old ones had (round-robin)" \
    "${old_ips[@]}" "${WEB_IPS[@]}"
fi

step "5. compose down: nothing left"
assert_ok "compose down" compose down
assert_empty "$(dk h1 ps -aq)" "no container left"
assert_empty "$(dk h1 network ls -q --filter name=shop_lan)" "no network shop_lan left"
assert_empty "$(links_of_type h1 macvlan)" "no macvlan link left"
assert_eq "0 0" "$(status_counts h1)" "mvlan holds no pool and no network"
assert_empty "$(status_endpoints h1)" "mvlan holds no endpoint"
assert_empty "$(status_allocations h1)" "mvlan holds no address"

step "6. compose up -d again, then down"
assert_ok "compose up -d (after down)" compose up -d
check 3
assert_ok "compose down" compose down
assert_empty "$(links_of_type h1 macvlan)" "no macvlan link left"
assert_eq "0 0" "$(status_counts h1)" "mvlan holds no pool and no network"
