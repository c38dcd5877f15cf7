#!/usr/bin/env bash
# Configures and builds rrkit (Ninja). Extra arguments go to cmake's configure step.
source "$(dirname "$0")/lib.sh"
say "Building rrkit in $RRKIT_BUILD"
t0=$SECONDS
cmake -S "$RRKIT_ROOT" -B "$RRKIT_BUILD" -G Ninja "$@" >/dev/null
cmake --build "$RRKIT_BUILD" -j "$(nproc)"
note "C++ build took $((SECONDS - t0)) s"
