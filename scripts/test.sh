#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every ctest
# (unit tests, then end-to-end tests on the real Kafka + daprd stack).
source "$(dirname "$0")/lib.sh"
"$RRKIT_ROOT/scripts/setup.sh"
"$RRKIT_ROOT/scripts/build.sh"
say "Running tests"
cd "$RRKIT_BUILD"
ctest --output-on-failure --timeout 900 "$@"
