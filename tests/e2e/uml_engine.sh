#!/bin/bash
# tests/e2e/uml_engine.sh: runs one e2e scenario inside user-mode Linux, whose kernel has what the
# host's lacks (802.1Q VLAN, dummy), with a Docker engine and mvlan started inside it.
#
#   uml_engine.sh SCENARIO [--mvlan PATH] [--engine 20|28|29] [ARGS...]
#
# Inside UML (root = the host's / over hostfs), tests/e2e/uml_engine_init.sh is PID 1: it puts
# tmpfs over everything the engine and the plugin write, starts a Docker engine (vfs) and
# `mvlan serve` (socket /run/docker/plugins/mvlan.sock, state dir on a tmpfs), imports a busybox
# image made here from busybox-static, and runs `bash SCENARIO ARGS...` with MVLAN_IN_UML=1; the
# scenario sources tests/e2e/uml_engine_lib.sh (steps, assertions, docker helpers). Its log comes
# back here (stderr), and its exit status is ours.
#
# PATH must be mvlan's release binary (default <repo>/build/mvlan): ASan cannot run inside UML.
# --engine (or E2E_ENGINE, as lib.sh): 20 = Debian 12's docker.io 20.10 with its containerd 1.6,
# runc and client (default); 28 = Docker 28.5, containerd 2.1 and docker-cli 28.5 as
# tests/e2e/engine28.sh unpacks them under E2E_ENGINE28_DIR (default /var/tmp/engine-28)/root,
# with that tree's runc if it has one, else Debian's; 29 = dockerd 29.7.2 as tests/e2e/engine29.sh
# unpacks it under E2E_ENGINE29_DIR (default /var/tmp/engine-29), with the engine-28 tree's
# containerd and client. A missing tree is an error, not a skip: `make test-deps` unpacks it, and
# a silently skipped engine would hide a gap. The one skip: engine 29 in a clone that has no
# shared folder beside it, where its binary comes from.
# Exit status: the scenario's; 77 = skipped (not root); 124 = deadline reached; 1 = no result.
# Environment: E2E_DEADLINE=SECONDS (default 660) bounds the whole run, cleanup included: the
# scenario gets what is left after boot minus 20 s, UML is killed 10 s before the deadline.
# E2E_ROOT (default /var/tmp/mvlan-e2e) holds the run's directory, removed at the end; with
# E2E_KEEP_LOGS=1 the logs are copied to ${E2E_ROOT}-logs/<run>/ first. UML_MEM (default 1G).
#
# Leaves nothing behind: UML runs in a PID namespace of its own whose init is `timeout`; when that
# ends, or when this script dies (even by SIGKILL: pdeathsig), the kernel kills every UML process.
# A run killed by SIGKILL leaves its directory, which the next run (or lib.sh's reaper) removes.
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
t0=$EPOCHREALTIME
log() { # same stamp as lib.sh
  local us=$((${EPOCHREALTIME/./} - ${t0/./}))
  printf '[%(%H:%M:%S)T +%6ss] %s\n' -1 "$((us / 1000000)).$((us / 100000 % 10))" "$*" >&2
}

# --mvlan and --engine may come before or after SCENARIO (a scenario re-runs itself as
# `uml_engine.sh $0 "$@"`).
mvlan_bin=$repo/build/mvlan scenario='' args=() engine=${E2E_ENGINE:-20}
while (($#)); do
  case $1 in
    --mvlan) mvlan_bin=${2:?--mvlan needs a path}; shift 2 ;;
    --mvlan=*) mvlan_bin=${1#*=}; shift ;;
    --engine) engine=${2:?--engine needs 20, 28 or 29}; shift 2 ;;
    --engine=*) engine=${1#*=}; shift ;;
    *) if [[ -z $scenario ]]; then scenario=$1; else args+=("$1"); fi; shift ;;
  esac
done
[[ -n $scenario ]] || { echo "usage: uml_engine.sh [--mvlan PATH] [--engine 20|28|29] SCENARIO [ARGS...]" >&2; exit 2; }
[[ $engine == 20 || $engine == 28 || $engine == 29 ]] || { echo "e2e: unknown engine generation '$engine' (--engine 20, 28 or 29)" >&2; exit 2; }
scenario=$(realpath -e -- "$scenario")
set -- "${args[@]}"
mvlan_bin=$(realpath -m -- "$mvlan_bin")
name=$(basename "$scenario" .sh)

if ((EUID != 0)); then
  echo "e2e: $name needs root (user-mode Linux with a Docker engine); skipped" >&2
  exit 77
fi
uml=$(command -v linux.uml) || {
  echo "e2e: user-mode Linux is missing; install it with: apt-get install user-mode-linux kmod" >&2
  exit 1
}
for f in /usr/sbin/dockerd /usr/bin/docker /usr/bin/containerd /usr/bin/ctr /usr/sbin/runc /bin/busybox \
  /usr/sbin/xtables-legacy-multi /usr/bin/curl /usr/bin/setpriv /usr/bin/unshare; do
  [[ -x $f ]] || { echo "e2e: $f missing (packages: docker.io containerd runc busybox-static iptables curl util-linux)" >&2; exit 1; }
done
# The engine's binaries: dockerd, its client, containerd and its client ctr; engine_path goes in
# front of PATH inside UML, where containerd finds its shim and the shim runc.
if [[ $engine == 20 ]]; then
  dockerd_bin=/usr/sbin/dockerd docker_bin=/usr/bin/docker containerd_bin=/usr/bin/containerd
  ctr_bin=/usr/bin/ctr engine_path=''
else
  e28=$(realpath -m -- "${E2E_ENGINE28_DIR:-/var/tmp/engine-28}/root")
  dockerd_bin=$e28/usr/sbin/dockerd docker_bin=$e28/usr/bin/docker containerd_bin=$e28/usr/bin/containerd
  ctr_bin=$e28/usr/bin/ctr engine_path=$e28/usr/sbin:$e28/usr/bin
  for f in "$dockerd_bin" "$docker_bin" "$containerd_bin" "$ctr_bin" "$e28/usr/bin/containerd-shim-runc-v2"; do
    [[ -x $f ]] || { echo "e2e: engine 28 is not unpacked: $f missing; run 'make test-deps' (or: tests/e2e/engine28.sh)" >&2; exit 1; }
  done
  if [[ $engine == 29 ]]; then
    e29=$(realpath -m -- "${E2E_ENGINE29_DIR:-/var/tmp/engine-29}")
    dockerd_bin=$e29/dockerd engine_path=$e29:$engine_path
    if [[ ! -x $dockerd_bin ]]; then
      src=$repo/../shared/engines/docker-29.7.2
      [[ -d $src ]] || { echo "e2e: engine 29 comes from the project's shared folder, not beside this checkout ($src); skipped" >&2; exit 77; }
      echo "e2e: engine 29 is not unpacked: $dockerd_bin missing; run 'make test-deps' (or: tests/e2e/engine29.sh)" >&2
      exit 1
    fi
  fi
  case $e28/ in # UML's init puts tmpfs over these: the tree would be invisible inside (29's is under /var/tmp too)
    /tmp/* | /run/* | /root/* | /var/lib/docker/* | /var/lib/containerd/* | /etc/docker/*)
      echo "e2e: E2E_ENGINE28_DIR must not lie under /tmp, /run, /root, /etc/docker, /var/lib/docker or /var/lib/containerd (hidden inside UML): $e28" >&2
      exit 1 ;;
  esac
fi
if [[ ! -x $mvlan_bin ]]; then
  echo "e2e: mvlan binary not found or not executable: '$mvlan_bin' (build it with make; pass --mvlan PATH)" >&2
  exit 1
fi
if grep -q __asan_init "$mvlan_bin"; then
  echo "e2e: $mvlan_bin is built with AddressSanitizer, which cannot run inside UML; pass the release build (make: build/mvlan)" >&2
  exit 1
fi

deadline_s=${E2E_DEADLINE:-660}
if [[ ! $deadline_s =~ ^[0-9]+$ ]] || ((deadline_s < 60)); then echo "e2e: E2E_DEADLINE must be >= 60 s" >&2; exit 2; fi
E2E_ROOT=${E2E_ROOT:-/var/tmp/mvlan-e2e}
run=$E2E_ROOT/$name-$$

starttime() { # PID -> start time in clock ticks, so that a reused PID is not taken for its owner
  local s f
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  read -ra f <<<"${s##*) }"
  echo "${f[19]}"
}

# Reap runs of this runner whose owner is gone (killed by SIGKILL): their UML died with them (pdeathsig),
# only the directory is left. Same lock and layout as lib.sh, whose reaper also handles them.
mkdir -p "$E2E_ROOT"
exec {lock}>"$E2E_ROOT/.reap.lock"
flock "$lock"
for d in "$E2E_ROOT"/*-[0-9]*/; do
  d=${d%/}
  [[ -f $d/.state/uml ]] || continue
  read -r o st <"$d/.state/owner" 2>/dev/null || continue
  [[ $(starttime "$o" 2>/dev/null) == "$st" ]] && continue
  echo "e2e: removing stale run $d (owner $o is gone)" >&2
  rm -rf --one-file-system "$d"
done
rm -rf "$run"
mkdir -p "$run/.state"
touch "$run/.state/uml"
echo "$$ $(starttime $$)" >"$run/.state/owner.tmp"
mv "$run/.state/owner.tmp" "$run/.state/owner"
flock -u "$lock"
exec {lock}>&-

uml_pid=
status=
shown=
# shellcheck disable=SC2317 # reached through the traps
cleanup() {
  local rc=${status:-$?} f
  trap - EXIT ERR
  trap '' INT TERM HUP
  set +e
  if [[ -n $uml_pid ]]; then
    kill -KILL "$uml_pid" 2>/dev/null
    wait "$uml_pid" 2>/dev/null
  fi
  # interrupted: what the scenario got to
  [[ -n $shown || ! -s $run/test.log ]] || cat "$run/test.log" >&2
  if [[ -n ${E2E_KEEP_LOGS:-} && -d $run ]]; then
    mkdir -p "$E2E_ROOT-logs/${run##*/}"
    for f in "$run"/*.log; do [[ -e $f ]] && cp "$f" "$E2E_ROOT-logs/${run##*/}/"; done
    log "logs kept in $E2E_ROOT-logs/${run##*/}"
  fi
  rm -rf --one-file-system "$run"
  [[ ! -e $run ]] || echo "e2e cleanup: cannot remove $run" >&2
  if ((rc == 0)); then
    log "PASS $name ($(( ${EPOCHREALTIME%.*} - ${t0%.*} ))s)"
  else
    log "FAILED $name (status $rc, $(( ${EPOCHREALTIME%.*} - ${t0%.*} ))s)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'status=130; exit 130' INT
trap 'status=143; exit 143' TERM
trap 'status=129; exit 129' HUP

log "==> $name: inside user-mode Linux ($(uname -r) host, UML $(basename "$(ls -d /usr/lib/uml/modules/*/ | head -1)")), run $run"
log "    plugin under test: $mvlan_bin; engine $("$dockerd_bin" --version 2>/dev/null | head -1); deadline ${deadline_s}s"

# The image: busybox-static and its applets, imported inside UML with `docker import`.
mkdir -p "$run/rootfs/bin" "$run/rootfs/etc" "$run/rootfs/tmp"
cp /bin/busybox "$run/rootfs/bin/busybox"
for a in sh ip ping sleep cat ifconfig route arping ls echo grep awk wc arp; do
  ln -s busybox "$run/rootfs/bin/$a"
done
tar -C "$run/rootfs" -cf "$run/busybox.tar" .
rm -rf "$run/rootfs"

# The kernel only starts an init that has the execute bit: a copy of our own, not the source's mode.
# Everything UML runs is copied into the run dir (under /var/tmp): inside UML, tmpfs mounts hide
# /tmp, /run and /root, where a checkout may live.
install -m 0755 "$here/uml_engine_init.sh" "$run/init"
install -m 0755 "$mvlan_bin" "$run/mvlan"
install -m 0644 "$here/uml_engine_lib.sh" "$run/uml_engine_lib.sh"
install -m 0755 "$scenario" "$run/$name.sh" # its own name: the scenario logs by it
end=$(( ${t0%.*} + deadline_s - 30 )) # the scenario's end; init then needs a few s to power off
{
  printf 'scenario=%q\n' "$run/$name.sh"
  printf 'lib=%q\n' "$run/uml_engine_lib.sh"
  printf 'mvlan_bin=%q\n' "$run/mvlan"
  printf 'image_tar=%q\n' "$run/busybox.tar"
  printf 'scenario_end=%q\n' "$end"
  printf 'engine=%q\n' "$engine"
  printf 'dockerd_bin=%q\n' "$dockerd_bin"
  printf 'docker_bin=%q\n' "$docker_bin"
  printf 'containerd_bin=%q\n' "$containerd_bin"
  printf 'ctr_bin=%q\n' "$ctr_bin"
  printf 'engine_path=%q\n' "$engine_path"
  printf 'argv=('
  for a in "$@"; do printf '%q ' "$a"; done
  printf ')\n'
} >"$run/config"

uml_timeout=$(( ${t0%.*} + deadline_s - 10 - ${EPOCHREALTIME%.*} ))
# uml_dir keeps the mconsole socket in the run dir instead of ~/.uml. setpriv --pdeathsig kills
# unshare when this script dies; --kill-child then kills `timeout`, the PID namespace's init, and
# with it every UML process.
setpriv --pdeathsig KILL unshare --pid --fork --kill-child=SIGKILL \
  timeout --kill-after=5 "$uml_timeout" \
  "$uml" mem="${UML_MEM:-1G}" rootfstype=hostfs rootflags=/ rw init="$run/init" \
  con=null con0=fd:0,fd:1 uml_dir="$run" umid=mvlan-e2e mvlan_uml_dir="$run" \
  </dev/null >"$run/console.log" 2>&1 &
uml_pid=$!
echo "$uml_pid $(starttime "$uml_pid" || echo 0) uml" >>"$run/.state/pids"
wait "$uml_pid" && uml_rc=0 || uml_rc=$?
uml_pid=

# hostfs writes through to the host at once: the log is there even when UML was killed.
shown=1
[[ -f $run/test.log ]] && cat "$run/test.log" >&2
if [[ ! -f $run/rc ]]; then
  if ((uml_rc == 124 || uml_rc == 137)); then status=124; else status=1; fi
  log "FAIL: user-mode Linux did not report a result (exit $uml_rc; UML timeout ${uml_timeout}s)"
  for f in console.log init.log containerd.log dockerd.log mvlan.log; do
    [[ -s $run/$f ]] || continue
    echo "       ---- last lines of $f" >&2
    tail -n 25 "$run/$f" | sed 's/^/       | /' >&2
  done
  exit "$status"
fi
status=$(cat "$run/rc")
if ((status != 0)); then
  [[ -s $run/init.log ]] && { echo "       ---- last lines of init.log" >&2; tail -n 15 "$run/init.log" | sed 's/^/       | /' >&2; }
  if [[ -s $run/dockerd.log ]]; then # its info lines are mostly gRPC chatter
    echo "       ---- last lines of dockerd.log (inside UML; warnings and errors)" >&2
    grep -E 'level=(warn|warning|error|fatal|panic)|^[^t]' "$run/dockerd.log" | tail -n 25 | sed 's/^/       | /' >&2
  fi
  if [[ -s $run/mvlan.log ]]; then
    echo "       ---- last lines of mvlan.log (inside UML)" >&2
    tail -n 25 "$run/mvlan.log" | sed 's/^/       | /' >&2
  fi
fi
exit "$status"
