#!/bin/bash
# Fetch and unpack Docker Compose v2 for the e2e suite: Debian sid's docker-compose 2.40.x, one
# static binary that is a Docker CLI plugin (usr/libexec/docker/cli-plugins/docker-compose), into
# /var/tmp/compose-2/root (TESTBED.md, "Docker Compose v2"), with private apt lists and cache
# like the engine-28 tree (sid_debs.sh); the system's packages are not changed. lib.sh's
# compose_enable puts it in a run's own DOCKER_CONFIG/cli-plugins, so `docker compose` works with
# any of the suite's clients.
#
# Idempotent: does nothing when the unpacked tree is complete.
# Environment: E2E_COMPOSE_DIR (default /var/tmp/compose-2), COMPOSE_SUITE (default sid),
# COMPOSE_FORCE=1 (fetch and unpack again).
set -euo pipefail
source "$(dirname "$0")/sid_debs.sh"

check_compose() {
  local c=$1/usr/libexec/docker/cli-plugins/docker-compose
  [[ -x $c ]] || die "usr/libexec/docker/cli-plugins/docker-compose is not in the unpacked package"
  "$c" version >/dev/null 2>"$1.check.log" || { cat "$1.check.log" >&2; die "unpacked docker-compose does not run here"; }
  rm -f "$1.check.log"
}

E=${E2E_COMPOSE_DIR:-/var/tmp/compose-2}
SID_DEBS_SUITE=${COMPOSE_SUITE:-sid} SID_DEBS_FORCE=${COMPOSE_FORCE:-} \
  sid_debs_unpack compose "$E" check_compose docker-compose=2.40.
say "$("$E/root/usr/libexec/docker/cli-plugins/docker-compose" version)"
