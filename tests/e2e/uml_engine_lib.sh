# shellcheck shell=bash
# tests/e2e/uml_engine_lib.sh: sourced by a scenario that runs inside user-mode Linux under
# tests/e2e/uml_engine.sh. A scenario script starts with
#
#   if [[ -z ${MVLAN_IN_UML:-} ]]; then exec bash "$(dirname "$0")/uml_engine.sh" "$0" "$@"; fi
#   source "$MVLAN_UML_LIB"
#
# so that run on the host it boots UML (passing --mvlan PATH and --engine 20|28|29 on), and inside
# UML it gets: one engine of that generation (dk ..., its own client; E2E_ENGINE) with mvlan as
# -d mvlan / --ipam-driver mvlan and the image busybox:e2e, both started by the init; the root
# network namespace of UML to make links in; and the same step log and assertions as lib.sh.
# The run has nothing to clean up: UML is thrown away.

set -Eeuo pipefail
E2E_NAME=$(basename "$0" .sh)
E2E_IMAGE=busybox:e2e
# The engine generation the init started (20, 28 or 29, as lib.sh's), for what differs between them.
E2E_ENGINE=${MVLAN_UML_ENGINE:-20}
E2E_T0=$EPOCHREALTIME
E2E_PID=$$

# ---- logging (as lib.sh) ---------------------------------------------------------------------
_e2e_elapsed() {
  local us=$((${EPOCHREALTIME/./} - ${E2E_T0/./}))
  printf '%d.%d' $((us / 1000000)) $((us / 100000 % 10))
}
_e2e_stamp() { printf '%(%H:%M:%S)T +%6ss' -1 "$(_e2e_elapsed)"; }
step() { printf '[%s] ==> %s\n' "$(_e2e_stamp)" "$*" >&2; }
info() { printf '[%s]     %s\n' "$(_e2e_stamp)" "$*" >&2; }
pass() { printf '[%s]     ok: %s\n' "$(_e2e_stamp)" "$*" >&2; }
fail() {
  local i
  {
    printf '[%s] FAIL: %s\n' "$(_e2e_stamp)" "$1"
    shift
    for i in "$@"; do printf '       %s\n' "$i"; done
    for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do
      [[ ${FUNCNAME[$i]} == main || ${BASH_SOURCE[$i]} != *_lib.sh ]] || continue
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
_e2e_on_exit() {
  local rc=$?
  trap - EXIT ERR
  [[ $BASHPID == "$E2E_PID" ]] || exit "$rc"
  set +e +E
  [[ -z ${_E2E_WATCHDOG:-} ]] || kill "$_E2E_WATCHDOG" 2>/dev/null
  if ((rc == 0)); then
    printf '[%s] scenario %s passed inside UML (%ss)\n' "$(_e2e_stamp)" "$E2E_NAME" "$(_e2e_elapsed)" >&2
  else
    printf '[%s] scenario %s FAILED inside UML (status %s, %ss)\n' "$(_e2e_stamp)" "$E2E_NAME" "$rc" "$(_e2e_elapsed)" >&2
  fi
  exit "$rc"
}
trap _e2e_on_exit EXIT
trap '_e2e_on_err $? "$BASH_COMMAND"' ERR
# The deadline (what the runner left after boot): end with 124, saying so, before init's backstop.
if [[ ${MVLAN_UML_DEADLINE:-} =~ ^[0-9]+$ ]]; then
  trap 'trap "" USR1; printf "[%s] FAIL: deadline of %s s reached\n" "$(_e2e_stamp)" "$MVLAN_UML_DEADLINE" >&2; _E2E_FAILED_REPORTED=1; exit 124' USR1
  (sleep "$MVLAN_UML_DEADLINE"; kill -USR1 "$E2E_PID") </dev/null >/dev/null 2>&1 &
  _E2E_WATCHDOG=$!
fi

info "inside user-mode Linux: engine $E2E_ENGINE (client ${MVLAN_UML_DOCKER:-/usr/bin/docker}) and plugin ready ${MVLAN_UML_BOOT:-?} s after boot, ${MVLAN_UML_DEADLINE:-?} s left"

# ---- assertions (as lib.sh) ------------------------------------------------------------------
assert_eq() { # EXPECTED ACTUAL WHAT
  [[ $2 == "$1" ]] || fail "$3" "expected: '$1'" "seen:     '$2'"
  pass "$3"
}
assert_contains() { # HAYSTACK NEEDLE WHAT
  [[ $1 == *"$2"* ]] || fail "$3" "expected to contain: '$2'" "seen: '$1'"
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
assert_ok() { # WHAT CMD...: CMD succeeds; output in $E2E_OUT
  local what=$1 rc=0
  shift
  E2E_OUT=$("$@" 2>&1) || rc=$?
  ((rc == 0)) || fail "$what" "command: $*" "expected: exit status 0" "seen:     exit status $rc, output:" "$E2E_OUT"
  pass "$what"
}

# ---- engine, links, containers ---------------------------------------------------------------
# dk ARGS...: the UML engine's client, the one of its generation (each call bounded: a hung engine
# must not eat the deadline).
dk() { timeout 120 "${MVLAN_UML_DOCKER:-/usr/bin/docker}" -H "$MVLAN_UML_SOCK" "$@"; }

# link_details NAME: `ip -d -o link show NAME` (empty when it does not exist).
link_details() { ip -d -o link show dev "$1" 2>/dev/null || true; }
link_exists() { ip link show dev "$1" >/dev/null 2>&1; }
# links_of_type TYPE: names of UML's links of that kind.
links_of_type() { ip -o link show type "$1" | awk -F': ' '{print $2}' | sed 's/@.*//'; }
# assert_vlan NAME PARENT VID: NAME is an 802.1Q link with that id on PARENT, and up.
assert_vlan() {
  local d i
  # The kernel moves a new link's operstate from UNKNOWN to UP a moment after it is set up
  # (linkwatch): a busy machine's UML was seen reading it 0.2 s after the create, still UNKNOWN.
  for ((i = 0; i < 50; i++)); do
    d=$(link_details "$1")
    [[ $d == *"state UP"* ]] && break
    sleep 0.1
  done
  [[ -n $d ]] || fail "$1 exists as VLAN $3 on $2" "expected: a link $1" "seen: no such link"
  [[ $d == *"$1@$2:"* && $d == *"vlan protocol 802.1Q id $3 "* && $d == *"state UP"* ]] ||
    fail "$1 is VLAN $3 on $2, up" "seen: $d"
  pass "$1 is VLAN $3 (802.1Q) on $2, up"
}
assert_no_link() { # NAME WHAT
  link_exists "$1" && fail "$2" "expected: no link $1" "seen: $(link_details "$1")"
  pass "$2"
}

# ctr_run NAME NETWORK [docker run options...]: a detached container that sleeps.
ctr_run() {
  local name=$1 net=$2 out rc=0 t=$EPOCHREALTIME
  shift 2
  out=$(dk run -d --name "$name" --network "$net" "$@" "$E2E_IMAGE" \
    sh -c 'trap "exit 0" TERM INT; sleep 1d & wait' 2>&1) || rc=$?
  ((rc == 0)) || fail "docker run $name (network $net ${*})" "exit status $rc, output:" "$out"
  info "container $name running on $net ($(( (${EPOCHREALTIME/./} - ${t/./}) / 1000000 )) s)"
}
ctr_ip() { dk inspect --format "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"; }
ctr_exec() {
  local n=$1
  shift
  dk exec "$n" "$@"
}
# can_ping NAME IP: NAME reaches IP (3 tries of 1 s: the first ARP exchange may be slow).
can_ping() {
  local i
  for i in 1 2 3; do
    dk exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
  done
  return 1
}
assert_ping() { # NAME IP
  can_ping "$@" || fail "$1 pings $2" "expected: an answer" "seen: no answer in 3 tries" \
    "$(dk exec "$1" ip -4 addr 2>&1 | tr '\n' ' ')"
  pass "$1 pings $2"
}
assert_no_ping() { # NAME IP
  ! dk exec "$1" ping -c 2 -W 1 "$2" >/dev/null 2>&1 || fail "$1 must not reach $2" "expected: no answer" "seen: answers"
  pass "$1 does not reach $2"
}
# mvlan_status: `mvlan status` of the plugin the init started (it only reads the database).
mvlan_status() { "${MVLAN_UML_BIN:?}" status --state-dir /run/mvlan-state; }
# plugin_alive: the mvlan the init started still runs.
plugin_alive() { kill -0 "$(cat /run/mvlan.pid)" 2>/dev/null; }
