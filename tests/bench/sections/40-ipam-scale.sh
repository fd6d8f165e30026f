#!/bin/bash
# Section "ipam_scale" (issue #5, item 5): see ipam_scale_bench.cpp. BENCH_SCALE_V4 (60000) and
# BENCH_SCALE_V6 (100000) grants.
set -Eeuo pipefail
: "${BENCH_OUT:?}" "${MVLAN_BIN:?}" "${BENCH_TOOLS:?}"
exec "$BENCH_TOOLS/ipam_scale_bench" --mvlan "$MVLAN_BIN" --json "$BENCH_OUT/ipam_scale.json" \
  --v4 "${BENCH_SCALE_V4:-60000}" --v6 "${BENCH_SCALE_V6:-100000}"
