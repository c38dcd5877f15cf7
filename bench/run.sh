#!/usr/bin/env bash
# The benchmark in one command: builds rrkit (scripts/build.sh), installs the Node.js peer's
# dependencies (npm ci, cached in ~/.npm), runs rr-bench on the real stack, and writes
# bench/results/latest.json and bench/RESULTS.md. Extra arguments go to rr-bench
# (e.g. --sections latency,rate or --latency-requests 200; see rr-bench --help).
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
export RRKIT_BUILD="${RRKIT_BUILD:-$ROOT/build-bench}"

"$ROOT/scripts/setup.sh"
command -v node >/dev/null && command -v npm >/dev/null || { echo "error: the peer needs Node.js and npm (apt-get install nodejs npm)" >&2; exit 2; }
"$ROOT/scripts/build.sh" -DRRKIT_WERROR=ON

if [ ! -d "$BENCH_DIR/peer/node_modules/@dapr/dapr" ] || [ "$BENCH_DIR/peer/package-lock.json" -nt "$BENCH_DIR/peer/node_modules" ]; then
  printf '==> npm ci (bench/peer)\n' >&2
  (cd "$BENCH_DIR/peer" && npm ci --no-audit --no-fund --loglevel=error)
fi

mkdir -p "$BENCH_DIR/results"
t0=$SECONDS
"$RRKIT_BUILD/bin/rr-bench" \
  --peer-dir "$BENCH_DIR/peer" \
  --json "$BENCH_DIR/results/latest.json" \
  --markdown "$BENCH_DIR/RESULTS.md" \
  "$@"
printf '    benchmark took %d s (build and setup not included)\n' $((SECONDS - t0)) >&2
