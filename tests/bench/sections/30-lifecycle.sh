#!/bin/bash
# Section "lifecycle" (issue #5, item 4): see lifecycle_bench.cpp. BENCH_LIFECYCLE_ROUNDS (200).
set -Eeuo pipefail
: "${BENCH_OUT:?}" "${MVLAN_BIN:?}" "${BENCH_TOOLS:?}"
exec "$BENCH_TOOLS/lifecycle_bench" --mvlan "$MVLAN_BIN" --json "$BENCH_OUT/lifecycle.json" \
  --rounds "${BENCH_LIFECYCLE_ROUNDS:-200}"
