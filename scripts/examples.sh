#!/usr/bin/env bash
# Installs the npm dependencies of the Node.js examples (examples/*/package-lock.json) with
# `npm ci`, idempotently: an example whose node_modules was installed from the same lock file by
# the same Node.js is skipped. npm's download cache lives in $RRKIT_CACHE/npm, outside the clone;
# node_modules stays in each example's folder (git ignores it).
# Called by scripts/test.sh and by the examples' ctest fixture; safe to run by hand.
source "$(dirname "$0")/lib.sh"

command -v node >/dev/null && command -v npm >/dev/null ||
  die "the examples need Node.js and npm: run scripts/setup.sh (it installs Debian's nodejs and npm when missing)"

export npm_config_cache="$RRKIT_CACHE/npm"
installed=0
for lock in "$RRKIT_ROOT"/examples/*/package-lock.json; do
  [ -f "$lock" ] || continue
  dir=$(dirname "$lock")
  name=${dir#"$RRKIT_ROOT"/}
  # What the install depends on: the lock file and the Node.js that ran npm (native add-ons).
  want="$(sha256sum "$lock" | cut -d' ' -f1) node-$(node --version)"
  stamp="$dir/node_modules/.rrkit-installed"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    note "$name: npm dependencies current (cached)"
    continue
  fi
  say "npm ci in $name (cache: $npm_config_cache)"
  t0=$SECONDS
  (cd "$dir" && npm ci --no-audit --no-fund 2>&1 | sed 's/^/    /' >&2) || die "npm ci failed in $name"
  printf '%s\n' "$want" >"$stamp"
  note "$name: npm ci took $((SECONDS - t0)) s"
  installed=$((installed + 1))
done
note "examples: $installed installed, the rest current"
