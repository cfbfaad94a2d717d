#!/usr/bin/env bash
# make bench: the benchmark of BENCHMARKS.md on this machine, from nothing.
# Starts its own broker node (port 5674), measures, prints the table, stops everything.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="$root/.herald/bench"
port="${HERALD_BENCH_AMQP_PORT:-5674}"
duration="${HERALD_BENCH_SECONDS:-20}"
users="${HERALD_BENCH_USERS:-100000}"

deploy/local/install-deps.sh wrk
echo "==> release build"
swift build -c release --product herald-ingest >/dev/null
swift build -c release --product herald-dispatcher >/dev/null
swift build -c release --product heraldctl >/dev/null
swift build -c release --product herald-load >/dev/null
bin="$(swift build -c release --show-bin-path)"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  deploy/local/broker.sh stop bench >/dev/null 2>&1 || true
}
trap cleanup EXIT
deploy/local/broker.sh stop bench >/dev/null 2>&1 || true
rm -rf deploy/local/var/bench "$out"
mkdir -p "$out"
deploy/local/broker.sh start bench "$port"

export HERALD_AMQP_URL="amqp://guest:guest@127.0.0.1:$port/%2f"
export HERALD_DB_PATH="$out/herald.sqlite"
export HERALD_JWT_SECRET="benchmark-secret-benchmark-secret-benchmark"
export HERALD_HTTP_PORT=8090 HERALD_DISPATCHER_METRICS_PORT=9095 HERALD_LOG_LEVEL=warning

peak_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
wait_ready() { for _ in $(seq 1 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }

echo "==> raw broker ceiling (herald-load broker)"
"$bin/herald-load" broker --messages 200000 --json | tee "$out/broker.json"

echo "==> ingest under wrk (no dispatcher running, so only ingest + broker are measured)"
"$bin/heraldctl" directory import deploy/bench/directory.json >/dev/null
"$bin/herald-ingest" > "$out/ingest.log" 2>&1 &
ingest=$!; pids+=("$ingest")
wait_ready "http://127.0.0.1:8090/health/ready"
HERALD_BENCH_TOKEN="$("$bin/heraldctl" token issue --tenant bench --principal bench --ttl 3600)"
export HERALD_BENCH_TOKEN
wrk -t2 -c64 -d5s -s deploy/bench/send.lua http://127.0.0.1:8090 >/dev/null   # warm-up
wrk -t2 -c64 -d"${duration}s" --latency -s deploy/bench/send.lua http://127.0.0.1:8090 | tee "$out/wrk-64.txt"
wrk -t1 -c4 -d"${duration}s" --latency -s deploy/bench/send.lua http://127.0.0.1:8090 | tee "$out/wrk-4.txt"
echo "$(peak_kb "$ingest")" > "$out/ingest-peak-kb"
kill -TERM "$ingest"; wait "$ingest" 2>/dev/null || true
deploy/local/broker.sh ctl bench purge_queue herald.requests >/dev/null

echo "==> fan-out of one send to a $users-user nested group (herald-load fanout)"
"$bin/herald-dispatcher" > "$out/dispatcher.log" 2>&1 &
dispatcher=$!; pids+=("$dispatcher")
wait_ready "http://127.0.0.1:9095/health/ready"
"$bin/herald-load" fanout --users "$users" --json | tee "$out/fanout.json"
echo "$(peak_kb "$dispatcher")" > "$out/dispatcher-peak-kb"

python3 deploy/bench/table.py "$out"
