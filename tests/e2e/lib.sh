# shellcheck shell=bash
# tests/e2e/lib.sh: end-to-end harness for mvlan, sourced by every scenario script:
#
#   source "$(dirname "$0")/lib.sh" "$@"
#
# A scenario only says what it tests; this file owns everything around it:
#   * "hosts": a network namespace each, with an isolated Docker engine inside (TESTBED.md recipe:
#     nsenter into the netns, private mount namespace with slave propagation, fresh sysfs, cgroup
#     mounts put back, its own /run/docker/plugins bound from $B/plugins, own data/exec roots,
#     unix socket and --cgroup-parent; in addition a private tmpfs on /run and `mount -n`, so
#     nothing the engine writes under /run reaches the host);
#   * veth parents inside a host, and wires (veth pairs) between two hosts;
#   * the plugin under test (mvlan serve) inside a host's netns: start, SIGKILL, restart;
#   * cleanup on EXIT / INT / TERM / HUP, and a reaper that removes what a run killed with
#     SIGKILL (e.g. by a ctest timeout) left behind;
#   * assertion helpers and a timestamped step logger.
#
# Options (arguments of the scenario script, or environment variables):
#   --mvlan PATH     | MVLAN_BIN=PATH     the mvlan binary (default: <repo>/build/mvlan)
#   --engine 20|28|29 | E2E_ENGINE=...    engine generation: 20 = Debian 12's docker.io (default),
#                                         28 = Docker 28.5 unpacked by tests/e2e/engine28.sh,
#                                         29 = Docker 29.7.2 unpacked by tests/e2e/engine29.sh
#                                         (with the engine-28 tree's containerd and client)
#   E2E_DOCKERD, E2E_DOCKER      engine / client binaries (override the generation's defaults)
#   E2E_PATH_PREFIX              prepended to the engine's PATH (where it finds containerd, runc...)
#   E2E_DOCKERD_ARGS             extra dockerd arguments (word-split)
#   E2E_ROOT                     base dir of all runs (default /var/tmp/mvlan-e2e)
#   E2E_KEEP_LOGS=1              copy engine/plugin logs to ${E2E_ROOT}-logs/<run>/ at the end
#   E2E_QUIET_CLEANUP=1          do not print the cleanup steps
#   E2E_DEADLINE=SECONDS         end the run (status 124, with cleanup) after that long; set it
#                                below ctest's TIMEOUT, which kills with SIGKILL (no cleanup)
#
# Everything a run creates is named after the run (script name + PID), so scenarios can run in
# parallel: netns "mvlan-e2e-<pid>-<host>", cgroup parent "/mvlan-e2e-<pid>-<host>", files under
# $E2E_ROOT/<script>-<pid>/. The harness never talks to an engine it did not start (every client
# call carries -H unix://<our socket>), never uses the host's /run/docker.sock, and never touches
# eth0 or any link it did not create (links are made inside our namespaces only).

set -Eeuo pipefail

if [[ -n ${_E2E_LIB_LOADED:-} ]]; then return 0; fi
_E2E_LIB_LOADED=1

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_REPO_DIR=$(cd "$E2E_LIB_DIR/../.." && pwd)
E2E_ROOT=${E2E_ROOT:-/var/tmp/mvlan-e2e}
E2E_NAME=${E2E_NAME:-$(basename "${BASH_SOURCE[1]:-$0}" .sh)}
E2E_PID=$$
E2E_PREFIX="mvlan-e2e-$E2E_PID"          # netns names and cgroup parents start with this
E2E_RUN="$E2E_ROOT/$E2E_NAME-$E2E_PID"   # this run's files
E2E_IMAGE=${E2E_IMAGE:-busybox:e2e}
E2E_ENGINE=${E2E_ENGINE:-20}
E2E_T0=$EPOCHREALTIME
_E2E_DAEMON_JSON='{}'

# ---- arguments ----------------------------------------------------------------------------------
while (($#)); do
  case $1 in
    --mvlan) MVLAN_BIN=$2; shift 2 ;;
    --mvlan=*) MVLAN_BIN=${1#*=}; shift ;;
    --engine) E2E_ENGINE=$2; shift 2 ;;
    --engine=*) E2E_ENGINE=${1#*=}; shift ;;
    *) echo "e2e: unknown argument '$1' (known: --mvlan PATH, --engine 20|28|29)" >&2; exit 2 ;;
  esac
done
MVLAN_BIN=$(realpath -m -- "${MVLAN_BIN:-$E2E_REPO_DIR/build/mvlan}")

# ---- logging --------------------------------------------------------------------------------
# Everything goes to stderr, so that messages are seen even from inside $(...).
_e2e_elapsed() {
  local us=$((${EPOCHREALTIME/./} - ${E2E_T0/./}))
  printf '%d.%d' $((us / 1000000)) $((us / 100000 % 10))
}
_e2e_stamp() { printf '%(%H:%M:%S)T +%6ss' -1 "$(_e2e_elapsed)"; }
step() { printf '[%s] ==> %s\n' "$(_e2e_stamp)" "$*" >&2; }
info() { printf '[%s]     %s\n' "$(_e2e_stamp)" "$*" >&2; }
pass() { printf '[%s]     ok: %s\n' "$(_e2e_stamp)" "$*" >&2; }

# fail MESSAGE [DETAIL...]: print a failure with where it happened, and end the run.
fail() {
  local i
  {
    printf '[%s] FAIL: %s\n' "$(_e2e_stamp)" "$1"
    shift
    for i in "$@"; do printf '       %s\n' "$i"; done
    for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do
      [[ ${FUNCNAME[$i]} == main || ${BASH_SOURCE[$i]} != *lib.sh ]] || continue
      printf '       at %s:%s (%s)\n' "${BASH_SOURCE[$i]##*/}" "${BASH_LINENO[$((i - 1))]}" "${FUNCNAME[$i]}"
      break
    done
  } >&2
  _E2E_FAILED_REPORTED=1
  exit 1
}

_e2e_on_err() {
  local rc=$1 cmd=$2
  [[ -z ${_E2E_FAILED_REPORTED:-} && $BASHPID == "$E2E_PID" ]] || return 0
  _E2E_FAILED_REPORTED=1
  printf '[%s] FAIL: command exited with status %s: %s\n       at %s:%s\n' "$(_e2e_stamp)" \
    "$rc" "$cmd" "${BASH_SOURCE[1]##*/}" "${BASH_LINENO[0]}" >&2
}

# ---- assertions -----------------------------------------------------------------------------
# Each prints "ok: WHAT" on success, and what was expected and what was seen on failure.
assert_eq() { # EXPECTED ACTUAL WHAT
  [[ $2 == "$1" ]] || fail "$3" "expected: '$1'" "seen:     '$2'"
  pass "$3"
}
assert_ne() { # UNEXPECTED ACTUAL WHAT
  [[ $2 != "$1" ]] || fail "$3" "expected anything but: '$1'" "seen:                  '$2'"
  pass "$3"
}
assert_contains() { # HAYSTACK NEEDLE WHAT
  [[ $1 == *"$2"* ]] || fail "$3" "expected to contain: '$2'" "seen: '$1'"
  pass "$3"
}
assert_not_contains() { # HAYSTACK NEEDLE WHAT
  [[ $1 != *"$2"* ]] || fail "$3" "expected NOT to contain: '$2'" "seen: '$1'"
  pass "$3"
}
assert_match() { # REGEX ACTUAL WHAT
  [[ $2 =~ $1 ]] || fail "$3" "expected to match: /$1/" "seen: '$2'"
  pass "$3"
}
assert_empty() { # ACTUAL WHAT
  [[ -z $1 ]] || fail "$2" "expected: nothing" "seen: '$1'"
  pass "$2"
}
# assert_unique WHAT VALUE...: no value appears twice.
assert_unique() {
  local what=$1 dup
  shift
  dup=$(printf '%s\n' "$@" | sort | uniq -d | tr '\n' ' ')
  [[ -z $dup ]] || fail "$what" "expected all different" "seen: $* (duplicates: $dup)"
  pass "$what"
}
# assert_ok WHAT CMD...: CMD succeeds; its output is shown when it does not. Output in $E2E_OUT.
assert_ok() {
  local what=$1 rc=0
  shift
  E2E_OUT=$("$@" 2>&1) || rc=$?
  ((rc == 0)) || fail "$what" "command: $*" "expected: exit status 0" "seen:     exit status $rc, output:" "$E2E_OUT"
  pass "$what"
}
# assert_fails WHAT [--with TEXT] CMD...: CMD fails (and its output contains TEXT).
assert_fails() {
  local what=$1 needle='' rc=0
  shift
  if [[ $1 == --with ]]; then needle=$2; shift 2; fi
  E2E_OUT=$("$@" 2>&1) || rc=$?
  ((rc != 0)) || fail "$what" "command: $*" "expected: a failure${needle:+ mentioning '$needle'}" "seen:     success, output:" "$E2E_OUT"
  [[ -z $needle || $E2E_OUT == *"$needle"* ]] ||
    fail "$what" "command: $*" "expected: output containing '$needle'" "seen:     exit status $rc, output:" "$E2E_OUT"
  pass "$what"
}
# eventually SECONDS CMD...: retry CMD (quietly) every 0.2 s until it succeeds; status of the last try.
eventually() {
  local deadline=$((${EPOCHREALTIME/./} + $1 * 1000000))
  shift
  until "$@" >/dev/null 2>&1; do
    ((${EPOCHREALTIME/./} < deadline)) || return 1
    sleep 0.2
  done
}
# output_is TEXT CMD...: CMD prints exactly TEXT. For `eventually`, which must run the command on
# every try: `eventually 5 test "$(cmd)" = x` would compare one output, taken before the first.
output_is() { [[ $("${@:2}" 2>/dev/null) == "$1" ]]; }

# ---- run bookkeeping (also read by the reaper of a crashed run) -------------------------------
_e2e_starttime() { # PID -> its start time in clock ticks (so a reused PID is not mistaken)
  local s f
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  read -ra f <<<"${s##*) }"
  echo "${f[19]}"
}
_e2e_alive() { # PID STARTTIME
  local st
  st=$(_e2e_starttime "$1") && [[ $st == "$2" ]]
}
_e2e_record() { # FILE LINE
  echo "$2" >>"$E2E_RUN/.state/$1"
}

_e2e_require_root() {
  if ((EUID != 0)); then
    echo "e2e: $E2E_NAME needs root (network namespaces, a Docker engine); skipped" >&2
    exit 77
  fi
}

# Engine generation -> binaries and PATH.
_e2e_select_engine() {
  case $E2E_ENGINE in
    20 | '')
      E2E_DOCKERD=${E2E_DOCKERD:-/usr/sbin/dockerd}
      # /usr/bin/docker on purpose: another client may be earlier in PATH (e.g. /usr/local/bin).
      E2E_DOCKER=${E2E_DOCKER:-/usr/bin/docker}
      # 20.10 would otherwise write its identity key to the host's /etc/docker/key.json
      _E2E_DAEMON_JSON='{"deprecated-key-path": "@B@/key.json"}'
      ;;
    28)
      local e=${E2E_ENGINE28_DIR:-/var/tmp/engine-28}/root
      if [[ ! -x $e/usr/sbin/dockerd || ! -x $e/usr/bin/docker || ! -x $e/usr/bin/containerd ]]; then
        echo "e2e: engine 28 is not unpacked under $e: run tests/e2e/engine28.sh first; skipped" >&2
        exit 77
      fi
      E2E_DOCKERD=${E2E_DOCKERD:-$e/usr/sbin/dockerd}
      E2E_DOCKER=${E2E_DOCKER:-$e/usr/bin/docker}
      E2E_PATH_PREFIX=${E2E_PATH_PREFIX:-$e/usr/sbin:$e/usr/bin}
      ;;
    29)
      local e=${E2E_ENGINE28_DIR:-/var/tmp/engine-28}/root e29=${E2E_ENGINE29_DIR:-/var/tmp/engine-29}
      if [[ ! -x $e29/dockerd ]]; then
        local src=$E2E_REPO_DIR/../shared/engines/docker-29.7.2 why="is not there"
        [[ -d $src ]] && why="is there: run make test-deps"
        echo "e2e: engine 29 is not unpacked under $e29: tests/e2e/engine29.sh unpacks it from the project's shared folder ($src), which $why; skipped" >&2
        exit 77
      fi
      if [[ ! -x $e/usr/bin/docker || ! -x $e/usr/bin/containerd ]]; then
        echo "e2e: engine 29 runs with the engine-28 tree's containerd and client, not unpacked under $e: run tests/e2e/engine28.sh first; skipped" >&2
        exit 77
      fi
      E2E_DOCKERD=${E2E_DOCKERD:-$e29/dockerd}
      E2E_DOCKER=${E2E_DOCKER:-$e/usr/bin/docker}
      # engine29-runc/runc: managed plugins get a time namespace whatever the config file says.
      E2E_PATH_PREFIX=${E2E_PATH_PREFIX:-$E2E_LIB_DIR/engine29-runc:$e29:$e/usr/sbin:$e/usr/bin}
      # Debian 12's runc 1.1.5 knows no time namespace, which engine 29 adds to every container.
      _E2E_DAEMON_JSON='{"features": {"time-namespaces": false}}'
      ;;
    *) echo "e2e: unknown engine generation '$E2E_ENGINE' (20, 28 or 29)" >&2; exit 2 ;;
  esac
  local b
  for b in "$E2E_DOCKERD" "$E2E_DOCKER"; do
    [[ -x $b ]] || { echo "e2e: $b not found (install docker.io, or set E2E_DOCKERD/E2E_DOCKER)" >&2; exit 1; }
  done
  E2E_ENGINE_PATH="${E2E_PATH_PREFIX:+$E2E_PATH_PREFIX:}/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
}

_e2e_init() {
  _e2e_require_root
  _e2e_select_engine
  local t
  for t in ip nsenter unshare setsid curl tar; do
    command -v "$t" >/dev/null || { echo "e2e: '$t' not found (packages: iproute2 util-linux curl tar)" >&2; exit 1; }
  done
  [[ -x ${E2E_BUSYBOX:-/bin/busybox} ]] || { echo "e2e: /bin/busybox missing (package busybox-static)" >&2; exit 1; }
  mkdir -p "$E2E_ROOT"
  # Under the reaper's lock: reap dead runs, then claim our directory, so that a reaper in a
  # parallel run never sees our directory without its owner file.
  exec {_e2e_lock}>"$E2E_ROOT/.reap.lock"
  flock "$_e2e_lock"
  e2e_reap_stale
  rm -rf "$E2E_RUN"
  mkdir -p "$E2E_RUN/.state"
  echo "$E2E_PID $(_e2e_starttime "$E2E_PID")" >"$E2E_RUN/.state/owner.tmp"
  mv "$E2E_RUN/.state/owner.tmp" "$E2E_RUN/.state/owner"
  flock -u "$_e2e_lock"
  exec {_e2e_lock}>&-
  # The client must never reach any other engine, nor read the user's contexts.
  unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
  export DOCKER_CONFIG="$E2E_RUN/docker-config"
  mkdir -p "$DOCKER_CONFIG"
  trap _e2e_on_exit EXIT
  trap '_e2e_on_signal INT 130' INT
  trap '_e2e_on_signal TERM 143' TERM
  trap '_e2e_on_signal HUP 129' HUP
  trap '_e2e_on_err $? "$BASH_COMMAND"' ERR
  # ctest ends a test that exceeds its TIMEOUT with SIGKILL, and then no trap runs: with
  # E2E_DEADLINE=SECONDS the run ends itself first (SIGUSR1 from a watchdog), and cleans up.
  if [[ ${E2E_DEADLINE:-} =~ ^[0-9]+$ ]] && ((E2E_DEADLINE > 0)); then
    trap '_e2e_on_signal USR1 124 "deadline of ${E2E_DEADLINE} s reached"' USR1
    setsid /bin/sh -c 'sleep "$1"; kill -USR1 "$2"' sh "$E2E_DEADLINE" "$E2E_PID" </dev/null >/dev/null 2>&1 &
    _E2E_WATCHDOG=$!
  fi
  step "$E2E_NAME: run $E2E_RUN, engine $("$E2E_DOCKERD" --version 2>/dev/null | head -1)"
}

# ---- hosts (namespaces) ----------------------------------------------------------------------
declare -A E2E_HOST_NS=() E2E_ENGINE_PID=() E2E_PLUGIN_PID=()
E2E_HOSTS=()

host_ns() { echo "$E2E_PREFIX-$1"; }      # HOST -> netns name
host_dir() { echo "$E2E_RUN/$1"; }        # HOST -> its files ($B)
host_cgroup() { echo "/$E2E_PREFIX-$1"; } # HOST -> the engine's --cgroup-parent

# host_create HOST: a new network namespace (lo up) and the host's directories.
host_create() {
  local h=$1 ns B
  [[ $h =~ ^[a-z0-9]{1,8}$ ]] || fail "host name '$h': use 1-8 lowercase letters/digits"
  [[ -z ${E2E_HOST_NS[$h]:-} ]] || fail "host $h already exists"
  ns=$(host_ns "$h")
  B=$(host_dir "$h")
  mkdir -p "$B/data" "$B/exec" "$B/plugins" "$B/cg" "$B/state"
  echo "${_E2E_DAEMON_JSON//@B@/$B}" >"$B/daemon.json"
  _e2e_record netns "$ns"
  _e2e_record cgroups "$(host_cgroup "$h")"
  ip netns add "$ns" || fail "ip netns add $ns"
  ip -n "$ns" link set lo up
  E2E_HOST_NS[$h]=$ns
  E2E_HOSTS+=("$h")
  info "host $h: netns $ns, dir $B"
}

# in_ns HOST CMD...: run CMD in the host's network namespace (host's mount namespace).
in_ns() {
  local h=$1
  shift
  nsenter --net="/run/netns/$(host_ns "$h")" -- "$@"
}

# veth_parent HOST NAME: a veth pair NAME / NAME-p inside HOST, both up, to serve as a parent.
veth_parent() {
  local ns
  ns=$(host_ns "$1")
  ((${#2} <= 13)) || fail "veth name '$2' too long (max 13, the peer gets '-p')"
  ip -n "$ns" link add "$2" type veth peer name "$2-p" || fail "cannot create veth $2 in $1"
  ip -n "$ns" link set "$2-p" up
  ip -n "$ns" link set "$2" up
  info "host $1: parent $2 (veth, peer $2-p)"
}

# wire HOST1 LINK1 HOST2 LINK2: a veth pair playing the cable between two hosts, both ends up.
wire() {
  local ns1 ns2
  ns1=$(host_ns "$1")
  ns2=$(host_ns "$3")
  ip -n "$ns1" link add "$2" type veth peer name "$4" netns "$ns2" || fail "cannot create wire $1:$2 <-> $3:$4"
  ip -n "$ns1" link set "$2" up
  ip -n "$ns2" link set "$4" up
  info "wire $1:$2 <-> $3:$4"
}

# links_of_type HOST [TYPE]: names of the links (of that type) in HOST, sorted, one per line.
links_of_type() {
  ip -n "$(host_ns "$1")" -o link show ${2:+type "$2"} | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort
}

# ---- engine ----------------------------------------------------------------------------------
# dk HOST ARGS...: the docker client, talking to HOST's engine and nothing else.
dk() {
  local h=$1
  shift
  "$E2E_DOCKER" -H "unix://$(host_dir "$h")/docker.sock" "$@"
}

# engine_start HOST: start an isolated engine in HOST's namespace, wait until it answers, and
# import the test image (once per engine data root).
engine_start() {
  local h=$1 ns B pid st t0=$EPOCHREALTIME
  ns=$(host_ns "$h")
  B=$(host_dir "$h")
  [[ -n ${E2E_HOST_NS[$h]:-} ]] || fail "engine_start: unknown host $h (host_create first)"
  [[ -z ${E2E_ENGINE_PID[$h]:-} ]] || fail "engine_start: engine of $h already running"
  rm -f "$B/docker.sock" "$B/docker.pid"
  # The TESTBED.md recipe, plus: a private tmpfs on /run, so that nothing the engine, containerd
  # and the shims write under /run (/run/docker/plugins, libnetwork and shim sockets, runc state)
  # reaches the host, and `mount -n` so that libmount's /run/mount/utab is not written.
  # setsid: Ctrl-C on the terminal reaches only the script, which then stops the engine in order.
  # The chain env/setsid/nsenter/unshare/sh all exec, so $! is dockerd's PID.
  # shellcheck disable=SC2016,SC2086
  env -i PATH="$E2E_ENGINE_PATH" HOME=/root LANG=C.UTF-8 \
    setsid nsenter --net="/run/netns/$ns" unshare -m --propagation slave /bin/sh -ec '
      B=$1 D=$2 CG=$3; shift 3
      mount -n --rbind /sys/fs/cgroup "$B/cg"
      mount -n -t sysfs sysfs /sys
      mount -n --move "$B/cg" /sys/fs/cgroup
      mount -n -t tmpfs -o mode=755 e2e-run /run
      mkdir -p /run/docker/plugins
      mount -n --bind "$B/plugins" /run/docker/plugins
      exec "$D" --config-file "$B/daemon.json" --data-root "$B/data" --exec-root "$B/exec" \
        -H "unix://$B/docker.sock" --pidfile "$B/docker.pid" --bridge=none --iptables=false \
        --ip6tables=false --ip-masq=false --userland-proxy=false --cgroup-parent="$CG" "$@"
    ' sh "$B" "$E2E_DOCKERD" "$(host_cgroup "$h")" ${E2E_DOCKERD_ARGS:-} \
    >>"$B/dockerd.log" 2>&1 </dev/null &
  pid=$!
  st=$(_e2e_starttime "$pid") || st=0
  _e2e_record pids "$pid $st dockerd-$h"
  E2E_ENGINE_PID[$h]=$pid
  until timeout 5 "$E2E_DOCKER" -H "unix://$B/docker.sock" version >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { unset "E2E_ENGINE_PID[$h]"; wait "$pid" || true; fail "engine of $h exited during start"; }
    ((${EPOCHREALTIME/./} - ${t0/./} < 30000000)) || fail "engine of $h did not answer within 30 s"
    sleep 0.1
  done
  [[ $(cat "$B/docker.pid" 2>/dev/null) == "$pid" ]] ||
    fail "engine of $h: pidfile says '$(cat "$B/docker.pid" 2>/dev/null)', started PID $pid"
  info "host $h: engine $(dk "$h" version --format '{{.Server.Version}}') up (pid $pid) in $(_e2e_since "$t0")"
  image_import "$h"
}
_e2e_since() { # EPOCHREALTIME -> "1.2 s" since then
  local us=$((${EPOCHREALTIME/./} - ${1/./}))
  printf '%d.%d s' $((us / 1000000)) $((us / 100000 % 10))
}

# image_import HOST: make $E2E_IMAGE (busybox-static) in HOST's engine if it is not there yet.
image_import() {
  local h=$1 r=$E2E_RUN/rootfs a
  if dk "$h" image inspect "$E2E_IMAGE" >/dev/null 2>&1; then return 0; fi
  if [[ ! -d $r ]]; then
    mkdir -p "$r/bin" "$r/etc" "$r/tmp"
    cp "${E2E_BUSYBOX:-/bin/busybox}" "$r/bin/busybox"
    for a in sh ip ping sleep cat ifconfig route arping nslookup ls echo grep awk wc; do
      ln -s busybox "$r/bin/$a"
    done
  fi
  tar -C "$r" -c . | dk "$h" import - "$E2E_IMAGE" >/dev/null || fail "docker import of $E2E_IMAGE on $h"
  info "host $h: image $E2E_IMAGE imported"
}

# engine_stop HOST [--keep-containers]: remove its containers (unless asked not to), stop the
# engine (SIGTERM, then SIGKILL after 20 s).
engine_stop() {
  _e2e_engine_stop_begin "$@"
  _e2e_engine_stop_wait "$1"
}
_e2e_engine_stop_begin() {
  local h=$1 pid ids=''
  pid=${E2E_ENGINE_PID[$h]:-}
  [[ -n $pid ]] || return 0
  [[ ${2:-} == --keep-containers ]] || ids=$(timeout 20 "$E2E_DOCKER" -H "unix://$(host_dir "$h")/docker.sock" ps -aq 2>/dev/null) || true
  if [[ -n $ids ]]; then
    # shellcheck disable=SC2086
    timeout 30 "$E2E_DOCKER" -H "unix://$(host_dir "$h")/docker.sock" rm -f $ids >/dev/null 2>&1 ||
      info "host $h: removing containers failed or timed out (going on)"
  fi
  kill -TERM "$pid" 2>/dev/null || true
}
_e2e_engine_stop_wait() {
  local h=$1 pid i
  pid=${E2E_ENGINE_PID[$h]:-}
  [[ -n $pid ]] || return 0
  for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    info "host $h: engine ignored SIGTERM for 20 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  unset "E2E_ENGINE_PID[$h]"
}

# engine_restart HOST: stop the engine, keeping its containers (the engine stops them; those
# with a restart policy come back), and start it again on the same data.
engine_restart() {
  engine_stop "$1" --keep-containers
  engine_start "$1"
}

# ---- plugin under test -----------------------------------------------------------------------
# plugin_require [BINARY]: fail at once (before any engine starts) if the plugin binary is missing.
plugin_require() {
  local bin=${1:-$MVLAN_BIN}
  [[ -x $bin ]] || fail "mvlan binary not found or not executable: '$bin'" "pass --mvlan PATH or set MVLAN_BIN"
  info "plugin under test: $bin"
}

# plugin_start HOST [BINARY]: `mvlan serve` in HOST's netns, socket $B/plugins/mvlan.sock (the
# engine finds it as -d mvlan), state in $B/state, log in $B/mvlan.log. Waits until it answers.
plugin_start() {
  local h=$1 bin=${2:-$MVLAN_BIN} B pid st
  B=$(host_dir "$h")
  [[ -x $bin ]] || plugin_require "$bin"
  [[ -z ${E2E_PLUGIN_PID[$h]:-} ]] || fail "plugin on $h already running (pid ${E2E_PLUGIN_PID[$h]})"
  echo "---- $(date '+%F %T') plugin_start" >>"$B/mvlan.log"
  # shellcheck disable=SC2086
  setsid nsenter --net="/run/netns/$(host_ns "$h")" -- "$bin" serve --socket "$B/plugins/mvlan.sock" \
    --state-dir "$B/state" --log-level debug ${E2E_MVLAN_ARGS:-} >>"$B/mvlan.log" 2>&1 </dev/null &
  pid=$!
  st=$(_e2e_starttime "$pid") || st=0
  _e2e_record pids "$pid $st mvlan-$h"
  E2E_PLUGIN_PID[$h]=$pid
  plugin_wait "$h"
  info "host $h: plugin up (pid $pid)"
}

# plugin_answers HOST: Plugin.Activate, sent as Docker sends it (POST, Content-Length: 0, no
# Content-Type), gets an HTTP 2xx reply.
plugin_answers() {
  curl -sf -o /dev/null --max-time 2 --unix-socket "$(host_dir "$1")/plugins/mvlan.sock" \
    --data-binary '' -H 'Content-Type:' -H 'Accept: application/vnd.docker.plugins.v1.2+json' \
    http://mvlan/Plugin.Activate
}

# plugin_wait HOST: wait (10 s at most) until the plugin answers on its socket.
plugin_wait() {
  local h=$1 pid st deadline=$((${EPOCHREALTIME/./} + 10000000))
  pid=${E2E_PLUGIN_PID[$h]:-}
  while ((${EPOCHREALTIME/./} < deadline)); do
    plugin_answers "$h" && return 0
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      unset "E2E_PLUGIN_PID[$h]"
      wait "$pid" && st=0 || st=$?
      fail "plugin on $h exited (status $st) before answering on its socket"
    fi
    sleep 0.1
  done
  fail "plugin on $h did not answer on $(host_dir "$h")/plugins/mvlan.sock within 10 s"
}

# plugin_kill HOST [SIGNAL]: kill the plugin (SIGKILL by default) and reap it. The socket file
# stays, as after a real crash.
plugin_kill() {
  local h=$1 sig=${2:-KILL} pid
  pid=${E2E_PLUGIN_PID[$h]:-}
  [[ -n $pid ]] || fail "plugin_kill: no plugin running on $h"
  kill -"$sig" "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "E2E_PLUGIN_PID[$h]"
  info "host $h: plugin (pid $pid) killed with SIG$sig"
}

# plugin_restart HOST [BINARY]: SIGKILL the plugin, start it again on the same state.
plugin_restart() {
  [[ -z ${E2E_PLUGIN_PID[$1]:-} ]] || plugin_kill "$1" KILL
  plugin_start "$@"
}

# plugin_alive HOST: the plugin process is still running.
plugin_alive() { [[ -n ${E2E_PLUGIN_PID[$1]:-} ]] && kill -0 "${E2E_PLUGIN_PID[$1]}" 2>/dev/null; }

# ---- containers ------------------------------------------------------------------------------
# ctr_run HOST NAME NETWORK [docker run options...]: a detached busybox container that sleeps
# (and ends at once on SIGTERM, so that docker stop and engine restarts do not wait 10 s).
ctr_run() {
  local h=$1 name=$2 net=$3 out rc=0
  shift 3
  out=$(dk "$h" run -d --name "$name" --network "$net" "$@" "$E2E_IMAGE" \
    sh -c 'trap "exit 0" TERM INT; sleep 1d & wait' 2>&1) || rc=$?
  ((rc == 0)) || fail "docker run $name on $h (network $net ${*})" "exit status $rc, output:" "$out"
  info "host $h: container $name running on $net"
}

# ctr_ip HOST NAME NETWORK: the container's IPv4 address on NETWORK.
ctr_ip() {
  dk "$1" inspect --format "{{(index .NetworkSettings.Networks \"$3\").IPAddress}}" "$2"
}

# ctr_exec HOST NAME CMD...
ctr_exec() {
  local h=$1 n=$2
  shift 2
  dk "$h" exec "$n" "$@"
}

# can_ping HOST NAME IP: NAME reaches IP, IPv4 or IPv6 (3 tries of 1 s: the first ARP or
# neighbour discovery exchange may be slow).
can_ping() {
  local i family=()
  [[ $3 == *:* ]] && family=(-6)
  for i in 1 2 3; do
    dk "$1" exec "$2" ping "${family[@]}" -c 1 -W 1 "$3" >/dev/null 2>&1 && return 0
  done
  return 1
}
assert_ping() { # HOST NAME IP
  can_ping "$@" || fail "$1:$2 pings $3" "expected: an answer" "seen: no answer in 3 tries" \
    "$(dk "$1" exec "$2" ip addr 2>&1 | tr '\n' ' ')"
  pass "$1:$2 pings $3"
}
# host_pings HOST IP: HOST's own namespace (where the plugin runs) reaches IP, 3 tries of 1 s
# (busybox-static's ping: the test host need not have iputils).
host_pings() {
  local _
  for _ in 1 2 3; do
    in_ns "$1" busybox ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
  done
  return 1
}
assert_host_ping() { # HOST IP
  host_pings "$@" || fail "host $1 pings $2" "expected: an answer" "seen: no answer in 3 tries" \
    "$(in_ns "$1" ip -o addr 2>&1 | tr '\n' ' ')" "$(in_ns "$1" ip route 2>&1 | tr '\n' ' ')"
  pass "host $1 pings $2"
}
assert_no_ping() { # HOST NAME IP
  ! dk "$1" exec "$2" ping -c 2 -W 1 "$3" >/dev/null 2>&1 ||
    fail "$1:$2 must not reach $3" "expected: no answer" "seen: answers"
  pass "$1:$2 does not reach $3"
}

# assert_clean HOST: once a scenario removed its networks, no macvlan link is left in HOST, its
# mvlan holds no pool and no network, and is still running.
assert_clean() {
  eventually 5 output_is "" links_of_type "$1" macvlan || true
  assert_empty "$(links_of_type "$1" macvlan)" "no macvlan link left in $1"
  assert_eq "0 0" "$(status_counts "$1")" "mvlan status holds no pool and no network"
  plugin_alive "$1" || fail "the plugin is still running at the end" "expected: alive" "seen: exited"
  pass "the plugin is still running at the end"
}

# ---- cleanup ---------------------------------------------------------------------------------
_e2e_tail() { # FILE [FILTER-REGEX]: its last (matching) lines, to stderr
  local lines
  [[ -s $1 ]] || return 0
  lines=$(grep -E -- "${2:-.}" "$1" | tail -n "${E2E_TAIL_LINES:-25}") || return 0
  printf '       ---- last lines of %s%s\n' "$1" "${2:+ (warnings and errors)}" >&2
  # shellcheck disable=SC2001
  sed 's/^/       | /' <<<"$lines" >&2
}

_e2e_on_signal() { # NAME STATUS [WHY]
  trap '' INT TERM HUP USR1
  printf '[%s] %s: cleaning up\n' "$(_e2e_stamp)" "${3:-interrupted by SIG$1}" >&2
  _E2E_FAILED_REPORTED=1
  exit "$2"
}

_e2e_on_exit() {
  local rc=$? h
  trap - EXIT ERR
  trap '' INT TERM HUP USR1 # a second Ctrl-C must not abort the cleanup
  [[ $BASHPID == "$E2E_PID" ]] || exit "$rc"
  set +e +E
  if [[ -n ${_E2E_WATCHDOG:-} ]]; then
    kill -TERM -- "-$_E2E_WATCHDOG" 2>/dev/null
    wait "$_E2E_WATCHDOG" 2>/dev/null
  fi
  if ((rc != 0 && rc != 129 && rc != 130 && rc != 143)); then # failures, deadline included
    for h in "${E2E_HOSTS[@]}"; do
      # the engine's info lines are mostly gRPC chatter
      _e2e_tail "$(host_dir "$h")/dockerd.log" 'level=(warn|warning|error|fatal|panic)|^[^t]'
      _e2e_tail "$(host_dir "$h")/mvlan.log"
    done
  fi
  _e2e_cleanup_quiet() { [[ -n ${E2E_QUIET_CLEANUP:-} ]] || step "$@"; }
  _e2e_cleanup_quiet "cleanup"
  for h in "${E2E_HOSTS[@]}"; do _e2e_engine_stop_begin "$h"; done
  for h in "${E2E_HOSTS[@]}"; do _e2e_engine_stop_wait "$h"; done
  for h in "${!E2E_PLUGIN_PID[@]}"; do
    kill -TERM "${E2E_PLUGIN_PID[$h]}" 2>/dev/null
    wait "${E2E_PLUGIN_PID[$h]}" 2>/dev/null
  done
  if [[ -n ${E2E_KEEP_LOGS:-} && -d $E2E_RUN ]]; then
    mkdir -p "$E2E_ROOT-logs/${E2E_RUN##*/}"
    for h in "${E2E_HOSTS[@]}"; do
      for f in "$(host_dir "$h")"/*.log; do [[ -e $f ]] && cp "$f" "$E2E_ROOT-logs/${E2E_RUN##*/}/$h-${f##*/}"; done
    done
    info "logs kept in $E2E_ROOT-logs/${E2E_RUN##*/}"
  fi
  _e2e_teardown_run "$E2E_RUN" "$E2E_PID"
  if ((rc == 0)); then
    printf '[%s] PASS %s (%ss)\n' "$(_e2e_stamp)" "$E2E_NAME" "$(_e2e_elapsed)" >&2
  else
    printf '[%s] FAILED %s (status %s, %ss)\n' "$(_e2e_stamp)" "$E2E_NAME" "$rc" "$(_e2e_elapsed)" >&2
  fi
  exit "$rc"
}

# _e2e_kill_wait PID...: SIGKILL, then wait (5 s at most) until they are gone.
_e2e_kill_wait() {
  local p i
  (($#)) || return 0
  kill -KILL "$@" 2>/dev/null
  for ((i = 0; i < 50; i++)); do
    for p in "$@"; do [[ -e /proc/$p ]] && break; p=; done
    [[ -z $p ]] && return 0
    sleep 0.1
  done
  echo "e2e cleanup: processes still there after SIGKILL: $*" >&2
}

# _e2e_teardown_run DIR OWNERPID: forcefully remove what the run in DIR made: its recorded
# processes, everything inside its cgroups and network namespaces, the cgroup dirs, the
# namespaces, mounts under DIR, and DIR. Used by the normal cleanup (after the graceful stop) and
# by the reaper of crashed runs. Touches only names recorded by that run or prefixed with its PID.
_e2e_teardown_run() {
  local dir=$1 owner=$2 pfx="mvlan-e2e-$2" pid st name ns cg d pids=() m
  local -a cgdirs=() nss=()
  if [[ -f $dir/.state/pids ]]; then
    while read -r pid st name; do
      _e2e_alive "$pid" "$st" && pids+=("$pid")
    done <"$dir/.state/pids"
  fi
  # names recorded by the run, plus any with its prefix (a crash between create and record)
  mapfile -t nss < <({ cat "$dir/.state/netns" 2>/dev/null; ip netns list 2>/dev/null | awk '{print $1}' | grep "^$pfx-"; } | sort -u)
  for cg in $({ cat "$dir/.state/cgroups" 2>/dev/null; for d in /sys/fs/cgroup/*/"$pfx"-*; do [[ -d $d ]] && echo "/${d##*/}"; done; } | sort -u); do
    [[ $cg == "/$pfx-"* ]] || continue
    for d in /sys/fs/cgroup/*"$cg"; do [[ -d $d ]] && cgdirs+=("$d"); done
  done
  for d in "${cgdirs[@]}"; do
    mapfile -t -O "${#pids[@]}" pids < <(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null)
  done
  for ns in "${nss[@]}"; do
    [[ $ns == "$pfx-"* ]] || continue
    mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$ns" 2>/dev/null)
  done
  mapfile -t pids < <(printf '%s\n' "${pids[@]}" | grep -E '^[0-9]+$' | grep -vx "$owner" | sort -u)
  if ((${#pids[@]})); then
    [[ -n ${E2E_QUIET_CLEANUP:-} ]] || echo "       cleanup: killing leftover processes ${pids[*]}" >&2
    _e2e_kill_wait "${pids[@]}"
  fi
  for d in "${cgdirs[@]}"; do
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    [[ -d $d ]] && echo "e2e cleanup: cannot remove cgroup $d" >&2
  done
  for ns in "${nss[@]}"; do
    [[ $ns == "$pfx-"* ]] || continue
    ip netns del "$ns" 2>/dev/null || [[ ! -e /run/netns/$ns ]] || echo "e2e cleanup: cannot delete netns $ns" >&2
  done
  if [[ -d $dir && $dir == "$E2E_ROOT"/* ]]; then
    # nothing should be mounted under DIR in this mount namespace; if something is, detach it
    while read -r m; do umount -l "$m" 2>/dev/null; done < <(awk -v d="$dir/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r)
    rm -rf --one-file-system "$dir" || echo "e2e cleanup: cannot remove $dir" >&2
  fi
}

# e2e_reap_stale: tear down runs whose owner is dead (killed by SIGKILL, a ctest timeout...).
# Called with $E2E_ROOT/.reap.lock held.
e2e_reap_stale() {
  local d owner st p
  for d in "$E2E_ROOT"/*-[0-9]*/; do
    d=${d%/}
    [[ -d $d ]] || continue
    if ! read -r owner st <"$d/.state/owner" 2>/dev/null; then
      # no owner file (a crash right at the start): judge by the PID in the name alone
      owner=${d##*-}
      [[ $owner =~ ^[0-9]+$ && ! -d /proc/$owner ]] || continue
      st=x
    fi
    [[ $owner =~ ^[0-9]+$ ]] || continue
    _e2e_alive "$owner" "$st" && continue
    echo "e2e: reaping stale run $d (owner $owner is gone)" >&2
    _e2e_teardown_run "$d" "$owner"
  done
  # namespaces or cgroups of a run whose directory is already gone (crash late in its cleanup)
  for p in $({ ip netns list 2>/dev/null | awk '{print $1}'; find /sys/fs/cgroup/ -mindepth 2 -maxdepth 2 -name 'mvlan-e2e-*' -printf '%f\n'; } |
    sed -n 's/^mvlan-e2e-\([0-9]*\)-.*/\1/p' | sort -u); do
    [[ -d /proc/$p ]] && continue
    echo "e2e: reaping leftovers of dead run $p" >&2
    _e2e_teardown_run "$E2E_ROOT/none-$p" "$p"
  done
}

_e2e_init

# ---- helpers for the scenarios (appended) ----------------------------------------------------
# plugin_state_dir HOST: the state directory of HOST's plugin: the one plugin_start gives it, or
# E2E_STATE_DIR[HOST] where a scenario runs a managed plugin there instead.
declare -A E2E_STATE_DIR=()
plugin_state_dir() { echo "${E2E_STATE_DIR[$1]:-$(host_dir "$1")/state}"; }

# mvlan_status HOST [--json]: `mvlan status` on the state directory of HOST's plugin (it reads the
# database only, and is safe while the plugin runs).
mvlan_status() {
  local h=$1
  shift
  "$MVLAN_BIN" status --state-dir "$(plugin_state_dir "$h")" "$@"
}

# json_flat: read JSON as printed by `mvlan status --json` or `docker inspect` (one value per
# line, indented) on stdin; print one `path=value` line per scalar, path components joined by
# '.', array elements numbered from 0: `Pools.0.Allocations.1.Address=192.0.2.2`. Strings are
# printed without their quotes (escapes are left as they are). No jq needed.
json_flat() {
  awk '
    function path(k,   p, i) { p = ""; for (i = 2; i <= d; i++) p = p name[i] "."; return p k }
    {
      s = $0; sub(/^[ \t]+/, "", s); sub(/[ \t]*,?[ \t]*$/, "", s)
      if (s == "") next
      if (s ~ /^[\]}]$/) { d--; next }
      k = ""
      if (match(s, /^"([^"\\]|\\.)*"[ \t]*:[ \t]*/)) {
        k = substr(s, 1, RLENGTH); sub(/[ \t]*:[ \t]*$/, "", k); k = substr(k, 2, length(k) - 2)
        s = substr(s, RLENGTH + 1)
      } else if (d > 0 && arr[d]) {
        k = idx[d]++
      }
      if (s == "{" || s == "[") { d++; name[d] = k; arr[d] = (s == "["); idx[d] = 0; next }
      if (s == "{}" || s == "[]") next
      if (s ~ /^".*"$/) s = substr(s, 2, length(s) - 2)
      print path(k) "=" s
    }'
}

# status_allocations HOST [KIND]: what HOST's IPAM granted, from `mvlan status --json`, one
# "ADDRESS KIND MAC" line per grant (MAC "-" when none), sorted; only KIND (container, gateway,
# reserved...) when given.
status_allocations() {
  mvlan_status "$1" --json | json_flat | awk -F= -v want="${2:-}" '
    /^Pools\.[0-9]+\.Allocations\.[0-9]+\.[A-Za-z]+=/ {
      split($1, p, "."); k = p[2] "." p[4]; if (!(k in seen)) { seen[k] = 1; order[n++] = k }
      v[k, p[5]] = substr($0, length($1) + 2)
    }
    END {
      for (i = 0; i < n; i++) {
        k = order[i]
        if (want == "" || v[k, "Kind"] == want)
          print v[k, "Address"], v[k, "Kind"], (v[k, "MacAddress"] == "" ? "-" : v[k, "MacAddress"])
      }
    }' | sort
}

# status_bindings HOST: the names HOST's IPAM has bound to addresses (sticky addresses), from
# `mvlan status --json`, one "NAME ADDRESS STATE" line each (STATE held or parked), sorted.
status_bindings() {
  mvlan_status "$1" --json | json_flat | awk -F= '
    /^Pools\.[0-9]+\.Bindings\.[0-9]+\.[A-Za-z]+=/ {
      split($1, p, "."); k = p[2] "." p[4]; if (!(k in seen)) { seen[k] = 1; order[n++] = k }
      v[k, p[5]] = substr($0, length($1) + 2)
    }
    END { for (i = 0; i < n; i++) { k = order[i]; print v[k, "Name"], v[k, "Address"], v[k, "State"] } }' | sort
}

# status_endpoints HOST: the endpoints HOST's driver holds, from `mvlan status --json`, one
# "NETWORKID ENDPOINTID MAC ADDRESS ADDRESSIPV6 LINK" line each ("-" for an empty field), sorted.
status_endpoints() {
  mvlan_status "$1" --json | json_flat | awk -F= '
    /^Networks\.[0-9]+\.NetworkID=/ { net[$1] = $2 }
    /^Networks\.[0-9]+\.Endpoints\.[0-9]+\.[A-Za-z0-9]+=/ {
      split($1, p, "."); k = p[2] "." p[4]; if (!(k in seen)) { seen[k] = 1; order[n++] = k; nw[k] = p[2] }
      v[k, p[5]] = substr($0, length($1) + 2)
    }
    END {
      for (i = 0; i < n; i++) {
        k = order[i]; id = net["Networks." nw[k] ".NetworkID"]
        printf "%s %s %s %s %s %s\n", id, v[k, "EndpointID"], d(v[k, "MacAddress"]),
          d(v[k, "Address"]), d(v[k, "AddressIPv6"]), d(v[k, "Link"])
      }
    }
    function d(x) { return x == "" ? "-" : x }' | sort
}

# status_counts HOST: "POOLS NETWORKS" that HOST's plugin holds, from `mvlan status --json`.
status_counts() {
  mvlan_status "$1" --json | json_flat | awk -F= '
    /^Pools\.[0-9]+\.PoolID=/ { p++ } /^Networks\.[0-9]+\.NetworkID=/ { n++ }
    END { print p + 0, n + 0 }'
}

# ---- managed (v2) plugins (appended) ---------------------------------------------------------
# A managed plugin runs as a container of HOST's engine: `docker plugin create` sends the plugin
# directory from the client (so any path works), the engine keeps it under $B/data/plugins/<id>/,
# its socket is $B/plugins/<id>/<socket> (the engine's /run/docker/plugins is bound to $B/plugins),
# its stdout/stderr land in $B/dockerd.log (tagged plugin=<id>), its process sits in HOST's netns
# (network type host). Its cgroup is /<plugin id> (not under the engine's --cgroup-parent): a
# graceful engine stop removes it; what a killed run left is removed by the next managed_create.

# managed_plugin_dir DIR [BINARY]: the plugin directory (config.json + rootfs) built from BINARY
# by the Makefile's plugin-dir target, as `make plugin` builds it.
managed_plugin_dir() {
  local out rc=0
  out=$(make -s -C "$E2E_REPO_DIR" plugin-dir MVLAN_BIN="${2:-$MVLAN_BIN}" PLUGIN_DIR="$1" 2>&1) || rc=$?
  ((rc == 0)) || fail "make plugin-dir PLUGIN_DIR=$1" "exit status $rc, output:" "$out"
  info "$out"
}

# managed_create HOST NAME DIR: docker plugin create NAME DIR in HOST's engine (not enabled).
managed_create() {
  local h=$1 name=$2 dir=$3 out rc=0 id
  _e2e_managed_reap
  out=$(dk "$h" plugin create "$name" "$dir" 2>&1) || rc=$?
  ((rc == 0)) || fail "docker plugin create $name $dir on $h" "exit status $rc, output:" "$out"
  id=$(dk "$h" plugin inspect --format '{{.Id}}' "$name")
  [[ $id =~ ^[0-9a-f]{64}$ ]] || fail "plugin $name on $h: unexpected id '$id'"
  # the plugin's cgroup is named after its id: remember it for the reaper of a killed run
  echo "$E2E_PID $(_e2e_starttime "$E2E_PID") $id" >>"$E2E_ROOT/.managed-plugins"
  info "host $h: plugin $name created (id ${id:0:12})"
}

# managed_id HOST NAME: the plugin's id.
managed_id() { dk "$1" plugin inspect --format '{{.Id}}' "$2"; }

# managed_socket HOST NAME: the host path of the plugin's socket.
managed_socket() { echo "$(host_dir "$1")/plugins/$(managed_id "$1" "$2")/mvlan.sock"; }

# managed_state_dir HOST NAME: the host path of the plugin's propagatedMount (its state dir).
managed_state_dir() { echo "$(host_dir "$1")/data/plugins/$(managed_id "$1" "$2")/propagated-mount"; }

# managed_status HOST NAME [ARGS...]: `mvlan status` (the binary under test) on the plugin's state.
managed_status() {
  local h=$1 n=$2
  shift 2
  "$MVLAN_BIN" status --state-dir "$(managed_state_dir "$h" "$n")" "$@"
}

# managed_pids HOST: PIDs of the mvlan processes in HOST's netns (one while a plugin runs).
managed_pids() {
  local p
  for p in $(ip netns pids "$(host_ns "$1")" 2>/dev/null); do
    [[ $(cat "/proc/$p/comm" 2>/dev/null) == mvlan ]] && echo "$p"
  done
  return 0
}

# managed_answers HOST NAME: the plugin answers on its socket (IpamDriver.GetCapabilities).
# (from the socket's directory: its full path is longer than a socket address may be)
managed_answers() {
  local s
  s=$(managed_socket "$1" "$2") || return 1
  (cd "${s%/*}" 2>/dev/null && curl -sf -o /dev/null --max-time 2 --unix-socket "${s##*/}" \
    --data-binary '' -H 'Content-Type:' -H 'Accept: application/vnd.docker.plugins.v1.2+json' \
    http://mvlan/IpamDriver.GetCapabilities)
}

# managed_wait HOST NAME [NOT_PID] [SECONDS]: wait until one mvlan process (other than NOT_PID)
# runs in HOST and the plugin answers on its socket; prints its PID.
managed_wait() {
  local h=$1 n=$2 old=${3:-} secs=${4:-20} pids deadline
  deadline=$((${EPOCHREALTIME/./} + secs * 1000000))
  while ((${EPOCHREALTIME/./} < deadline)); do
    pids=$(managed_pids "$h")
    if [[ -n $pids && $pids != *$'\n'* && $pids != "$old" ]] && managed_answers "$h" "$n"; then
      echo "$pids"
      return 0
    fi
    sleep 0.2
  done
  fail "plugin $n on $h: no (new) mvlan process answering within $secs s" "processes: $(managed_pids "$h" | tr '\n' ' ')"
}

# managed_enable HOST NAME: docker plugin enable, then wait until it answers; prints its PID.
managed_enable() {
  local out rc=0
  out=$(dk "$1" plugin enable "$2" 2>&1) || rc=$?
  ((rc == 0)) || fail "docker plugin enable $2 on $1" "exit status $rc, output:" "$out"
  managed_wait "$1" "$2"
}

# _e2e_managed_reap: remove the cgroups of plugins whose run is gone (a run killed by SIGKILL).
# Only ids recorded by our runs, and only empty cgroup dirs (rmdir).
_e2e_managed_reap() {
  local reg=$E2E_ROOT/.managed-plugins owner st id d keep=()
  [[ -f $reg ]] || return 0
  exec {_e2e_mlock}>"$E2E_ROOT/.reap.lock"
  flock "$_e2e_mlock"
  while read -r owner st id; do
    [[ $id =~ ^[0-9a-f]{64}$ ]] || continue
    if _e2e_alive "$owner" "$st"; then keep+=("$owner $st $id"); continue; fi
    for d in /sys/fs/cgroup/*/"$id"; do
      [[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
      [[ -d $d ]] && { echo "e2e: cannot remove cgroup $d of a stale plugin" >&2; keep+=("$owner $st $id"); }
    done
  done <"$reg"
  printf '%s\n' "${keep[@]}" | sort -u | grep . >"$reg.tmp" || true
  mv "$reg.tmp" "$reg"
  flock -u "$_e2e_mlock"
  exec {_e2e_mlock}>&-
}

# ---- a registry inside a host, install and upgrade from it (appended) ------------------------
# Debian's docker-registry (TESTBED.md): listens on 127.0.0.1:5000 inside HOST's netns only (an
# engine speaks plain HTTP to 127.0.0.0/8 registries without any flag), its storage and config in
# $E2E_RUN/registry-HOST/, its log in $B/registry.log. Its PID is recorded like the engine's, so the
# normal cleanup and the reaper of a killed run end it (and it dies with the netns anyway).
declare -A E2E_REGISTRY_PID=()
E2E_REGISTRY_ADDR=127.0.0.1:5000

# registry_start HOST: start the registry, wait until it answers /v2/.
registry_start() {
  local h=$1 d pid st t0=$EPOCHREALTIME bin=${E2E_REGISTRY_BIN:-/usr/bin/docker-registry}
  [[ -x $bin ]] || fail "registry: $bin not found (package docker-registry)"
  [[ -z ${E2E_REGISTRY_PID[$h]:-} ]] || fail "registry on $h already running"
  d=$E2E_RUN/registry-$h
  mkdir -p "$d/storage"
  cat >"$d/config.yml" <<YAML
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $d/storage
  delete:
    enabled: true
http:
  addr: $E2E_REGISTRY_ADDR
YAML
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$d" \
    setsid nsenter --net="/run/netns/$(host_ns "$h")" -- "$bin" serve "$d/config.yml" \
    >>"$(host_dir "$h")/registry.log" 2>&1 </dev/null &
  pid=$!
  st=$(_e2e_starttime "$pid") || st=0
  _e2e_record pids "$pid $st registry-$h"
  E2E_REGISTRY_PID[$h]=$pid
  until in_ns "$h" curl -sf -o /dev/null --max-time 2 "http://$E2E_REGISTRY_ADDR/v2/"; do
    kill -0 "$pid" 2>/dev/null || { unset "E2E_REGISTRY_PID[$h]"; wait "$pid" || true; _e2e_tail "$(host_dir "$h")/registry.log"; fail "registry on $h exited during start"; }
    ((${EPOCHREALTIME/./} - ${t0/./} < 15000000)) || fail "registry on $h did not answer within 15 s"
    sleep 0.1
  done
  info "host $h: registry on $E2E_REGISTRY_ADDR (pid $pid, storage $d/storage) up in $(_e2e_since "$t0")"
}

# registry_stop HOST: end the registry (SIGTERM, SIGKILL after 5 s) and remove its storage.
registry_stop() {
  local h=$1 pid i
  pid=${E2E_REGISTRY_PID[$h]:-}
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "E2E_REGISTRY_PID[$h]"
  fi
  rm -rf "$E2E_RUN/registry-$h"
  info "host $h: registry stopped, storage removed"
}

# registry_tags HOST REPO: the tags the registry holds for REPO, sorted, space-separated.
registry_tags() {
  in_ns "$1" curl -sf --max-time 5 "http://$E2E_REGISTRY_ADDR/v2/$2/tags/list" |
    grep -o '"tags":\[[^]]*\]' | grep -o '"[^"]*"' | tr -d '"' | grep -vx tags | sort | tr '\n' ' ' | sed 's/ $//'
}

# managed_privileges HOST REF: what `docker plugin install REF` asks the user to grant, from the
# engine's API (GET /plugins/privileges), one "NAME: VALUE,VALUE" line per privilege, sorted.
managed_privileges() {
  curl -sf --max-time 30 --unix-socket "$(host_dir "$1")/docker.sock" -G \
    --data-urlencode "remote=$2" http://docker/plugins/privileges |
    grep -o '"Name":"[^"]*","Description":"[^"]*","Value":\[[^]]*\]' |
    sed -E 's/^"Name":"([^"]*)".*"Value":\[([^]]*)\]$/\1: \2/; s/"//g' | sort
}

# managed_install HOST REF [ARGS...]: docker plugin install --grant-all-permissions REF ARGS
# (ARGS: --alias, KEY=VALUE settings...) in HOST's engine; it is enabled at once. Records its id
# for the reaper of a killed run, as managed_create does. Waits until it answers; prints its PID.
managed_install() {
  local h=$1 ref=$2 out rc=0 id name=$2 a
  shift 2
  for a in "$@"; do [[ $a == --alias=* ]] && name=${a#--alias=}; done
  _e2e_managed_reap
  out=$(dk "$h" plugin install --grant-all-permissions "$ref" "$@" </dev/null 2>&1) || rc=$?
  ((rc == 0)) || fail "docker plugin install $ref $* on $h" "exit status $rc, output:" "$out"
  id=$(managed_id "$h" "$name")
  [[ $id =~ ^[0-9a-f]{64}$ ]] || fail "plugin $name on $h: unexpected id '$id'"
  echo "$E2E_PID $(_e2e_starttime "$E2E_PID") $id" >>"$E2E_ROOT/.managed-plugins"
  info "host $h: plugin $ref installed as $name (id ${id:0:12})"
  managed_wait "$h" "$name"
}

# ---- a switched LAN, swarm, compose (appended) -----------------------------------------------
# lan_create HOST...: a switch (bridge br0 in a host "lan" of its own) with each HOST wired to it
# (made when it does not exist yet): the Nth HOST's end is w<N>, up, with 198.51.100.1<N>/24
# (at most 9 hosts); the switch's end is p<N>. Engines reach each other at those addresses.
lan_create() {
  local i=0 h ns
  (($# <= 9)) || fail "lan_create: at most 9 hosts"
  host_create lan
  ns=$(host_ns lan)
  ip -n "$ns" link add br0 type bridge || fail "cannot create the bridge (kernel module bridge)"
  ip -n "$ns" link set br0 up
  for h in "$@"; do
    i=$((i + 1))
    [[ -n ${E2E_HOST_NS[$h]:-} ]] || host_create "$h"
    wire "$h" "w$i" lan "p$i"
    ip -n "$ns" link set "p$i" master br0
    ip -n "$(host_ns "$h")" addr add "198.51.100.1$i/24" dev "w$i"
  done
}

# lan_etcd ARGS...: tests/etcd/etcd_cluster.sh ARGS for a three-member cluster in the lan host,
# members on 198.51.100.1-3 (lan_etcd_start puts those on the switch). Its processes live in the
# lan namespace: the cleanup ends them with it.
lan_etcd() {
  ETCD_NETNS=$(host_ns lan) ETCD_ADDRS="198.51.100.1 198.51.100.2 198.51.100.3" \
    bash "$E2E_REPO_DIR/tests/etcd/etcd_cluster.sh" "$@"
}
# lan_etcd_start DIR: start that cluster, its data in DIR; prints the endpoints (one line). The
# scenario checks for etcd first (it runs in $(...), where exit 77 would not end the run).
lan_etcd_start() {
  local i out
  for i in 1 2 3; do ip -n "$(host_ns lan)" addr add "198.51.100.$i/24" dev br0; done
  out=$(lan_etcd start "$1" | tail -1) || fail "the etcd cluster did not start"
  info "etcd endpoints $out"
  echo "$out"
}

# lan_etcd_v3 N PATH JSON: a request to member N's v3 JSON gateway (curl, from the lan namespace).
lan_etcd_v3() { ip netns exec "$(host_ns lan)" curl -sf -m 5 -X POST "http://198.51.100.$1:2379/v3/$2" -d "$3"; }

# lan_etcd_keys PREFIX SUBDIR: the keys under PREFIX/SUBDIR/ (PREFIX as MVLAN_ETCD_PREFIX, ending
# in /), one per line, as etcd itself has them (read from member 1), whatever mvlan says.
lan_etcd_keys() {
  local from="$1$2/" out
  out=$(lan_etcd_v3 1 kv/range "{\"key\":\"$(printf %s "$from" | base64 -w0)\",\"range_end\":\"$(printf %s "${from%/}0" | base64 -w0)\",\"keys_only\":true}") ||
    fail "etcd range $from: no answer from 198.51.100.1"
  # no "kvs" in the answer when nothing matches
  { grep -o '"key":"[^"]*"' <<<"$out" || true; } | cut -d'"' -f4 | while read -r k; do base64 -d <<<"$k"; echo; done
}

# swarm_init HOST ADDR: HOST's engine starts a swarm and manages it, advertising ADDR (an address
# on one of HOST's links, never loopback: the other nodes dial it).
swarm_init() {
  assert_ok "$1: docker swarm init --advertise-addr $2" \
    dk "$1" swarm init --advertise-addr "$2" --listen-addr "$2:2377"
}

# swarm_join HOST ADDR MANAGER MANAGER_ADDR: HOST (advertising ADDR) joins MANAGER's swarm as a
# worker.
swarm_join() {
  local token
  token=$(dk "$3" swarm join-token -q worker) || fail "$3: docker swarm join-token worker"
  assert_ok "$1 joins the swarm of $3 as a worker" \
    dk "$1" swarm join --token "$token" --advertise-addr "$2" --listen-addr "$2:2377" "$4:2377"
}

# swarm_wait_plugin MANAGER NAME: wait until every node of MANAGER's swarm has told it that it has
# the network plugin NAME. A node reports plugins enabled after it joined only with its next
# description update (up to about 20 s later); until then the scheduler places no task on it
# ("no suitable node (missing plugin on 1 node)").
swarm_wait_plugin() {
  local id t0=$EPOCHREALTIME
  for id in $(dk "$1" node ls -q); do
    eventually 40 _e2e_node_has_plugin "$1" "$id" "$2" ||
      fail "node $id reports the network plugin $2 within 40 s" "seen: $(dk "$1" node inspect --format '{{json .Description.Engine.Plugins}}' "$id")"
  done
  pass "every node reports the network plugin $2 ($(_e2e_since "$t0"))"
}
_e2e_node_has_plugin() {
  [[ " $(dk "$1" node inspect --format '{{range .Description.Engine.Plugins}}{{.Type}}={{.Name}} {{end}}' "$2") " == *" Network=$3 "* ]]
}

# service_containers HOST SERVICE: the ids of SERVICE's running containers on HOST, one per line.
service_containers() {
  dk "$1" ps -q --no-trunc --filter "label=com.docker.swarm.service.name=$2"
}

# service_converged MANAGER SERVICE N: exactly N tasks of SERVICE run, all meant to (none that is
# being shut down still runs), and none that should run is anywhere else (starting, failed...).
service_converged() {
  local states
  states=$(dk "$1" service ps --format '{{.DesiredState}} {{.CurrentState}}' "$2") || return 1
  [[ $(grep -c '^Running Running' <<<"$states") == "$3" &&
    $(grep -c '^[A-Za-z]* Running' <<<"$states") == "$3" &&
    $(grep -c '^Running' <<<"$states") == "$3" ]]
}

# service_wait MANAGER SERVICE N [SECONDS]: wait until service_converged; fail showing the tasks
# (with their errors) when it does not within SECONDS (default 60).
service_wait() {
  local t0=$EPOCHREALTIME
  eventually "${4:-60}" service_converged "$1" "$2" "$3" ||
    fail "service $2 runs $3 tasks within ${4:-60} s" "tasks:" \
      "$(dk "$1" service ps --no-trunc --format '{{.Name}} {{.Node}} {{.DesiredState}} {{.CurrentState}} {{.Error}}' "$2" 2>&1)"
  pass "service $2 runs $3 tasks ($(_e2e_since "$t0"))"
}

# compose_enable: `docker compose` for this run's client: Docker Compose v2 (tests/e2e/compose.sh
# unpacks it under E2E_COMPOSE_DIR, default /var/tmp/compose-2) as a CLI plugin in the run's own
# DOCKER_CONFIG. Exits 77 (skipped, saying why) when it is not unpacked.
compose_enable() {
  local c=${E2E_COMPOSE_DIR:-/var/tmp/compose-2}/root/usr/libexec/docker/cli-plugins/docker-compose
  if [[ ! -x $c ]]; then
    echo "e2e: Docker Compose v2 is not unpacked under ${c%/usr/*}: run tests/e2e/compose.sh (make test-deps); skipped" >&2
    exit 77
  fi
  mkdir -p "$DOCKER_CONFIG/cli-plugins"
  ln -sf "$c" "$DOCKER_CONFIG/cli-plugins/docker-compose"
  info "compose: $("$E2E_DOCKER" compose version 2>&1)"
}
