#!/bin/bash
# Install and upgrade mvlan the way users do (issue 9): from a registry.
#   1. a registry (Debian's docker-registry) on 127.0.0.1:5000 inside the test host's netns;
#   2. `make plugin-push REGISTRY=...` pushes v1 (the version of CMakeLists.txt's project()) and
#      latest; nothing is left installed in the engine that pushed;
#   3. `docker plugin install` asks for exactly network=host and CAP_NET_ADMIN; install
#      --grant-all-permissions <reg>/mvlan:<v1> LOG_LEVEL=debug; a network, two containers;
#   4. v2: the same binary, but a distinct plugin (another description, a marker file in the
#      rootfs), pushed with `make plugin-push PUSH_DIR=...`;
#   5. disable -f, upgrade --grant-all-permissions, enable: v2's rootfs and config run, the setting
#      LOG_LEVEL=debug is kept, the network is still there, the running containers keep their
#      addresses and talk, `mvlan status` on the propagated mount shows the same allocations as
#      before, a new container gets a fresh unique address;
#   6. removal; the registry is stopped and its storage removed (also on failure: the harness's
#      cleanup ends every recorded process and removes the run directory).
#
# Usage: tests/e2e/upgrade_test.sh --mvlan build/mvlan [--engine 20|28|29]   (the release binary)
source "$(dirname "$0")/lib.sh" "$@"

plugin_require
REG=$E2E_REGISTRY_ADDR
V1=$(sed -n 's/^project(mvlan VERSION \([^ )]*\).*/\1/p' "$E2E_REPO_DIR/CMakeLists.txt")
[[ -n $V1 ]] || fail "no version in CMakeLists.txt's project()"
V2=$V1-e2e.2
R1=$REG/mvlan:$V1
R2=$REG/mvlan:$V2
DOCKER_CMD="$E2E_DOCKER -H unix://$(host_dir h1)/docker.sock"

# push VERSION ARGS...: make plugin-push into our registry, through our engine.
push() {
  local v=$1 out rc=0 t0=$EPOCHREALTIME
  shift
  out=$(make -s -C "$E2E_REPO_DIR" plugin-push REGISTRY="$REG" PLUGIN_VERSION="$v" \
    DOCKER="$DOCKER_CMD" "$@" 2>&1) || rc=$?
  ((rc == 0)) || fail "make plugin-push PLUGIN_VERSION=$v $*" "exit status $rc, output:" "$out"
  info "make plugin-push PLUGIN_VERSION=$v: $(tail -1 <<<"$out") ($(_e2e_since "$t0"))"
}

step "setup: host h1 with parent p0, an engine, a registry on $REG inside h1"
host_create h1
veth_parent h1 p0
engine_start h1
registry_start h1

# ---- 2. push v1 --------------------------------------------------------------------------------
step "make plugin-push REGISTRY=$REG (v1 = $V1, and latest)"
push "$V1" MVLAN_BIN="$MVLAN_BIN" PLUGIN_DIR="$E2E_RUN/plugin-v1"
assert_eq "$V1 latest" "$(registry_tags h1 mvlan)" "the registry holds mvlan:$V1 and mvlan:latest"
assert_empty "$(dk h1 plugin ls -q)" "plugin-push left no plugin installed in the engine"
dk h1 plugin create "$REG/mvlan:latest" "$E2E_RUN/plugin-v1" >/dev/null
assert_fails "plugin-push refuses when the name is a plugin of the engine" --with 'already a plugin' \
  make -s -C "$E2E_REPO_DIR" plugin-push REGISTRY="$REG" PUSH_DIR="$E2E_RUN/plugin-v1" DOCKER="$DOCKER_CMD"
assert_eq "$REG/mvlan:latest" "$(dk h1 plugin ls --format '{{.Name}}')" "... and leaves the engine's plugins alone"
dk h1 plugin rm "$REG/mvlan:latest" >/dev/null

# ---- 3. install v1 -----------------------------------------------------------------------------
step "docker plugin install $R1 LOG_LEVEL=debug"
assert_eq $'capabilities: CAP_NET_ADMIN\nnetwork: host' "$(managed_privileges h1 "$R1")" \
  "install asks to grant exactly network=host and CAP_NET_ADMIN"
t0=$EPOCHREALTIME
pid=$(managed_install h1 "$R1" LOG_LEVEL=debug)
info "installed, enabled and answering in $(_e2e_since "$t0") (pid $pid)"
assert_eq "true $R1" "$(dk h1 plugin inspect --format '{{.Enabled}} {{.PluginReference}}' "$R1")" \
  "the plugin is enabled and comes from $R1"
assert_eq LOG_LEVEL=debug "$(tr '\0' '\n' <"/proc/$pid/environ" | grep '^LOG_LEVEL=')" \
  "the setting given at install time reaches the plugin process"
id=$(managed_id h1 "$R1")
state=$(managed_state_dir h1 "$R1")
[[ -f $state/mvlan.db ]] || fail "the database is in the propagatedMount" "seen: $(ls -la "$state" 2>&1)"
pass "the database is in the propagatedMount ($state)"

assert_ok "network create lab" dk h1 network create -d "$R1" --ipam-driver "$R1" \
  --subnet 192.0.2.0/24 --gateway 192.0.2.1 -o parent=p0 lab
netid=$(dk h1 network inspect --format '{{.Id}}' lab)
ctr_run h1 c1 lab
ctr_run h1 c2 lab
declare -A ip
for c in c1 c2; do ip[$c]=$(ctr_ip h1 "$c" lab); done
assert_unique "c1 and c2 have distinct addresses (${ip[c1]}, ${ip[c2]})" 192.0.2.1 "${ip[c1]}" "${ip[c2]}"
assert_ping h1 c1 "${ip[c2]}"
before=$(managed_status h1 "$R1" | grep -v 'last dynamic')
allocs=$(managed_status h1 "$R1" --json | json_flat | grep -E '^Pools\.[0-9]+\.Allocations\.')
assert_contains "$allocs" "=${ip[c1]}" "mvlan status lists c1's address"
assert_contains "$allocs" "=${ip[c2]}" "mvlan status lists c2's address"

# ---- 4. v2 -------------------------------------------------------------------------------------
step "v2: the same binary, another plugin (description, marker file); make plugin-push PUSH_DIR="
managed_plugin_dir "$E2E_RUN/plugin-v2"
sed -i "s|^\(  \"description\": \"\)|\1[$V2] |" "$E2E_RUN/plugin-v2/config.json"
grep -q "\"description\": \"\\[$V2\\] " "$E2E_RUN/plugin-v2/config.json" || fail "could not mark v2's config.json"
mkdir -p "$E2E_RUN/plugin-v2/rootfs/etc"
echo "$V2" >"$E2E_RUN/plugin-v2/rootfs/etc/mvlan-e2e-version"
push "$V2" PUSH_DIR="$E2E_RUN/plugin-v2"
assert_eq "$V1 $V2 latest" "$(registry_tags h1 mvlan)" "the registry holds $V1, $V2 and latest"
assert_eq "$R1" "$(dk h1 plugin ls --format '{{.Name}}')" "pushing v2 left only the installed v1 in the engine"

# ---- 5. upgrade ---------------------------------------------------------------------------------
step "disable -f, docker plugin upgrade $R1 $R2, enable"
assert_fails "docker plugin upgrade is refused while enabled" --with disable \
  dk h1 plugin upgrade --grant-all-permissions "$R1" "$R2"
t0=$EPOCHREALTIME
assert_ok "docker plugin disable -f" dk h1 plugin disable -f "$R1"
eventually 10 output_is "" managed_pids h1 || fail "the plugin process ended on disable" "seen: $(managed_pids h1)"
out=$(timeout 60 "$E2E_DOCKER" -H "unix://$(host_dir h1)/docker.sock" run -d --name cx --network lab \
  "$E2E_IMAGE" sleep 1d 2>&1) && fail "docker run on lab fails while the plugin is disabled" "seen: success, $out"
dk h1 rm -f cx >/dev/null 2>&1 || true
pass "docker run on lab fails while the plugin is disabled ($(tail -1 <<<"$out" | cut -c1-120))"
# (the answer read is "no"; the exit status of a cancelled upgrade is 1 on 20.10 and 0 on 28)
out=$(dk h1 plugin upgrade --grant-all-permissions "$R1" "$R2" </dev/null 2>&1) || true
assert_contains "$out" 'Plugin images do not match, are you sure?' \
  "upgrade to another tag asks 'Plugin images do not match, are you sure?' (no answer: cancelled)"
assert_eq "$R1" "$(dk h1 plugin inspect --format '{{.PluginReference}}' "$R1")" "... and nothing changed"
assert_ok "docker plugin upgrade --grant-all-permissions --skip-remote-check" \
  dk h1 plugin upgrade --grant-all-permissions --skip-remote-check "$R1" "$R2"
pid=$(managed_enable h1 "$R1")
info "disable, upgrade, enable took $(_e2e_since "$t0") (pid $pid)"
assert_eq "true $R2 $id" "$(dk h1 plugin inspect --format '{{.Enabled}} {{.PluginReference}} {{.Id}}' "$R1")" \
  "the plugin (same name and id) is enabled and comes from $R2"
assert_match "^\\[$V2\\] " "$(dk h1 plugin inspect --format '{{.Config.Description}}' "$R1")" "v2's config is in use"
assert_eq "$V2" "$(cat "$(host_dir h1)/data/plugins/$id/rootfs/etc/mvlan-e2e-version" 2>&1)" "v2's rootfs is in use"
assert_eq "$V2" "$(cat "/proc/$pid/root/etc/mvlan-e2e-version" 2>&1)" "the plugin process runs in v2's rootfs"
assert_eq LOG_LEVEL=debug "$(tr '\0' '\n' <"/proc/$pid/environ" | grep '^LOG_LEVEL=')" \
  "the upgrade kept the setting LOG_LEVEL=debug"
assert_eq "$netid" "$(dk h1 network inspect --format '{{.Id}}' lab 2>&1)" "the network is still there"
for c in c1 c2; do
  assert_eq "running ${ip[$c]}" "$(dk h1 inspect --format '{{.State.Status}}' "$c") $(ctr_ip h1 "$c" lab)" \
    "$c still runs with its address"
done
assert_ping h1 c1 "${ip[c2]}"
assert_ping h1 c2 "${ip[c1]}"
assert_eq "$before" "$(managed_status h1 "$R1" | grep -v 'last dynamic')" \
  "mvlan status shows the same pools, networks, endpoints and addresses after the upgrade"
assert_eq "$allocs" "$(managed_status h1 "$R1" --json | json_flat | grep -E '^Pools\.[0-9]+\.Allocations\.')" \
  "mvlan status --json: the same allocations after the upgrade"
ctr_run h1 c3 lab
ip[c3]=$(ctr_ip h1 c3 lab)
assert_unique "c3 (after the upgrade) got a fresh address (${ip[c3]})" 192.0.2.1 "${ip[c1]}" "${ip[c2]}" "${ip[c3]}"
assert_ping h1 c3 "${ip[c1]}"
assert_ping h1 c1 "${ip[c3]}"
assert_contains "$(managed_status h1 "$R1" --json | json_flat | grep -E '^Pools\.[0-9]+\.Allocations\.')" \
  "=${ip[c3]}" "mvlan status lists c3's address"

# ---- 6. removal ---------------------------------------------------------------------------------
step "removal: containers, network, plugin; the registry"
assert_ok "remove c1 c2 c3" dk h1 rm -f c1 c2 c3
assert_ok "network rm lab" dk h1 network rm lab
assert_empty "$(links_of_type h1 macvlan)" "no macvlan link left"
assert_ok "docker plugin disable" dk h1 plugin disable "$R1"
assert_ok "docker plugin rm" dk h1 plugin rm "$R1"
assert_empty "$(dk h1 plugin ls -q)" "no plugin left"
regpid=${E2E_REGISTRY_PID[h1]}
registry_stop h1
[[ ! -e /proc/$regpid ]] || fail "the registry (pid $regpid) ended"
[[ ! -e $E2E_RUN/registry-h1 ]] || fail "the registry's storage is removed"
pass "the registry ended and its storage is gone"
