#!/bin/bash
# tests/bench/run.sh: runs the benchmark sections and prints one markdown table (what `make bench`
# does after building).
#
#   tests/bench/run.sh --mvlan BIN --tools DIR --out DIR [--only NAME,NAME...]
#
# A section is a script tests/bench/sections/NN-name.sh, run in NN order with MVLAN_BIN,
# BENCH_TOOLS (the directory of the bench programs) and BENCH_OUT in its environment. It writes
# $BENCH_OUT/<name>.json (dashes in the name become underscores):
#   {"section": NAME, "rows": [{"figure", "target", "measured", "met": true|false|null}], "raw": {...}}
# and its output goes to $BENCH_OUT/<name>.log. A script that says "# bench: heavy" (it starts a
# Docker engine) runs under flock $BENCH_HEAVY_LOCK (default /tmp/mvlan-heavy.lock). A section
# that fails or exits 77 (skipped) gets a row saying so; the others still run.
# The table goes to stdout and to $BENCH_OUT/table.md; the exit status is 0 when every section ran.
set -Euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
mvlan='' tools='' out='' only=''
while (($#)); do
  case $1 in
    --mvlan) mvlan=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "run.sh: unknown argument '$1' (--mvlan BIN --tools DIR --out DIR [--only a,b])" >&2; exit 2 ;;
  esac
done
[[ -x $mvlan ]] || { echo "run.sh: --mvlan '$mvlan' is not an executable" >&2; exit 2; }
[[ -d $tools ]] || { echo "run.sh: --tools '$tools' is not a directory" >&2; exit 2; }
[[ -n $out ]] || { echo "run.sh: --out DIR is required" >&2; exit 2; }
command -v jq >/dev/null || { echo "run.sh: jq is required (apt-get install jq)" >&2; exit 2; }
mkdir -p "$out"
export MVLAN_BIN BENCH_TOOLS BENCH_OUT
MVLAN_BIN=$(realpath "$mvlan") BENCH_TOOLS=$(realpath "$tools") BENCH_OUT=$(realpath "$out")

ran=() failed=0 t_all=$EPOCHSECONDS
# Absolute times on a shared machine are noise: say how busy it was.
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for script in "$BENCH_DIR"/sections/[0-9]*-*.sh; do
  base=$(basename "$script" .sh)
  name=${base#*-}
  name=${name//-/_}
  [[ -z $only || ,$only, == *",${name},"* || ,$only, == *",${base#*-},"* ]] || continue
  json=$BENCH_OUT/$name.json log=$BENCH_OUT/$name.log
  rm -f "$json"
  cmd=(bash "$script")
  if grep -q '^# bench: heavy' "$script"; then cmd=(flock "${BENCH_HEAVY_LOCK:-/tmp/mvlan-heavy.lock}" "${cmd[@]}"); fi
  echo "== bench section $name ($(date +%T)); log $log" >&2
  t0=$EPOCHSECONDS rc=0
  "${cmd[@]}" >"$log" 2>&1 || rc=$?
  echo "   $name: status $rc in $((EPOCHSECONDS - t0)) s" >&2
  if ((rc == 0)) && jq -e '.rows | length > 0' "$json" >/dev/null 2>&1; then
    ran+=("$json")
    continue
  fi
  if ((rc == 77)); then why="skipped: $(tail -n 1 "$log")"; else why="failed (status $rc): $(tail -n 1 "$log")"; failed=1; fi
  jq -n --arg name "$name" --arg why "$why" \
    '{section: $name, rows: [{figure: "section \($name)", target: "-", measured: $why, met: false}], raw: {}}' >"$json"
  ran+=("$json")
done

{
  echo "| figure | target | measured | met? |"
  echo "|---|---|---|---|"
  ((${#ran[@]} == 0)) || jq -r '.rows[] | "| \(.figure) | \(.target) | \(.measured) | \(if .met == null then "-" elif .met then "yes" else "**no**" end) |"' "${ran[@]}"
} | tee "$BENCH_OUT/table.md"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
jq -n --arg bin "$MVLAN_BIN" --arg load0 "$load_start" --arg load1 "$load_end" --argjson s $((EPOCHSECONDS - t_all)) \
  --argjson cpus "$(nproc)" '{mvlan: $bin, seconds: $s, cpus: $cpus, loadavg_start: $load0, loadavg_end: $load1}' >"$BENCH_OUT/run.json"
echo "bench: $((EPOCHSECONDS - t_all)) s on $(nproc) CPUs, load average $load_start at the start, $load_end at the end;" \
  "raw figures in $BENCH_OUT/*.json, logs in $BENCH_OUT/*.log" >&2
exit "$failed"
