#!/usr/bin/env bash
# Runs the CI recipes' own commands: the run-ci-job.sh steps both recipes (examples/ci/*.yml) call, in
# their order, on ONE quick scenario (RRKIT_CI_SCENARIOS) against rr-gateway's SUT file, from a
# folder outside the clone, as a pipeline would. Also checks that a failing selection fails the job.
# Usage: ci_recipe_e2e.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rrkit-ci-recipe.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

job=$src/examples/ci/run-ci-job.sh
steps_of() { grep -o 'run-ci-job\.sh [a-z]*' "$1" | awk '{print $2}' | paste -sd' ' -; }
github=$(steps_of "$src/examples/ci/github-actions.yml")
gitlab=$(steps_of "$src/examples/ci/gitlab-ci.yml")
echo "steps: GitHub Actions [$github], GitLab CI [$gitlab]"
[ "$github" = "$gitlab" ] || fail "the recipes run different steps"
[ "$github" = "setup build test" ] || fail "the recipes must set up, build and test, in that order: [$github]"
# No other shell command in the recipes' job steps than the script (tool installs and clones aside).
if grep -E '^\s*(- )?run: ' "$src/examples/ci/github-actions.yml" | grep -v -e 'run-ci-job\.sh' -e 'apt-get' | grep -q .; then
  fail "a GitHub Actions step runs something other than run-ci-job.sh"
fi

export RRKIT_SRC=$src RRKIT_BUILD=$build
export RRKIT_CI_SUT=$src/sut/rr-gateway.yaml
export RRKIT_CI_SCENARIOS=${RRKIT_CI_TEST_SCENARIO:-$src/scenarios/happy-path.yaml}
export RRKIT_CI_OUT=$tmp/results
cd "$tmp"

# A selection that matches nothing is a usage error (3): the job must fail, not pass empty.
rc=0
RRKIT_CI_TAG=no-such-tag "$job" test >"$tmp/empty.log" 2>&1 || rc=$?
[ "$rc" = 3 ] || { cat "$tmp/empty.log" >&2; fail "an empty selection exited $rc, not 3"; }

for step in $github; do
  echo "==> run-ci-job.sh $step"
  rc=0
  "$job" "$step" || rc=$?
  [ "$rc" = 0 ] || fail "run-ci-job.sh $step exited $rc"
done

grep -q '<testcase[^>]*name="happy-path"' "$RRKIT_CI_OUT/junit.xml" || fail "junit.xml lacks the happy-path test case"
grep -q 'failures="0"' "$RRKIT_CI_OUT/junit.xml" || fail "junit.xml reports failures"
[ -s "$RRKIT_CI_OUT/report.html" ] || fail "no HTML report"
echo "PASS: the recipes' steps ran happy-path"
