#!/usr/bin/env bash
# Prints the gateway × check tables of the README's conformance section from the suite reports of one
# conformance run per gateway. Each column is named after its report file:
#   scripts/conformance-table.sh build/conformance/rr-gateway.json build/conformance/node-gateway.json \
#                                build/conformance/seed-gateway.json
# (the ctest entries conformance_<gateway> write those reports: ctest -L conformance).
set -euo pipefail
if [[ $# -eq 0 ]]; then
  echo "usage: $0 REPORT.json..." >&2
  exit 3
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
reports=""
for r in "$@"; do
  [[ -f "$r" ]] || { echo "$0: $r: no such report" >&2; exit 3; }
  reports+="${reports:+,}$(cd "$(dirname "$r")" && pwd)/$(basename "$r")"
done
exec cmake -DREPORTS="$reports" -P "$here/conformance_table.cmake"
