#!/bin/bash
# Section "engine" of `make bench` (issue #5, items 1 and 2): containers through a real Docker
# engine on an mvlan network and on a built-in `-d macvlan` network, side by side in one engine
# (the e2e harness's isolated engine in its own netns), each network on a veth parent of its own.
#   1. BENCH_ENGINE_PAIRS (30) rounds of `docker run -d` + `docker rm -f` on each driver, the order
#      flipping every round; the median of each side and their ratio.
#   2. BENCH_ENGINE_BATCHES (3) rounds of 50 containers started 10 at a time on each driver
#      (alternating); wall time, failed runs, duplicate addresses.
# Environment: MVLAN_BIN, BENCH_OUT (writes $BENCH_OUT/engine.json), E2E_ENGINE (20 or 28).
# bench: heavy (starts an engine: run.sh serializes it with other heavy jobs)
BENCH_DIR=$(cd "$(dirname "$0")/.." && pwd)
: "${BENCH_OUT:?set BENCH_OUT}" "${MVLAN_BIN:?set MVLAN_BIN}"
PAIRS=${BENCH_ENGINE_PAIRS:-30}
BATCHES=${BENCH_ENGINE_BATCHES:-3}
BATCH_SIZE=50 PARALLEL=10
E2E_NAME=bench-engine
E2E_QUIET_CLEANUP=1
E2E_MVLAN_ARGS="--log-level info" # as users run it; the harness's default is debug
source "$BENCH_DIR/../e2e/lib.sh" --mvlan "$MVLAN_BIN"
source "$BENCH_DIR/stats.sh"

plugin_require
step "setup: one engine, two veth parents, the plugin"
host_create h1
veth_parent h1 p0
veth_parent h1 p1
engine_start h1
plugin_start h1
assert_ok "mvlan network on p0" dk h1 network create -d mvlan --ipam-driver mvlan \
  --subnet 192.0.2.0/24 --gateway 192.0.2.1 -o parent=p0 mv
assert_ok "built-in macvlan network on p1" dk h1 network create -d macvlan \
  --subnet 198.51.100.0/24 --gateway 198.51.100.1 -o parent=p1 bi
DOCKER_SOCK="unix://$(host_dir h1)/docker.sock"
CMD=(sh -c 'trap "exit 0" TERM INT; sleep 1d & wait')

now_us() { echo "${EPOCHREALTIME/./}"; }

# one NET NAME: run + rm; sets RUN_US and RM_US
one() {
  local t0 t1 t2
  t0=$(now_us)
  dk h1 run -d --name "$2" --network "$1" "$E2E_IMAGE" "${CMD[@]}" >/dev/null ||
    fail "docker run on $1"
  t1=$(now_us)
  dk h1 rm -f "$2" >/dev/null || fail "docker rm -f on $1"
  t2=$(now_us)
  RUN_US=$((t1 - t0)) RM_US=$((t2 - t1))
}

step "item 1: $PAIRS alternating pairs of docker run -d + docker rm -f"
one mv warm-mv
one bi warm-bi
declare -a mv_start mv_rm bi_start bi_rm mv_total bi_total
for ((i = 0; i < PAIRS; i++)); do
  if ((i % 2 == 0)); then order=(mv bi); else order=(bi mv); fi
  for net in "${order[@]}"; do
    one "$net" "r$i-$net"
    s=$RUN_US r=$RM_US
    if [[ $net == mv ]]; then
      mv_start+=("$s") mv_rm+=("$r") mv_total+=("$((s + r))")
    else
      bi_start+=("$s") bi_rm+=("$r") bi_total+=("$((s + r))")
    fi
  done
done
m_mv=$(median "${mv_total[@]}") m_bi=$(median "${bi_total[@]}")
ratio=$(ratio "$m_mv" "$m_bi")
info "run+rm median: mvlan $(ms "$m_mv") ms, built-in $(ms "$m_bi") ms, ratio $ratio"

# batch NET PREFIX: 50 containers, 10 at a time; sets WALL_US, ERRORS (containers not running
# with an address) and DUPS (addresses held twice)
batch() {
  local net=$1 p=$2 t0 t1 ips running
  rm -f "$E2E_RUN/batch-errors"
  t0=$(now_us)
  seq 1 "$BATCH_SIZE" | xargs -P "$PARALLEL" -I{} "$E2E_DOCKER" -H "$DOCKER_SOCK" run -d \
    --name "$p{}" --network "$net" "$E2E_IMAGE" "${CMD[@]}" >/dev/null 2>>"$E2E_RUN/batch-errors" || true
  t1=$(now_us)
  [[ ! -s $E2E_RUN/batch-errors ]] || info "docker run errors: $(head -c 600 "$E2E_RUN/batch-errors")"
  ips=$(dk h1 ps -q --filter "name=$p" | xargs -r "$E2E_DOCKER" -H "$DOCKER_SOCK" inspect \
    --format "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}")
  running=$(grep -c . <<<"$ips" || true)
  DUPS=$(sort <<<"$ips" | uniq -d | grep -c . || true)
  ERRORS=$((BATCH_SIZE - running)) WALL_US=$((t1 - t0))
  dk h1 ps -aq --filter "name=$p" | xargs -r "$E2E_DOCKER" -H "$DOCKER_SOCK" rm -f >/dev/null
}

step "item 2: $BATCHES alternating rounds of $BATCH_SIZE containers, $PARALLEL at a time"
declare -a mv_wall bi_wall
errors=0 duplicates=0
for ((i = 0; i < BATCHES; i++)); do
  if ((i % 2 == 0)); then order=(mv bi); else order=(bi mv); fi
  for net in "${order[@]}"; do
    batch "$net" "b$i$net-"
    w=$WALL_US e=$ERRORS d=$DUPS
    info "round $i $net: $(ms "$w") ms, $e errors, $d duplicate addresses"
    errors=$((errors + e)) duplicates=$((duplicates + d))
    if [[ $net == mv ]]; then mv_wall+=("$w"); else bi_wall+=("$w"); fi
  done
done
w_mv=$(median "${mv_wall[@]}") w_bi=$(median "${bi_wall[@]}")
wratio=$(ratio "$w_mv" "$w_bi")

engine=$(dk h1 version --format '{{.Server.Version}}')
jq -n --arg engine "$engine" --argjson pairs "$PAIRS" --argjson batches "$BATCHES" \
  --arg ratio "$ratio" --arg wratio "$wratio" --argjson errors "$errors" --argjson dups "$duplicates" \
  --argjson mv_start "$(json_ms "${mv_start[@]}")" --argjson mv_rm "$(json_ms "${mv_rm[@]}")" \
  --argjson bi_start "$(json_ms "${bi_start[@]}")" --argjson bi_rm "$(json_ms "${bi_rm[@]}")" \
  --argjson mv_wall "$(json_ms "${mv_wall[@]}")" --argjson bi_wall "$(json_ms "${bi_wall[@]}")" \
  --arg m_mv "$(ms "$m_mv")" --arg m_bi "$(ms "$m_bi")" --arg w_mv "$(ms "$w_mv")" --arg w_bi "$(ms "$w_bi")" \
  --arg ms_mv "$(ms "$(median "${mv_start[@]}")")" --arg ms_bi "$(ms "$(median "${bi_start[@]}")")" \
  --arg mr_mv "$(ms "$(median "${mv_rm[@]}")")" --arg mr_bi "$(ms "$(median "${bi_rm[@]}")")" '
  {section: "engine",
   rows: [
    {figure: "docker run -d + rm -f, Docker \($engine), median of \($pairs) alternating pairs, mvlan/built-in (run \($ms_mv) vs \($ms_bi) ms, rm \($mr_mv) vs \($mr_bi) ms)",
     target: "<= 1.02", measured: "\($m_mv) ms vs \($m_bi) ms: \($ratio)", met: (($ratio | tonumber) <= 1.02)},
    {figure: "50 containers 10 at a time, wall time, median of \($batches) alternating rounds, mvlan/built-in",
     target: "<= 1.05", measured: "\($w_mv) ms vs \($w_bi) ms: \($wratio)", met: (($wratio | tonumber) <= 1.05)},
    {figure: "50 containers 10 at a time: failed runs and duplicate addresses, both drivers, all rounds",
     target: "0 and 0", measured: "\($errors) and \($dups)", met: ($errors == 0 and $dups == 0)}],
   raw: {engine: $engine, unit: "ms",
         pairs: {mvlan: {run: $mv_start, rm: $mv_rm}, builtin: {run: $bi_start, rm: $bi_rm}},
         batches: {mvlan: $mv_wall, builtin: $bi_wall}, errors: $errors, duplicates: $dups}}' \
  >"$BENCH_OUT/engine.json"
pass "engine section written to $BENCH_OUT/engine.json"
