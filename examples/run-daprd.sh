#!/usr/bin/env bash
# Starts one daprd beside an example gateway, for trying the examples by hand (the harness starts
# its own from the SUT file). daprd is the project's build (scripts/setup.sh); its Kafka pub/sub
# component is written like the harness writes it, with the consumer group named after the app id,
# so two gateways with one app id share a group, as Dapr does in production.
#
#   examples/run-daprd.sh BROKERS APP_ID APP_PORT [DAPR_HTTP_PORT] [DAPR_GRPC_PORT]
#
# Runs in the foreground (Ctrl-C stops it); the component and the log go to a fresh temp folder.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"

[ $# -ge 3 ] || { echo "usage: $0 BROKERS APP_ID APP_PORT [DAPR_HTTP_PORT] [DAPR_GRPC_PORT]" >&2; exit 3; }
brokers=$1 app_id=$2 app_port=$3 http_port=${4:-3500} grpc_port=${5:-50001}
[ -x "$DAPRD_BIN" ] || die "no daprd at $DAPRD_BIN: run scripts/setup.sh first"

dir=$(mktemp -d "${TMPDIR:-/tmp}/rrkit-daprd-$app_id.XXXXXX")
mkdir -p "$dir/resources"
cat >"$dir/resources/pubsub.yaml" <<YAML
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${PUBSUB:-rr-pubsub}
spec:
  type: pubsub.kafka
  version: v1
  metadata:
  - name: brokers
    value: "$brokers"
  - name: authType
    value: "none"
  - name: consumerGroup
    value: "$app_id"
  - name: clientID
    value: "$app_id"
  - name: initialOffset
    value: "newest"
  - name: version
    value: "$DAPR_KAFKA_PROTOCOL"
  - name: consumeRetryInterval
    value: "200ms"
YAML
say "daprd $app_id: HTTP $http_port, gRPC $grpc_port, app port $app_port, files in $dir"
exec "$DAPRD_BIN" --app-id "$app_id" --app-port "$app_port" --app-channel-address 127.0.0.1 \
  --dapr-http-port "$http_port" --dapr-grpc-port "$grpc_port" --enable-metrics=false \
  --dapr-listen-addresses 127.0.0.1 --resources-path "$dir/resources" --log-level info
