#!/usr/bin/env bash
# The benchmark in one command: builds rrkit (scripts/build.sh), installs the Node.js peer's
# dependencies (examples/node-gateway, through scripts/examples.sh), runs rr-bench on the real stack, and writes
# bench/results/latest.json and bench/RESULTS.md. Extra arguments go to rr-bench
# (e.g. --sections latency,rate or --latency-requests 200; see rr-bench --help).
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
export RRKIT_BUILD="${RRKIT_BUILD:-$ROOT/build-bench}"

"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh" -DRRKIT_WERROR=ON

# The peer is examples/node-gateway; examples.sh installs it (and says so when Node.js is missing).
"$ROOT/scripts/examples.sh"

mkdir -p "$BENCH_DIR/results"
t0=$SECONDS
"$RRKIT_BUILD/bin/rr-bench" \
  --peer-dir "$ROOT/examples/node-gateway" \
  --json "$BENCH_DIR/results/latest.json" \
  --markdown "$BENCH_DIR/RESULTS.md" \
  "$@"
printf '    benchmark took %d s (build and setup not included)\n' $((SECONDS - t0)) >&2
