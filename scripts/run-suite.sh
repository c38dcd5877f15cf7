#!/usr/bin/env bash
# The main job: install what is missing, build, bring up the real stack for each scenario and run
# the whole scenario library; prints the summary and the path of the HTML report.
# Extra arguments go to `rr-harness run` (e.g. --seed 7, --tag ci, --junit out.xml).
source "$(dirname "$0")/lib.sh"
"$RRKIT_ROOT/scripts/setup.sh"
"$RRKIT_ROOT/scripts/build.sh"
out="$RRKIT_ROOT/runs/suite-$(date -u +%Y%m%d-%H%M%S)"
say "Running the scenario library (run folders and reports in $out)"
exec "$RRKIT_BUILD/bin/rr-harness" run "$RRKIT_ROOT/scenarios" --out "$out" --junit "$out/junit.xml" "$@"
