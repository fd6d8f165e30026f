#!/usr/bin/env bash
# Grant latency of the etcd IPAM backend beside the SQLite one: RequestAddress p50/p99 (with a
# ReleaseAddress after each grant, as tests/bench/ipam_load does), sequential and 16 clients,
# against a three-member etcd cluster on loopback started here and removed afterwards.
# Prints one JSON object on stdout; progress on stderr.
#
#   tests/etcd/bench.sh [--mvlan BIN] [--load BIN] [--pairs N]
#   defaults: build/mvlan, build/tests/bench/ipam_load, 2000 pairs per run
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mvlan=$repo/build/mvlan
load=$repo/build/tests/bench/ipam_load
pairs=2000
while (($#)); do
  case $1 in
    --mvlan) mvlan=$(realpath "$2"); shift 2 ;;
    --load) load=$(realpath "$2"); shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    *) echo "usage: $0 [--mvlan BIN] [--load BIN] [--pairs N]" >&2; exit 2 ;;
  esac
done
for b in "$mvlan" "$load"; do [[ -x $b ]] || { echo "bench: $b not built" >&2; exit 1; }; done

work=$(mktemp -d /tmp/mvlan-etcd-bench-XXXXXX)
serve_pid=
cleanup() {
  [[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  bash "$here/etcd_cluster.sh" stop "$work/etcd" || true
  rm -rf "$work"
}
trap cleanup EXIT

endpoints=$(bash "$here/etcd_cluster.sh" start "$work/etcd" | tail -1)

# run BACKEND CLIENTS -> the request_ms object of ipam_load's JSON
run() {
  local backend=$1 clients=$2 dir="$work/$1-$2"
  mkdir -p "$dir"
  env MVLAN_IPAM_BACKEND="$backend" MVLAN_ETCD_ENDPOINTS="$endpoints" \
    MVLAN_ETCD_PREFIX="/bench-$clients/" MVLAN_HOST_ID=bench \
    "$mvlan" serve --socket "$dir/mvlan.sock" --state-dir "$dir/state" --log-level warn \
    2>>"$work/serve.log" &
  serve_pid=$!
  for _ in $(seq 100); do [[ -S $dir/mvlan.sock ]] && break; sleep 0.1; done
  echo "bench: $backend, $clients client(s), $pairs pairs" >&2
  "$load" --socket "$dir/mvlan.sock" --clients "$clients" --pairs "$pairs" --pool 198.18.0.0/16 \
    --json "$dir/out.json" >&2
  kill "$serve_pid"
  wait "$serve_pid" 2>/dev/null || true
  serve_pid=
  sed -n 's/.*"request_ms": *\({[^}]*}\).*/\1/p' <(tr -d '\n' <"$dir/out.json")
}

sqlite1=$(run sqlite 1)
sqlite16=$(run sqlite 16)
etcd1=$(run etcd 1)
etcd16=$(run etcd 16)
cat <<EOF
{"etcd_grant": {"cluster": "3 members, loopback", "pairs": $pairs,
  "sqlite": {"sequential": $sqlite1, "clients_16": $sqlite16},
  "etcd": {"sequential": $etcd1, "clients_16": $etcd16}}}
EOF
