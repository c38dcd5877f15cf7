#!/usr/bin/env bash
# Configures and builds rrkit (Ninja). Extra arguments go to cmake's configure step.
# RRKIT_BUILD_TARGETS (space-separated) builds only those targets and what they need, e.g. `unit_tests`
# or `rr-bench`; everything otherwise. Compiles go through ccache when it is installed and use the
# flags of cmake/build_speed.cmake (line tables only, unoptimised test binaries, gold).
source "$(dirname "$0")/lib.sh"
say "Building rrkit in $RRKIT_BUILD${RRKIT_BUILD_TARGETS:+ (targets: $RRKIT_BUILD_TARGETS)}"
t0=$SECONDS
cmake -S "$RRKIT_ROOT" -B "$RRKIT_BUILD" -G Ninja "$@" >/dev/null
targets=()
for t in ${RRKIT_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$RRKIT_BUILD" -j "$(nproc)" "${targets[@]}"
note "C++ build took $((SECONDS - t0)) s"
