#!/usr/bin/env bash
# Installs everything rrkit needs, idempotently: Debian packages, the Kafka
# broker's jars (Maven), and daprd built from source (Go module proxy).
# Downloads and builds go to $RRKIT_CACHE (default ~/.cache/rrkit), never into the clone.
source "$(dirname "$0")/lib.sh"

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config curl procps ccache
  librdkafka-dev libcli11-dev nlohmann-json3-dev libfmt-dev catch2 libboost1.81-dev
  libspdlog-dev libyaml-cpp-dev libssl-dev prometheus-cpp-dev libmimalloc-dev
  openjdk-17-jre-headless maven golang-go
  # The fuzz targets (scripts/fuzz.sh, the CI fuzz stage): clang and the compiler-rt package that
  # ships libclang_rt.fuzzer (libFuzzer) and the sanitizer runtimes for that clang version.
  clang-14 libclang-rt-14-dev
  # The Node.js example gateways (examples/, their dependencies installed by scripts/examples.sh).
  nodejs npm
)

# --stack-only (what `rr-harness setup` runs from an install): only the tools that fetch and build the
# stack, not the compilers and -dev packages a clone's build needs.
for arg in "$@"; do
  case $arg in
    --stack-only) APT_PACKAGES=(openjdk-17-jre-headless maven golang-go) ;;
    *) die "unknown argument: $arg (known: --stack-only)" ;;
  esac
done

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    # A toolchain already on PATH (go, java, mvn from elsewhere) counts as present.
    case $p in
      golang-go) command -v go >/dev/null && continue ;;
      openjdk-17-jre-headless) command -v java >/dev/null && continue ;;
      maven) command -v mvn >/dev/null && continue ;;
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    note "Debian packages: all present (cached)"
    return
  fi
  say "Installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

fetch_kafka() {
  if [ -f "$KAFKA_HOME/.complete" ]; then
    note "Kafka $KAFKA_VERSION jars: cached in $KAFKA_HOME"
    return
  fi
  say "Fetching Apache Kafka $KAFKA_VERSION jars with Maven into $KAFKA_HOME"
  rm -rf "$KAFKA_HOME"
  mkdir -p "$KAFKA_HOME/libs"
  mvn -B -ntp -f "$RRKIT_ROOT/stack/kafka/pom.xml" \
    -Dkafka.version="$KAFKA_VERSION" -Dscala.binary="$KAFKA_SCALA" -Dlog4j.version="$LOG4J_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_HOME/libs" \
    | grep -E 'Copying|BUILD|ERROR' | sed 's/^/    /' >&2 || true
  [ -f "$KAFKA_HOME/libs/kafka_${KAFKA_SCALA}-${KAFKA_VERSION}.jar" ] || die "Maven did not deliver kafka_${KAFKA_SCALA}-${KAFKA_VERSION}.jar"
  touch "$KAFKA_HOME/.complete"
}

build_daprd() {
  if [ -x "$DAPRD_BIN" ]; then
    note "daprd $DAPR_VERSION: cached at $DAPRD_BIN"
    return
  fi
  say "Building daprd $DAPR_VERSION from the Go module proxy (lean build: pubsub.kafka only; a few minutes)"
  mkdir -p "$(dirname "$DAPRD_BIN")"
  local work
  work=$(mktemp -d)
  # Build from a copy so go.sum updates never dirty the clone.
  cp "$RRKIT_ROOT"/stack/daprd/go.mod "$RRKIT_ROOT"/stack/daprd/go.sum "$RRKIT_ROOT"/stack/daprd/main.go "$work"/
  (cd "$work" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -trimpath \
      -ldflags "-X github.com/dapr/dapr/pkg/buildinfo.version=${DAPR_VERSION#v}" \
      -o "$DAPRD_BIN.tmp" . 2>&1 | grep -v '^go: downloading' | sed 's/^/    /' >&2) || true
  rm -rf "$work"
  [ -x "$DAPRD_BIN.tmp" ] || die "daprd build failed (see the go output above)"
  mv "$DAPRD_BIN.tmp" "$DAPRD_BIN"
  note "daprd: $("$DAPRD_BIN" --version)"
}

say "rrkit setup (cache: $RRKIT_CACHE)"
timed "apt" install_apt
timed "Kafka fetch" fetch_kafka
timed "daprd build" build_daprd
