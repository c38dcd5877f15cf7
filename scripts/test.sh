#!/usr/bin/env bash
# The test command: installs what is missing (the Node.js examples' npm dependencies too), builds,
# and runs every ctest (unit tests, then end-to-end tests on the real Kafka + daprd stack). Then,
# when CI is set, one more build, with clang and AddressSanitizer + UndefinedBehaviorSanitizer, of the
# unit tests (RRKIT_SANITIZE_TESTS=1 asks for them, =0 leaves them out) and of the libFuzzer targets
# (RRKIT_FUZZ_TESTS=1 / =0): the unit tests run under the sanitizers, and each fuzz target runs briefly
# over its committed corpus (a crash, leak or UB report fails the run; scripts/fuzz.sh runs them longer).
# One tree serves both: its libraries carry libFuzzer's coverage hooks, which cost an ordinary binary
# nothing but a few counters, so they are compiled once instead of once per stage.
# Extra arguments go to the first ctest run (e.g. -L unit, -R scenario). That run includes the
# conformance runs (the scenarios tagged `conformance`, once per gateway: rr-gateway, node-gateway and
# seed-gateway, about 4.5, 5.5 and 6 minutes on a 2-core machine; `-LE conformance` leaves them out).
source "$(dirname "$0")/lib.sh"
"$RRKIT_ROOT/scripts/setup.sh"
"$RRKIT_ROOT/scripts/examples.sh"
"$RRKIT_ROOT/scripts/build.sh"
say "Running tests"
(cd "$RRKIT_BUILD" && ctest --output-on-failure --timeout 900 "$@")

sanitize="${RRKIT_SANITIZE_TESTS:-${CI:+1}}"
fuzz="${RRKIT_FUZZ_TESTS:-${CI:+1}}"
targets=()
[ "$sanitize" = 1 ] && targets+=(unit_tests)
[ "$fuzz" = 1 ] && targets+=(fuzz_targets)
if [ ${#targets[@]} -gt 0 ]; then
  asan="${RRKIT_BUILD}-asan"
  say "Building ${targets[*]} with clang, ASan/UBSan and libFuzzer's coverage in $asan"
  t0=$SECONDS
  # Debug (-O0): the quickest to compile, and the unit tests and the short fuzz runs need no more speed.
  cmake -S "$RRKIT_ROOT" -B "$asan" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DRRKIT_SANITIZE=ON -DRRKIT_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=Debug >/dev/null
  # unit_tests is the unit-test binaries and the programs they run (rr-gateway, rr-simulator, rr-harness, rr-bench:
  # the exit code, ci-registration and --version tests start them), never the e2e binaries or the bench tools;
  # fuzz_targets is the fuzz targets alone.
  cmake --build "$asan" --target "${targets[@]}" -j "$(nproc)"
  note "sanitizer build took $((SECONDS - t0)) s"
  export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  if [ "$sanitize" = 1 ]; then
    say "Running the unit tests under ASan/UBSan"
    (cd "$asan" && ctest --output-on-failure --timeout 300 -L unit)
  fi
  if [ "$fuzz" = 1 ]; then
    say "Running every fuzz target briefly over its corpus"
    (cd "$asan" && ctest --output-on-failure -L fuzz)
  fi
fi
