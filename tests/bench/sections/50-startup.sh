#!/bin/bash
# Section "startup" (issue #5, item 6): see startup_bench.cpp. BENCH_STARTS (11) starts.
set -Eeuo pipefail
: "${BENCH_OUT:?}" "${MVLAN_BIN:?}" "${BENCH_TOOLS:?}"
exec "$BENCH_TOOLS/startup_bench" --mvlan "$MVLAN_BIN" --json "$BENCH_OUT/startup.json" \
  --starts "${BENCH_STARTS:-11}"
