#!/usr/bin/env bash
# The shell steps of rrkit's CI recipes (github-actions.yml, gitlab-ci.yml): every recipe calls this
# script and nothing else, so the commands a pipeline runs are the ones rrkit's own test runs
# (tests/install/ci_recipe_e2e.sh).
#
#   run-ci-job.sh setup   Debian packages, Kafka's jars and daprd into the set-up cache ($RRKIT_CACHE,
#                         default ~/.cache/rrkit; cache it between runs, with $CCACHE_DIR)
#   run-ci-job.sh build   configure (first time only) and build rr-gateway, rr-simulator and rr-harness
#   run-ci-job.sh test    run the scenarios against the gateway the SUT file starts; writes the JUnit XML
#                         and the HTML report to $RRKIT_CI_OUT; exits with rr-harness's code
#                         (0 pass, 1 a check failed, 2 infrastructure error, 3 usage) so the job fails
#   run-ci-job.sh all     the three in order
#
# Environment (all optional):
#   RRKIT_SRC           the rrkit clone (default: the one this script is in)
#   RRKIT_BUILD         its build folder (default $RRKIT_SRC/build)
#   RRKIT_CI_SUT        your gateway's SUT file (default sut.yaml; see "Testing your own gateway" in the README)
#   RRKIT_CI_SCENARIOS  scenario files or folders, space-separated (default: rrkit's scenario library)
#   RRKIT_CI_TAG        only the scenarios with this tag (default ci; empty: all of RRKIT_CI_SCENARIOS)
#   RRKIT_CI_OUT        run folders and reports (default rrkit-results)
set -euo pipefail

RRKIT_SRC=${RRKIT_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
RRKIT_BUILD=${RRKIT_BUILD:-$RRKIT_SRC/build}
RRKIT_CI_SUT=${RRKIT_CI_SUT:-sut.yaml}
RRKIT_CI_SCENARIOS=${RRKIT_CI_SCENARIOS:-$RRKIT_SRC/scenarios}
RRKIT_CI_TAG=${RRKIT_CI_TAG-ci}
RRKIT_CI_OUT=${RRKIT_CI_OUT:-rrkit-results}

step_setup() {
  bash "$RRKIT_SRC/scripts/setup.sh"
}

step_build() {
  if [ ! -f "$RRKIT_BUILD/CMakeCache.txt" ]; then
    cmake -S "$RRKIT_SRC" -B "$RRKIT_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
  fi
  cmake --build "$RRKIT_BUILD" --target rr-gateway rr-simulator rr-harness
}

step_test() {
  local args
  read -r -a args <<<"$RRKIT_CI_SCENARIOS"
  if [ -n "$RRKIT_CI_TAG" ]; then args+=(--tag "$RRKIT_CI_TAG"); fi
  mkdir -p "$RRKIT_CI_OUT"
  "$RRKIT_BUILD/bin/rr-harness" --version
  "$RRKIT_BUILD/bin/rr-harness" run "${args[@]}" --sut "$RRKIT_CI_SUT" --out "$RRKIT_CI_OUT" \
    --junit "$RRKIT_CI_OUT/junit.xml" --html "$RRKIT_CI_OUT/report.html" --json "$RRKIT_CI_OUT/report.json"
}

case ${1:-all} in
  setup) step_setup ;;
  build) step_build ;;
  test) step_test ;;
  all) step_setup && step_build && step_test ;;
  *) echo "usage: $0 setup|build|test|all" >&2; exit 3 ;;
esac
