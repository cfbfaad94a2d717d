#!/usr/bin/env bash
# make run: install, build, start the broker, herald-ingest and herald-dispatcher,
# import the demo directory, send two demo notifications and show the envelopes.
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
echo "==> starting herald-ingest and herald-dispatcher (logs in .herald/logs/)"
HERALD_LOG_FORMAT="${HERALD_LOG_FORMAT:-json}" nohup "$bin/herald-ingest" > "$state/logs/ingest.log" 2>&1 &
echo $! > "$state/ingest.pid"
HERALD_LOG_FORMAT="${HERALD_LOG_FORMAT:-json}" nohup "$bin/herald-dispatcher" > "$state/logs/dispatcher.log" 2>&1 &
echo $! > "$state/dispatcher.pid"

base="http://$HERALD_HTTP_HOST:$HERALD_HTTP_PORT"
wait_ready "$base/health/ready" || { echo "ingest did not become ready; see .herald/logs/ingest.log"; exit 1; }

echo "==> importing the demo directory (deploy/local/demo-directory.json)"
"$bin/heraldctl" directory import deploy/local/demo-directory.json
"$bin/heraldctl" push take --max 1000 >/dev/null   # start the demo from empty push queues

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
echo "==> envelopes on the platform queues (push tokens masked):"
"$bin/heraldctl" push take --max 50

cat <<EOT

Herald is running.
  ingest API:         $base   (OpenAPI: $base/openapi.yaml)
  dispatcher metrics: http://127.0.0.1:$HERALD_DISPATCHER_METRICS_PORT/metrics
  broker:             $HERALD_AMQP_URL
  admin console:      $base/console/   (sign in with the token below)
  a token:            export TOKEN=$admin
  try:                curl -X POST $base/v1/notifications -H "Authorization: Bearer \$TOKEN" \\
                        -H 'Content-Type: application/json' -d '{"title":"Hi","body":"Hello","groupIds":["g-field"]}'
  tools:              $bin/heraldctl queues | status ID | push take
  environment:        export HERALD_DB_PATH=$HERALD_DB_PATH HERALD_JWT_SECRET=\$(cat .herald/jwt-secret)
  load test:          $bin/herald-load seed && $bin/herald-load run --rate 100 --duration 10   (with the environment above)
  stop everything:    make stop
EOT
