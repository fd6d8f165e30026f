#!/bin/bash
# Fetch and unpack the second engine generation for the e2e suite: Debian sid's docker.io 28.5.x,
# containerd 2.1.x and docker-cli 28.5.x, into /var/tmp/engine-28/root (TESTBED.md, "A second
# engine generation"). The system's packages are not changed: apt works on private lists and
# cache under /var/tmp/engine-28, and the .debs are only unpacked (dpkg -x). sid's runc is
# dropped: Debian 12's own runc (package runc) is used.
#
# Idempotent: does nothing when the unpacked tree is complete. Then run the suite with
#   E2E_ENGINE=28 tests/e2e/harness_smoke_test.sh     (or: --engine 28)
#
# Environment: E2E_ENGINE28_DIR (default /var/tmp/engine-28), ENGINE28_SUITE (default sid),
# ENGINE28_FORCE=1 (fetch and unpack again).
set -euo pipefail

E=${E2E_ENGINE28_DIR:-/var/tmp/engine-28}
SUITE=${ENGINE28_SUITE:-sid}
PKGS=(docker.io containerd docker-cli)
# package -> the version prefix the suite is written for
declare -A WANT=([docker.io]=28.5. [containerd]=2.1. [docker-cli]=28.5.)

say() { printf 'engine28: %s\n' "$*" >&2; }
die() { printf 'engine28: FAILED: %s\n' "$*" >&2; exit 1; }

((EUID == 0)) || die "needs root (apt-get update with private lists still needs it)"
for t in apt-get dpkg dpkg-deb flock; do command -v "$t" >/dev/null || die "'$t' not found"; done

mkdir -p "$E"
exec {lock}>"$E.lock"
flock "$lock" # a parallel caller waits, then finds the tree complete

if [[ -f $E/root/.complete && -z ${ENGINE28_FORCE:-} ]]; then
  say "already unpacked in $E/root: $(tr '\n' ' ' <"$E/root/.complete")"
  exit 0
fi

# The Debian mirror this machine already uses (deb822 first, then one-line format).
uri=
if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
  uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [[ -z $uri && -r /etc/apt/sources.list ]]; then
  uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
fi
[[ -n $uri ]] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
key=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r $key ]] || die "$key missing (package debian-archive-keyring)"

mkdir -p "$E/lists/partial" "$E/cache/archives/partial" "$E/debs"
echo "deb [signed-by=$key] $uri $SUITE main" >"$E/sources.list"
o=(-o "Dir::Etc::sourcelist=$E/sources.list" -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$E/lists" -o "Dir::Cache=$E/cache" -o "APT::Get::List-Cleanup=0")

say "apt-get update of '$uri $SUITE main' (private lists in $E/lists)"
if ! apt-get "${o[@]}" update -qq >"$E/apt-update.log" 2>&1; then
  tail -n 20 "$E/apt-update.log" >&2
  die "apt-get update of $uri $SUITE failed (network? mirror?), log: $E/apt-update.log"
fi

rm -f "$E"/debs/*.deb
say "downloading ${PKGS[*]}"
if ! (cd "$E/debs" && apt-get "${o[@]}" download "${PKGS[@]}") >"$E/apt-download.log" 2>&1; then
  tail -n 20 "$E/apt-download.log" >&2
  die "apt-get download ${PKGS[*]} failed, log: $E/apt-download.log"
fi

summary=()
for p in "${PKGS[@]}"; do
  debs=("$E"/debs/"${p}"_*.deb)
  f=${debs[0]}
  [[ -f $f ]] || die "no .deb for $p was downloaded"
  v=$(dpkg-deb -f "$f" Version)
  [[ $v == "${WANT[$p]}"* || $v == *:"${WANT[$p]}"* ]] ||
    say "WARNING: $SUITE has $p $v, the suite was written for ${WANT[$p]}x (going on)"
  summary+=("$p=$v")
done

rm -rf "$E/root.new"
mkdir -p "$E/root.new"
for f in "$E"/debs/*.deb; do dpkg -x "$f" "$E/root.new" || die "dpkg -x $f failed"; done
rm -f "$E/root.new/usr/bin/runc" "$E/root.new/usr/sbin/runc"

r=$E/root.new
for b in usr/sbin/dockerd usr/bin/docker usr/bin/containerd usr/bin/containerd-shim-runc-v2; do
  [[ -x $r/$b ]] || die "$b is not in the unpacked packages"
done
# They must run with this machine's libraries.
"$r/usr/sbin/dockerd" --version >/dev/null 2>"$E/check.log" || { cat "$E/check.log" >&2; die "unpacked dockerd does not run here"; }
"$r/usr/bin/docker" --version >/dev/null 2>"$E/check.log" || { cat "$E/check.log" >&2; die "unpacked docker client does not run here"; }
"$r/usr/bin/containerd" --version >/dev/null 2>"$E/check.log" || { cat "$E/check.log" >&2; die "unpacked containerd does not run here"; }
command -v runc >/dev/null || [[ -x /usr/sbin/runc ]] || die "Debian 12's runc is missing (package runc)"

printf '%s\n' "${summary[@]}" >"$r/.complete"
rm -rf "$E/root"
mv "$r" "$E/root"
say "unpacked in $E/root: ${summary[*]}"
say "$("$E/root/usr/sbin/dockerd" --version)"
