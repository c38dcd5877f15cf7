#!/usr/bin/env bash
# Starts or stops the real stack by hand, through the same launcher the harness uses.
#   scripts/stack.sh up [rr-harness stack up flags]   (foreground; Ctrl-C stops everything)
#   scripts/stack.sh up --detach                       (returns; stop with: scripts/stack.sh down)
#   scripts/stack.sh up --sut sut/rr-gateway.yaml --instances 2 --simulator --detach
#                                                      (the topology of a run; prints the attached-run line)
#   scripts/stack.sh down
source "$(dirname "$0")/lib.sh"
[ $# -ge 1 ] || die "usage: scripts/stack.sh up|down [flags]"
if [ ! -x "$RRKIT_BUILD/bin/rr-harness" ]; then
  "$RRKIT_ROOT/scripts/setup.sh"
  "$RRKIT_ROOT/scripts/build.sh"
fi
exec "$RRKIT_BUILD/bin/rr-harness" stack "$@"
