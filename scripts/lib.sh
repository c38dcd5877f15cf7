# Shared by rrkit's scripts: paths, pinned versions, progress output.
set -euo pipefail
RRKIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RRKIT_CACHE="${RRKIT_CACHE:-$HOME/.cache/rrkit}"
RRKIT_BUILD="${RRKIT_BUILD:-$RRKIT_ROOT/build}"
export RRKIT_CACHE
# shellcheck source=../stack/versions.env
source "$RRKIT_ROOT/stack/versions.env"
KAFKA_HOME="$RRKIT_CACHE/kafka-$KAFKA_VERSION"
DAPRD_BIN="$RRKIT_CACHE/bin/daprd-${DAPR_VERSION#v}"

say()  { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 2; }

# timed NAME CMD...: runs CMD, then prints how long it took.
timed() {
  local name=$1; shift
  local t0=$SECONDS
  "$@"
  note "$name took $((SECONDS - t0)) s"
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}
