#!/bin/bash
# Section "ipam_pairs" of `make bench` (issue #5, item 3): the plugin alone over its socket, no
# engine. ipam_load sends RequestAddress + ReleaseAddress pairs (each grant and release durable)
# from 1 and from 16 clients, and from 16 with engine 29's bodies (names), BENCH_PAIRS_ROUNDS (3)
# times alternating; medians of the rounds.
# Environment: MVLAN_BIN, BENCH_TOOLS (the ipam_load binary's directory), BENCH_OUT.
set -Eeuo pipefail
: "${BENCH_OUT:?set BENCH_OUT}" "${MVLAN_BIN:?set MVLAN_BIN}" "${BENCH_TOOLS:?set BENCH_TOOLS}"
ROUNDS=${BENCH_PAIRS_ROUNDS:-3}
dir=$(mktemp -d /var/tmp/mvlan-bench-pairs.XXXXXX)
pid=''
cleanup() {
  [[ -z $pid ]] || { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
  rm -rf "$dir"
}
trap cleanup EXIT
"$MVLAN_BIN" serve --socket "$dir/mvlan.sock" --state-dir "$dir/state" --log-level info \
  >"$dir/mvlan.log" 2>&1 &
pid=$!
for ((i = 0; i < 100; i++)); do
  curl -sf -o /dev/null --max-time 2 --unix-socket "$dir/mvlan.sock" --data-binary '' http://mvlan/Plugin.Activate && break
  sleep 0.1
done
((i < 100)) || { echo "ipam_pairs: mvlan serve did not answer within 10 s; log:" >&2; cat "$dir/mvlan.log" >&2; exit 1; }

"$BENCH_TOOLS/ipam_load" --socket "$dir/mvlan.sock" --clients 4 --pairs 1000 >/dev/null # warm-up
# n16: 16 clients with engine 29's bodies, each cycling through 8 container names of its own (the
# same containers restarting: each grant finds its name's parked address, each release parks it);
# u16: a new name every time (each grant binds, parked addresses pile up). Alternated with the
# plain runs, so that all see the same machine.
for ((r = 0; r < ROUNDS; r++)); do
  for c in 1 16 n16 u16; do
    clients=${c#[nu]}
    pairs=$((clients == 1 ? 2000 : 16000))
    names=()
    [[ $c == n* ]] && names=(--names 8)
    [[ $c == u* ]] && names=(--names 0)
    echo "round $r, $clients client(s) ${names[*]}, $pairs pairs" >&2
    "$BENCH_TOOLS/ipam_load" --socket "$dir/mvlan.sock" --clients "$clients" --pairs "$pairs" \
      "${names[@]}" --json "$dir/c$c-r$r.json" >&2
  done
done

jq -s '
  def median: sort | .[(length - 1) / 2 | floor];
  def fmt(d): . * pow(10; d) | round / pow(10; d) | tostring;
  def thousands: tostring | if length > 3 then .[0:length-3] + "," + .[length-3:] else . end;
  (map(select(.clients == 1))) as $one | (map(select(.clients == 16 and .names < 0))) as $many |
  (map(select(.clients == 16 and .names > 0)) | map(.pairs_per_s) | median | round) as $named_rate |
  (map(select(.clients == 16 and .names == 0)) | map(.pairs_per_s) | median | round) as $new_rate |
  ($one | map(.pairs_per_s) | median | round) as $one_rate |
  ($many | map(.pairs_per_s) | median | round) as $many_rate |
  ($many | map(.request_ms.p99) | median) as $p99 |
  ($many | map(.request_ms.p50) | median) as $p50 |
  ($one | map(.pair_ms.p50) | median) as $one_pair |
  (map(.errors) | add) as $errors |
  {section: "ipam_pairs",
   rows: [
    {figure: "IPAM RequestAddress+ReleaseAddress pairs/s over the socket, durable, 1 client (pair p50 \($one_pair | fmt(2)) ms)",
     target: "-", measured: "\($one_rate | thousands)/s", met: null},
    {figure: "IPAM pairs/s, 16 clients, median of \($many | length) rounds",
     target: ">= 1,500/s", measured: "\($many_rate | thousands)/s", met: ($many_rate >= 1500 and $errors == 0)},
    {figure: "RequestAddress p99 at 16 clients (p50 \($p50 | fmt(2)) ms)",
     target: "<= 2 ms", measured: "\($p99 | fmt(2)) ms", met: ($p99 <= 2)},
    {figure: "IPAM pairs/s, 16 clients, engine 29 bodies (8 names per client restarting: parked, then back)",
     target: "within 5% of without names", measured: "\($named_rate | thousands)/s (\((($named_rate / $many_rate - 1) * 100) | fmt(1))%)",
     met: ($named_rate >= 0.95 * $many_rate and $errors == 0)},
    {figure: "IPAM pairs/s, 16 clients, engine 29 bodies, a new name every pair (16,000 parked at the end)",
     target: "-", measured: "\($new_rate | thousands)/s (\((($new_rate / $many_rate - 1) * 100) | fmt(1))%)", met: null}],
   raw: {rounds: .}}' "$dir"/c*-r*.json >"$BENCH_OUT/ipam_pairs.json"
echo "ipam_pairs: written to $BENCH_OUT/ipam_pairs.json" >&2
