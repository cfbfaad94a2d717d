#!/usr/bin/env bash
# make run: install, build, start the broker, herald-ingest, herald-dispatcher, the APNs/FCM
# stand-in (herald-push-sandbox) and herald-gateway, import the demo directory, send two demo
# notifications and show the pushes the stand-in received.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
# shellcheck source=../lib.sh
. deploy/lib.sh
state="$root/.herald"
mkdir -p "$state/logs"

export HERALD_AMQP_URL="${HERALD_AMQP_URL:-amqp://guest:guest@127.0.0.1:${HERALD_LOCAL_AMQP_PORT:-5672}/%2f}"
export HERALD_DB_PATH="${HERALD_DB_PATH:-$state/herald.sqlite}"
export HERALD_HTTP_HOST="${HERALD_HTTP_HOST:-127.0.0.1}"
export HERALD_HTTP_PORT="${HERALD_HTTP_PORT:-8080}"
export HERALD_DISPATCHER_METRICS_PORT="${HERALD_DISPATCHER_METRICS_PORT:-9090}"
export HERALD_GATEWAY_METRICS_PORT="${HERALD_GATEWAY_METRICS_PORT:-9091}"
sandbox_port="${HERALD_SANDBOX_PORT:-9443}"
if [ -z "${HERALD_JWT_SECRET:-}" ]; then
  [ -f "$state/jwt-secret" ] || head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > "$state/jwt-secret"
  HERALD_JWT_SECRET="$(cat "$state/jwt-secret")"
  export HERALD_JWT_SECRET
fi

echo "==> installing what is missing (Debian packages)"
deploy/local/install-deps.sh
echo "==> building (deploy/build.sh debug; the first build takes a few minutes)"
herald_build deploy/build.sh debug
bin="$(swift build --show-bin-path)"

echo "==> starting RabbitMQ"
deploy/local/broker.sh start dev "${HERALD_LOCAL_AMQP_PORT:-5672}"

deploy/local/stop.sh --services-only >/dev/null 2>&1 || true
echo "==> starting herald-ingest, herald-dispatcher, herald-push-sandbox and herald-gateway (logs in .herald/logs/)"
HERALD_LOG_FORMAT="${HERALD_LOG_FORMAT:-json}" nohup "$bin/herald-ingest" > "$state/logs/ingest.log" 2>&1 &
echo $! > "$state/ingest.pid"
HERALD_LOG_FORMAT="${HERALD_LOG_FORMAT:-json}" nohup "$bin/herald-dispatcher" > "$state/logs/dispatcher.log" 2>&1 &
echo $! > "$state/dispatcher.pid"
# The stand-in makes its keys, CA and gateway.env in .herald/push-sandbox on its first start.
rm -f "$state/push-sandbox/gateway.env"
nohup "$bin/herald-push-sandbox" --port "$sandbox_port" --dir "$state/push-sandbox" > "$state/logs/push-sandbox.log" 2>&1 &
echo $! > "$state/push-sandbox.pid"
for _ in $(seq 1 100); do [ -f "$state/push-sandbox/gateway.env" ] && break; sleep 0.1; done
[ -f "$state/push-sandbox/gateway.env" ] || { echo "herald-push-sandbox did not start; see .herald/logs/push-sandbox.log"; exit 1; }
(set -a; . "$state/push-sandbox/gateway.env"; set +a
  HERALD_LOG_FORMAT="${HERALD_LOG_FORMAT:-json}" exec nohup "$bin/herald-gateway" > "$state/logs/gateway.log" 2>&1) &
echo $! > "$state/gateway.pid"

base="http://$HERALD_HTTP_HOST:$HERALD_HTTP_PORT"
wait_ready "$base/health/ready" || { echo "ingest did not become ready; see .herald/logs/ingest.log"; exit 1; }

echo "==> importing the demo directory (deploy/local/demo-directory.json)"
"$bin/heraldctl" directory import deploy/local/demo-directory.json
sandbox="https://127.0.0.1:$sandbox_port"
sandbox_curl() { curl -s --cacert "$state/push-sandbox/ca.pem" "$@"; }
sandbox_curl -X POST "$sandbox/sandbox/reset"   # start the demo's count from zero

admin="$("$bin/heraldctl" token issue --tenant contoso --principal admin --ttl 86400)"
echo "==> sending to groups g-staff (nested, with a cycle back to itself) and to device d-bo-ipad"
group_reply="$(curl -s -X POST "$base/v1/notifications" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d '{"title":"Network maintenance","body":"Wi-Fi in building 2 is down from 18:00 to 18:30.","groupIds":["g-staff"]}')"
echo "    POST /v1/notifications -> $group_reply"
device_reply="$(curl -s -X POST "$base/v1/devices/d-bo-ipad/notifications" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d '{"title":"Your iPad","body":"Please install the pending update today."}')"
echo "    POST /v1/devices/d-bo-ipad/notifications -> $device_reply"
group_id="$(echo "$group_reply" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')"
device_id="$(echo "$device_reply" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')"

for _ in $(seq 1 50); do
  s1="$(curl -s "$base/v1/notifications/$group_id" -H "Authorization: Bearer $admin")"
  s2="$(curl -s "$base/v1/notifications/$device_id" -H "Authorization: Bearer $admin")"
  case "$s1$s2" in *'"status":"accepted"'*) sleep 0.1 ;; *) break ;; esac
done
echo "==> status of the group send:  $s1"
echo "==> status of the device send: $s2"
# Four devices are eligible: Ada's iPhone and Pixel, Bo's iPad (twice: a member and the device send).
for _ in $(seq 1 100); do
  case "$(sandbox_curl "$sandbox/sandbox/pushes")" in *'"accepted":{"android":1,"ios":3}'*) break ;; *) sleep 0.1 ;; esac
done
echo "==> pushes the APNs/FCM stand-in accepted from herald-gateway (GET $sandbox/sandbox/pushes):"
sandbox_curl "$sandbox/sandbox/pushes" | tr '{' '\n' | sed -n 's/.*"httpVersion":"\([^"]*\)","id":"\([^"]*\)","platform":"\([^"]*\)","token":"\([^"]*\)".*/    \3 over \1, envelope \2, token …\4/p' | sed 's/token ….*\(....\)$/token …\1/'
echo "    counts: $(sandbox_curl "$sandbox/sandbox/pushes" | sed 's/.*"stats"://; s/}$//')"

cat <<EOT

Herald is running.
  ingest API:         $base   (OpenAPI: $base/openapi.yaml)
  dispatcher metrics: http://127.0.0.1:$HERALD_DISPATCHER_METRICS_PORT/metrics
  gateway metrics:    http://127.0.0.1:$HERALD_GATEWAY_METRICS_PORT/metrics
  APNs/FCM stand-in:  $sandbox/sandbox/pushes   (curl --cacert .herald/push-sandbox/ca.pem)
  broker:             $HERALD_AMQP_URL
  admin console:      $base/console/   (sign in with the token below)
  a token:            export TOKEN=$admin
  try:                curl -X POST $base/v1/notifications -H "Authorization: Bearer \$TOKEN" \\
                        -H 'Content-Type: application/json' -d '{"title":"Hi","body":"Hello","groupIds":["g-field"]}'
  tools:              $bin/heraldctl queues | status ID
  environment:        export HERALD_DB_PATH=$HERALD_DB_PATH HERALD_JWT_SECRET=\$(cat .herald/jwt-secret)
  load test:          kill \$(cat .herald/gateway.pid)   (herald-load takes the envelopes off the queues itself), then
                      $bin/herald-load seed && $bin/herald-load run --rate 100 --duration 10   (with the environment above)
  stop everything:    make stop
EOT
