#!/usr/bin/env bash
# The test command: installs what is missing (the Node.js examples' npm dependencies too), builds,
# and runs every ctest (unit tests, then end-to-end tests on the real Kafka + daprd stack). Then,
# when CI is set (or RRKIT_SANITIZE_TESTS=1), builds the unit tests again with AddressSanitizer +
# UndefinedBehaviorSanitizer and runs them, and (or with RRKIT_FUZZ_TESTS=1) builds the libFuzzer
# targets with clang and runs each briefly over its committed corpus (a crash, leak or UB report
# fails the run; scripts/fuzz.sh runs them longer).
# Extra arguments go to the first ctest run (e.g. -L unit, -R scenario). That run includes the
# conformance runs (the scenarios tagged `conformance`, once per gateway: rr-gateway, node-gateway and
# seed-gateway, about 4, 6.5 and 6.5 minutes on a 2-core machine; `-LE conformance` leaves them out).
source "$(dirname "$0")/lib.sh"
"$RRKIT_ROOT/scripts/setup.sh"
"$RRKIT_ROOT/scripts/examples.sh"
"$RRKIT_ROOT/scripts/build.sh"
say "Running tests"
(cd "$RRKIT_BUILD" && ctest --output-on-failure --timeout 900 "$@")

if [ "${RRKIT_SANITIZE_TESTS:-${CI:+1}}" = 1 ]; then
  asan="${RRKIT_BUILD}-asan"
  say "Building the unit tests with ASan/UBSan in $asan"
  t0=$SECONDS
  cmake -S "$RRKIT_ROOT" -B "$asan" -G Ninja -DRRKIT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
  # unit_tests is the unit-test binaries and the programs they run (rr-gateway, rr-simulator, rr-harness, rr-bench:
  # the exit code, ci-registration and --version tests start them), never the e2e binaries or the bench tools.
  cmake --build "$asan" --target unit_tests -j "$(nproc)"
  note "sanitizer build took $((SECONDS - t0)) s"
  say "Running the unit tests under ASan/UBSan"
  (cd "$asan" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure --timeout 300 -L unit)
fi

if [ "${RRKIT_FUZZ_TESTS:-${CI:+1}}" = 1 ]; then
  fuzz="${RRKIT_BUILD}-fuzz"
  say "Building the fuzz targets (clang, libFuzzer, ASan/UBSan) in $fuzz"
  t0=$SECONDS
  cmake -S "$RRKIT_ROOT" -B "$fuzz" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DRRKIT_FUZZ=ON -DBUILD_TESTING=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$fuzz" --target fuzz_targets -j "$(nproc)"
  note "fuzz build took $((SECONDS - t0)) s"
  say "Running every fuzz target briefly over its corpus"
  (cd "$fuzz" && ctest --output-on-failure -L fuzz)
fi
