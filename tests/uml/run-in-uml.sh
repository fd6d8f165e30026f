#!/bin/bash
# Runs one command inside user-mode Linux and passes back its output and exit code.
# usage: run-in-uml.sh COMMAND [ARGS...]; MVLAN_UML_TIMEOUT (seconds, default 120) bounds the boot
# and the run. Leaves nothing behind: its temp dir is removed and no UML process outlives it.
set -u
timeout_s=${MVLAN_UML_TIMEOUT:-120}
here=$(dirname "$(readlink -f "$0")")
uml=$(command -v linux.uml) || {
  echo "user-mode Linux is missing; install it with: apt-get install user-mode-linux kmod" >&2
  exit 1
}
[ "$(id -u)" = 0 ] || { echo "run-in-uml.sh must run as root" >&2; exit 1; }

# A runner killed with SIGKILL cannot clean up: the next run removes dirs whose runner is gone.
for old in /var/tmp/mvlan-uml.*; do
  [ -f "$old/runner.pid" ] && ! kill -0 "$(cat "$old/runner.pid")" 2>/dev/null && rm -rf "$old"
done
dir=$(mktemp -d /var/tmp/mvlan-uml.XXXXXX) || exit 1
echo $$ >"$dir/runner.pid"
uml_pid=
cleanup() {
  if [ -n "$uml_pid" ]; then kill -KILL "$uml_pid" 2>/dev/null; wait "$uml_pid" 2>/dev/null; fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# The command runs from a copy in $dir: inside UML, /tmp and /run are scratch tmpfs that hide
# the host's, so a checkout under /tmp would be invisible there.
if [ -e "${1:?usage: run-in-uml.sh COMMAND [ARGS...]}" ]; then
  install -m 0755 "$1" "$dir/command" && set -- "$dir/command" "${@:2}"
fi
printf '%s\n' "$@" >"$dir/argv"

# uml_dir keeps its mconsole socket dir in $dir instead of ~/.uml.
# A PID namespace of its own: when `timeout` (its init) ends, the kernel kills every UML helper
# process with it; --kill-child ends it when unshare dies, and pdeathsig kills unshare when this
# script dies, even by SIGKILL.
start=$(date +%s)
setpriv --pdeathsig KILL unshare --pid --fork --kill-child=SIGKILL \
  timeout --kill-after=5 "$timeout_s" \
  "$uml" mem=256M rootfstype=hostfs rootflags=/ rw init="$here/uml-init.sh" \
  con=null con0=fd:0,fd:1 uml_dir="$dir" umid=mvlan mvlan_uml_dir="$dir" </dev/null >"$dir/console.log" 2>&1 &
uml_pid=$!
# In the background so a signal to this script is handled at once, not after UML ends.
wait "$uml_pid"
uml_rc=$?
uml_pid=

if [ -f "$dir/output" ]; then cat "$dir/output"; fi
if [ ! -f "$dir/rc" ]; then
  echo "user-mode Linux did not report a result (exit $uml_rc after $(( $(date +%s) - start ))s," \
    "timeout ${timeout_s}s); console and init logs follow" >&2
  tail -n 40 "$dir/console.log" >&2
  [ -f "$dir/init.log" ] && cat "$dir/init.log" >&2
  exit 1
fi
rc=$(cat "$dir/rc")
echo "(inside user-mode Linux: exit $rc after $(( $(date +%s) - start ))s)"
exit "$rc"
