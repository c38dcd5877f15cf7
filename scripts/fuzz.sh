#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang + ASan/UBSan, in $RRKIT_FUZZ_BUILD, default
# build-fuzz/) and fuzzes each for a while, one after another, then prints per-target figures.
#   scripts/fuzz.sh [--seconds N] [TARGET...]     (default: 120 s each, every target)
# New corpus entries and crash reproducers go to $RRKIT_FUZZ_WORK (default ${TMPDIR:-/tmp}/rrkit-fuzz),
# never into the committed corpus (tests/fuzz/corpus/<target>/, which is only read).
# Exit status: 0 when no target found anything, 1 otherwise.
source "$(dirname "$0")/lib.sh"

seconds=120
targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --seconds=*) seconds=${1#--seconds=}; shift ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) targets+=("$1"); shift ;;
  esac
done

FUZZ_BUILD="${RRKIT_FUZZ_BUILD:-$RRKIT_ROOT/build-fuzz}"
FUZZ_WORK="${RRKIT_FUZZ_WORK:-${TMPDIR:-/tmp}/rrkit-fuzz}"
CORPUS="$RRKIT_ROOT/tests/fuzz/corpus"
CLANGXX="${RRKIT_FUZZ_CXX:-clang++-14}"
command -v "$CLANGXX" >/dev/null || die "$CLANGXX not found: run scripts/setup.sh"

if [ ${#targets[@]} -eq 0 ]; then
  for d in "$CORPUS"/*/; do targets+=("$(basename "$d")"); done
fi

say "Building the fuzz targets in $FUZZ_BUILD (clang, libFuzzer, ASan/UBSan)"
t0=$SECONDS
cmake -S "$RRKIT_ROOT" -B "$FUZZ_BUILD" -G Ninja -DCMAKE_CXX_COMPILER="$CLANGXX" -DRRKIT_FUZZ=ON \
  -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$FUZZ_BUILD" --target "${targets[@]}" -j "$(nproc)"
note "fuzz build took $((SECONDS - t0)) s"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
found=0
rows=()
for t in "${targets[@]}"; do
  bin="$FUZZ_BUILD/bin/$t"
  [ -x "$bin" ] || die "no fuzz target $t (targets: $(ls "$CORPUS" | tr '\n' ' '))"
  work="$FUZZ_WORK/$t"
  mkdir -p "$work/corpus" "$work/findings"
  log="$work/last-run.log"
  say "Fuzzing $t for $seconds s (new inputs: $work/corpus, findings: $work/findings)"
  before=$(ls "$work/findings" | wc -l)
  rc=0
  "$bin" -max_total_time="$seconds" -timeout=20 -print_final_stats=1 -artifact_prefix="$work/findings/" \
    "$work/corpus" "$CORPUS/$t" >"$log" 2>&1 || rc=$?
  after=$(ls "$work/findings" | wc -l)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  new=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
  findings=$((after - before))
  if [ "$rc" -ne 0 ] || [ "$findings" -gt 0 ]; then
    found=1
    note "$t: FOUND something (exit $rc); log: $log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -5 | sed 's/^/      /' >&2 || true
    ls -t "$work/findings" | head -3 | sed "s|^|      reproducer: $work/findings/|" >&2
  fi
  rows+=("$(printf '%-18s %12s %9s %7s %7s %6s %8s' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
    "${new:-?}" "$findings")")
done

say "Fuzzing summary ($seconds s per target, $(date -u +%Y-%m-%dT%H:%MZ))"
printf '%-18s %12s %9s %7s %7s %6s %8s\n' target executions exec/s cov ft new findings
printf '%s\n' "${rows[@]}"
exit $found
