#!/bin/bash
# Fetch and unpack the second engine generation for the e2e suite: Debian sid's docker.io 28.5.x,
# containerd 2.1.x and docker-cli 28.5.x, into /var/tmp/engine-28/root (TESTBED.md, "A second
# engine generation"). The system's packages are not changed: apt works on private lists and
# cache under /var/tmp/engine-28, and the .debs are only unpacked (dpkg -x; sid_debs.sh). sid's
# runc is dropped: Debian 12's own runc (package runc) is used.
#
# Idempotent: does nothing when the unpacked tree is complete. Then run the suite with
#   E2E_ENGINE=28 tests/e2e/harness_smoke_test.sh     (or: --engine 28)
#
# Environment: E2E_ENGINE28_DIR (default /var/tmp/engine-28), ENGINE28_SUITE (default sid),
# ENGINE28_FORCE=1 (fetch and unpack again).
set -euo pipefail
source "$(dirname "$0")/sid_debs.sh"

check_engine28() {
  local r=$1 b
  rm -f "$r/usr/bin/runc" "$r/usr/sbin/runc"
  for b in usr/sbin/dockerd usr/bin/docker usr/bin/containerd usr/bin/containerd-shim-runc-v2; do
    [[ -x $r/$b ]] || die "$b is not in the unpacked packages"
  done
  # They must run with this machine's libraries.
  "$r/usr/sbin/dockerd" --version >/dev/null 2>"$r.check.log" || { cat "$r.check.log" >&2; die "unpacked dockerd does not run here"; }
  "$r/usr/bin/docker" --version >/dev/null 2>"$r.check.log" || { cat "$r.check.log" >&2; die "unpacked docker client does not run here"; }
  "$r/usr/bin/containerd" --version >/dev/null 2>"$r.check.log" || { cat "$r.check.log" >&2; die "unpacked containerd does not run here"; }
  rm -f "$r.check.log"
  command -v runc >/dev/null || [[ -x /usr/sbin/runc ]] || die "Debian 12's runc is missing (package runc)"
}

E=${E2E_ENGINE28_DIR:-/var/tmp/engine-28}
SID_DEBS_SUITE=${ENGINE28_SUITE:-sid} SID_DEBS_FORCE=${ENGINE28_FORCE:-} \
  sid_debs_unpack engine28 "$E" check_engine28 docker.io=28.5. containerd=2.1. docker-cli=28.5.
say "$("$E/root/usr/sbin/dockerd" --version)"
