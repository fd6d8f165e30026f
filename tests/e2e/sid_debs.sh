# shellcheck shell=bash
# tests/e2e/sid_debs.sh: fetch packages of a newer Debian suite (sid) with private apt lists and
# cache, and unpack them (dpkg -x) into a directory of their own, without changing the system's
# packages. Sourced by engine28.sh (Docker 28.5) and compose.sh (Docker Compose v2):
#
#   sid_debs_unpack NAME DIR CHECK PKG=VERSION_PREFIX...
#
# unpacks PKG... into DIR/root, the lists and .debs kept in DIR (TESTBED.md, "A second engine
# generation"). CHECK is a function called with the unpacked tree (DIR/root.new) before it
# replaces DIR/root: it drops what must not be used and fails (die) when something does not run
# here. A package whose version does not start with its prefix is unpacked anyway, with a warning.
# Idempotent: does nothing when DIR/root is complete, unless SID_DEBS_FORCE=1. Parallel callers
# wait on DIR.lock, then find the tree complete. SID_DEBS_SUITE picks the suite (default sid).

say() { printf '%s: %s\n' "${SID_DEBS_NAME:-sid_debs}" "$*" >&2; }
die() { printf '%s: FAILED: %s\n' "${SID_DEBS_NAME:-sid_debs}" "$*" >&2; exit 1; }

sid_debs_unpack() {
  local name=$1 E=$2 check=$3
  shift 3
  local suite=${SID_DEBS_SUITE:-sid} uri='' key=/usr/share/keyrings/debian-archive-keyring.gpg
  local -a pkgs=() summary=() o debs
  local -A want=()
  local spec p f v t lock
  for spec in "$@"; do
    pkgs+=("${spec%%=*}")
    want[${spec%%=*}]=${spec#*=}
  done
  SID_DEBS_NAME=$name # say and die, for CHECK and the caller too

  ((EUID == 0)) || die "needs root (apt-get update with private lists still needs it)"
  for t in apt-get dpkg dpkg-deb flock; do command -v "$t" >/dev/null || die "'$t' not found"; done

  mkdir -p "$E"
  exec {lock}>"$E.lock"
  flock "$lock"

  if [[ -f $E/root/.complete && -z ${SID_DEBS_FORCE:-} ]]; then
    say "already unpacked in $E/root: $(tr '\n' ' ' <"$E/root/.complete")"
    return 0
  fi

  # The Debian mirror this machine already uses (deb822 first, then one-line format).
  if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
    uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [[ -z $uri && -r /etc/apt/sources.list ]]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
  fi
  [[ -n $uri ]] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
  [[ -r $key ]] || die "$key missing (package debian-archive-keyring)"

  mkdir -p "$E/lists/partial" "$E/cache/archives/partial" "$E/debs"
  echo "deb [signed-by=$key] $uri $suite main" >"$E/sources.list"
  o=(-o "Dir::Etc::sourcelist=$E/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$E/lists" -o "Dir::Cache=$E/cache" -o "APT::Get::List-Cleanup=0")

  say "apt-get update of '$uri $suite main' (private lists in $E/lists)"
  if ! apt-get "${o[@]}" update -qq >"$E/apt-update.log" 2>&1; then
    tail -n 20 "$E/apt-update.log" >&2
    die "apt-get update of $uri $suite failed (network? mirror?), log: $E/apt-update.log"
  fi

  rm -f "$E"/debs/*.deb
  say "downloading ${pkgs[*]}"
  if ! (cd "$E/debs" && apt-get "${o[@]}" download "${pkgs[@]}") >"$E/apt-download.log" 2>&1; then
    tail -n 20 "$E/apt-download.log" >&2
    die "apt-get download ${pkgs[*]} failed, log: $E/apt-download.log"
  fi

  for p in "${pkgs[@]}"; do
    debs=("$E"/debs/"${p}"_*.deb)
    f=${debs[0]}
    [[ -f $f ]] || die "no .deb for $p was downloaded"
    v=$(dpkg-deb -f "$f" Version)
    [[ $v == "${want[$p]}"* || $v == *:"${want[$p]}"* ]] ||
      say "WARNING: $suite has $p $v, the suite was written for ${want[$p]}x (going on)"
    summary+=("$p=$v")
  done

  rm -rf "$E/root.new"
  mkdir -p "$E/root.new"
  for f in "$E"/debs/*.deb; do dpkg -x "$f" "$E/root.new" || die "dpkg -x $f failed"; done
  "$check" "$E/root.new"

  printf '%s\n' "${summary[@]}" >"$E/root.new/.complete"
  rm -rf "$E/root"
  mv "$E/root.new" "$E/root"
  say "unpacked in $E/root: ${summary[*]}"
}
