#!/bin/bash
# Section "etcd" of `make bench` (issue #10): grant latency with the IPAM in a three-member etcd
# cluster on loopback, beside the SQLite backend in the same run: RequestAddress p50/p99 with a
# ReleaseAddress after each, sequential and 16 clients. tests/etcd/bench.sh starts the cluster,
# runs both backends and removes it; this turns its JSON into rows. No target: the issue asks
# for the figures side by side.
# Environment: MVLAN_BIN, BENCH_TOOLS (the ipam_load binary's directory), BENCH_OUT.
set -Eeuo pipefail
: "${BENCH_OUT:?set BENCH_OUT}" "${MVLAN_BIN:?set MVLAN_BIN}" "${BENCH_TOOLS:?set BENCH_TOOLS}"
here=$(cd "$(dirname "$0")" && pwd)
command -v etcd >/dev/null || { echo "etcd: etcd-server is not installed (make test-deps)" >&2; exit 77; }
raw=$(bash "$here/../../etcd/bench.sh" --mvlan "$MVLAN_BIN" --load "$BENCH_TOOLS/ipam_load" \
  --pairs "${BENCH_ETCD_PAIRS:-200}")
jq '
  def ms: . * 100 | round / 100 | tostring + " ms";
  .etcd_grant as $g |
  {section: "etcd",
   rows: [
    {figure: "RequestAddress p50 / p99, 1 client: etcd (3 members, loopback) vs SQLite",
     target: "-", measured: "\($g.etcd.sequential.p50 | ms) / \($g.etcd.sequential.p99 | ms) vs \($g.sqlite.sequential.p50 | ms) / \($g.sqlite.sequential.p99 | ms)", met: null},
    {figure: "RequestAddress p50 / p99, 16 clients: etcd vs SQLite",
     target: "-", measured: "\($g.etcd.clients_16.p50 | ms) / \($g.etcd.clients_16.p99 | ms) vs \($g.sqlite.clients_16.p50 | ms) / \($g.sqlite.clients_16.p99 | ms)", met: null}],
   raw: .}' <<<"$raw" >"$BENCH_OUT/etcd.json"
echo "etcd: written to $BENCH_OUT/etcd.json" >&2
