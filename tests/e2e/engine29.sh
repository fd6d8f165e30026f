#!/bin/bash
# Unpack the third engine generation for the e2e suite: dockerd 29.7.2 from the project's shared
# folder (../shared/engines/docker-29.7.2 beside the checkout: Moby's tag built unchanged, with
# its provenance and SHA256SUMS), into /var/tmp/engine-29. Debian has no package of engine 29.
# It runs with the engine-28 tree's containerd 2.1 and 28.5 client (tests/e2e/engine28.sh) and
# Debian 12's runc; lib.sh gives it {"features":{"time-namespaces":false}} (runc 1.1.5 knows no
# time namespace, and every docker run would fail).
#
# Idempotent: does nothing when the unpacked binaries match SHA256SUMS. Where the shared folder is
# absent (a clone outside the project's tree) it says so and exits 0: the engine-29 tests then
# report themselves skipped, naming why.
#
# Environment: E2E_ENGINE29_SRC (default <repo>/../shared/engines/docker-29.7.2),
# E2E_ENGINE29_DIR (default /var/tmp/engine-29).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
SRC=${E2E_ENGINE29_SRC:-$repo/../shared/engines/docker-29.7.2}
E=${E2E_ENGINE29_DIR:-/var/tmp/engine-29}

say() { printf 'engine29: %s\n' "$*" >&2; }
die() { printf 'engine29: FAILED: %s\n' "$*" >&2; exit 1; }

if [[ ! -f $SRC/SHA256SUMS || ! -f $SRC/dockerd.xz ]]; then
  say "no engine 29 at $SRC (the project's shared folder is not beside this checkout): the _engine29 tests will be skipped"
  exit 0
fi
for t in xz sha256sum flock; do command -v "$t" >/dev/null || die "'$t' not found (packages xz-utils coreutils util-linux)"; done

mkdir -p "$E"
exec {lock}>"$E.lock"
flock "$lock" # a parallel caller waits, then finds the binaries in place

if (cd "$E" && sha256sum --quiet -c "$SRC/SHA256SUMS") >/dev/null 2>&1; then
  say "already unpacked in $E: $("$E/dockerd" --version)"
  exit 0
fi

say "unpacking $SRC into $E"
rm -rf "$E/new"
mkdir -p "$E/new"
while read -r _ name; do
  [[ -f $SRC/$name.xz ]] || die "$SRC/$name.xz is missing (SHA256SUMS lists $name)"
  xz -dc "$SRC/$name.xz" >"$E/new/$name"
  chmod 0755 "$E/new/$name"
done <"$SRC/SHA256SUMS"
(cd "$E/new" && sha256sum --quiet -c "$SRC/SHA256SUMS") || die "the unpacked binaries do not match $SRC/SHA256SUMS"
"$E/new/dockerd" --version >/dev/null || die "the unpacked dockerd does not run here"
mv -f "$E"/new/* "$E"/
rmdir "$E/new"
say "unpacked in $E: $("$E/dockerd" --version)"
