#!/usr/bin/env bash
# Builds the Debian package, unpacks it into a temporary root and runs one scenario with the unpacked
# rr-harness from a folder outside the clone, with nothing of the clone on PATH: it proves that the
# package alone (plus the set-up cache) runs a scenario. Usage: package_e2e.sh BUILD_DIR CPACK
set -euo pipefail
build=$1
cpack=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rrkit-package-e2e.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "==> cpack -G DEB"
(cd "$build" && "$cpack" -G DEB -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log" >&2; fail "cpack"; }
deb=$(ls "$tmp"/pkg/rrkit_*.deb)
dpkg-deb -f "$deb" Depends | grep -q librdkafka || fail "Depends lacks the shared-library dependencies: $(dpkg-deb -f "$deb" Depends)"

echo "==> dpkg -x $deb"
root=$tmp/root
dpkg -x "$deb" "$root"
for f in usr/bin/rr-harness usr/bin/rr-gateway usr/bin/rr-simulator usr/share/rrkit/scenarios/happy-path.yaml \
         usr/share/rrkit/sut/rr-gateway.yaml usr/share/rrkit/scripts/setup.sh usr/share/rrkit/stack/versions.env; do
  [ -e "$root/$f" ] || fail "$f missing from the package"
done
[ -z "$(find "$root" -name node_modules)" ] || fail "the package ships node_modules"

# Outside the clone, no RRKIT_SUT, PATH without the build folder: only the unpacked files can be used.
work=$tmp/work
mkdir -p "$work"
cd "$work"
# The build folder is taken off PATH; the tools the set-up checks for (java, mvn, go) stay reachable.
clean_path=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vF "$build" | paste -sd: -)
export PATH="$root/usr/bin:$clean_path"
unset RRKIT_SUT
[ "$(command -v rr-harness)" = "$root/usr/bin/rr-harness" ] || fail "rr-harness on PATH is $(command -v rr-harness)"
rr-harness --version

echo "==> rr-harness setup (the cache is there already: no download)"
rr-harness setup

echo "==> rr-harness run scenarios/happy-path.yaml (found in the unpacked share/rrkit)"
# While it runs, the programs it starts must be the unpacked ones (found beside the unpacked rr-harness).
rr-harness run scenarios/happy-path.yaml --out runs --json report.json --junit junit.xml &
harness=$!
seen_gateway=""
seen_simulator=""
while kill -0 "$harness" 2>/dev/null && { [ -z "$seen_gateway" ] || [ -z "$seen_simulator" ]; }; do
  for exe in /proc/[0-9]*/exe; do
    case $(readlink "$exe" 2>/dev/null) in
      "$root/usr/bin/rr-gateway") seen_gateway=1 ;;
      "$root/usr/bin/rr-simulator") seen_simulator=1 ;;
    esac
  done
  sleep 0.2
done
rc=0
wait "$harness" || rc=$?
[ "$rc" = 0 ] || fail "rr-harness run exited $rc"
[ -n "$seen_gateway" ] || fail "no $root/usr/bin/rr-gateway process was seen during the run"
[ -n "$seen_simulator" ] || fail "no $root/usr/bin/rr-simulator process was seen during the run"

# The report names the unpacked scenario, and nothing of the build folder.
grep -q "\"path\": \"$root/usr/share/rrkit/scenarios/happy-path.yaml\"" report.json ||
  fail "report.json does not name the unpacked scenario: $(grep '"path"' report.json | head -3)"
grep -rqs "$build" runs/ report.json && fail "the run used a file of the build folder $build"
echo "PASS: the unpacked package ran happy-path"
