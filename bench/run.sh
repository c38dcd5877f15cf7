#!/usr/bin/env bash
# The benchmark in one command: builds rr-bench (scripts/build.sh), installs the Node.js peer's
# dependencies (examples/node-gateway, through scripts/examples.sh), runs rr-bench on the real stack, and writes
# bench/results/latest.json and bench/RESULTS.md. RR_BENCH_GRPC=1 also builds and measures the Dapr floor
# over gRPC (installing gRPC/protobuf for C++ first). Extra arguments go to rr-bench
# (e.g. --sections latency,rate or --latency-requests 200; see rr-bench --help).
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"

# Only rr-bench and what it starts (rr-gateway, rr-simulator) are built. The build/ tree of
# scripts/build.sh is reused when it was configured like a bench build (optimised, no sanitizer, no fuzz
# instrumentation, the default compiler): a second tree would compile the same objects again.
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$ROOT/build/CMakeCache.txt" 2>/dev/null; }
build_matches() {
  [ "$(cache_value CMAKE_BUILD_TYPE)" = RelWithDebInfo ] && [ "$(cache_value RRKIT_SANITIZE)" = OFF ] &&
    [ "$(cache_value RRKIT_FUZZ)" = OFF ] && [ "$(cache_value CMAKE_CXX_COMPILER)" = "$(command -v c++ || true)" ]
}
configure=()
if [ -z "${RRKIT_BUILD:-}" ] && build_matches; then
  export RRKIT_BUILD="$ROOT/build"
else
  export RRKIT_BUILD="${RRKIT_BUILD:-$ROOT/build-bench}"
  configure=(-DRRKIT_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi

"$ROOT/scripts/setup.sh"

# RR_BENCH_GRPC=1 adds the Dapr floor over gRPC PublishEvent. gRPC and protobuf for C++ are installed here
# (Debian packages), not by scripts/setup.sh, so that the default set-up, build and CI stay without them.
if [ "${RR_BENCH_GRPC:-0}" = 1 ]; then
  source "$ROOT/scripts/lib.sh"
  missing=()
  for p in libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  configure+=(-DRRKIT_BENCH_GRPC=ON)
else
  configure+=(-DRRKIT_BENCH_GRPC=OFF)
fi
RRKIT_BUILD_TARGETS=rr-bench "$ROOT/scripts/build.sh" "${configure[@]}"

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
