#!/usr/bin/env bash
# make bench: the benchmark of BENCHMARKS.md on this machine, from nothing.
# Release build, its own broker node (port 5674) and PostgreSQL server (port 5435), herald-ingest and
# herald-dispatcher as processes, herald-load for every figure; every phase runs once on the SQLite
# store and once on PostgreSQL, in the same run; prints the table and stops everything.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="$root/.herald/bench"
duration="${HERALD_BENCH_SECONDS:-20}"
users="${HERALD_BENCH_USERS:-100000}"
e2e_rate="${HERALD_BENCH_E2E_RATE:-1000}"
engines="${HERALD_BENCH_ENGINES:-sqlite postgres}"
# shellcheck source=setup.sh
. deploy/bench/setup.sh
export HERALD_JWT_SECRET="benchmark-secret-benchmark-secret-benchmark"
export HERALD_HTTP_PORT=8090 HERALD_DISPATCHER_METRICS_PORT=9095 HERALD_LOG_LEVEL=warning
broker="$(pgrep -f "beam.smp.*deploy/local/var/bench" | head -n 1)"

peak_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
# CPU time (user + system, in clock ticks of 1/100 s) a process has used so far.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# The same for the PostgreSQL server and every backend it runs now (0 on SQLite). A backend that
# exits during a phase takes its time with it; the services keep their pooled connections open.
db_ticks() {
  [ -n "${HERALD_DATABASE_URL:-}" ] || { echo 0; return; }
  local postmaster
  postmaster="$(head -n 1 deploy/local/var/pg-bench/data/postmaster.pid)"
  # shellcheck disable=SC2046
  cat $(for pid in "$postmaster" $(pgrep -P "$postmaster"); do echo "/proc/$pid/stat"; done) 2>/dev/null \
    | awk '{sum += $14 + $15} END {print sum + 0}'
}
# Runs one herald-load run and records the CPU each process used during it: where the two cores went.
measure() {
  local phase="$1"; shift
  local before_i before_d before_b before_db
  before_i=$(ticks "$ingest"); before_d=$(ticks "$dispatcher"); before_b=$(ticks "$broker"); before_db=$(db_ticks)
  TIMEFORMAT='%U %S'
  { time "$bin/herald-load" run "$@" --json > "$out/run-$phase.json" 2> "$out/progress-$phase.log" ; } 2> "$out/load-cpu-$phase.txt" || true
  python3 deploy/bench/cpu_json.py "$phase" "$out" \
    "$(( $(ticks "$ingest") - before_i ))" "$(( $(ticks "$dispatcher") - before_d ))" "$(( $(ticks "$broker") - before_b ))" \
    "$(( $(db_ticks) - before_db ))"
  tail -n 1 "$out/progress-$phase.log"
}
# Each phase has its own tenants, so one phase's throttle budget does not spill into the next.
shape() { echo "--tenants 300 --users 100 --groups 12 --tenant-prefix $1-"; }

echo "==> raw broker ceiling (herald-load broker)"
"$bin/herald-load" broker --messages 200000 --json | tee "$out/broker.json"
# The same broker as 64 senders each waiting for its own confirm see it: one message per publish, 64
# in flight, as wrk's 64 connections hold 64 requests (ingest alone, below). The ceiling above keeps
# 2,000 in flight in batches of 500.
echo "==> raw broker, 64 single publishes in flight (herald-load broker)"
"$bin/herald-load" broker --messages 100000 --batch 1 --in-flight 64 --json | tee "$out/broker-64.json"

# Every phase on the store the environment names, its files in $out (one folder per engine).
phases() {
  local ingest dispatcher peak half
  echo "==> seeding four directories of 300 tenants x 100 users (herald-load seed)"
  for phase in peak half e2e wrk; do
    # shellcheck disable=SC2046
    "$bin/herald-load" seed $(shape "$phase") --json > "$out/seed-$phase.json"
  done
  cat "$out/seed-peak.json"

  "$bin/herald-ingest" > "$out/ingest.log" 2>&1 &
  ingest=$!; pids+=("$ingest")
  "$bin/herald-dispatcher" > "$out/dispatcher.log" 2>&1 &
  dispatcher=$!; pids+=("$dispatcher")
  wait_ready "http://127.0.0.1:8090/health/ready"
  wait_ready "http://127.0.0.1:9095/health/ready"

  echo "==> peak: closed model, 64 senders, ${duration}s (herald-load run)"
  # shellcheck disable=SC2046
  measure peak $(shape peak) --concurrency 64 --duration "$duration"
  peak="$(python3 -c "import json,sys; print(int(json.load(open(sys.argv[1]))['acceptedPerSecond']))" "$out/run-peak.json")"
  half=$(( peak / 2 ))
  echo "    peak accepted: $peak/s"

  echo "==> half of peak: open model, $half sends/s, ${duration}s"
  # shellcheck disable=SC2046
  measure half $(shape half) --rate "$half" --duration "$duration"

  echo "==> end to end: open model, $e2e_rate sends/s, ${duration}s"
  # shellcheck disable=SC2046
  measure e2e $(shape e2e) --rate "$e2e_rate" --duration "$duration"

  # The broker's ceiling moves with its queues' history (by a fifth and more here): the fan-out is
  # compared with the ceiling measured just before it, on the broker as the load phases left it.
  echo "==> raw broker ceiling now, beside the fan-out (herald-load broker)"
  "$bin/herald-load" broker --messages 200000 --json | tee "$out/broker-now.json"
  echo "==> fan-out of one send to a $users-user nested group, three times (herald-load fanout)"
  "$bin/herald-load" fanout --users "$users" --json | tee "$out/fanout-1.json"
  for run in 2 3; do
    "$bin/herald-load" fanout --users "$users" --reuse-directory --json | tee "$out/fanout-$run.json"
  done
  echo "$(peak_kb "$dispatcher")" > "$out/dispatcher-peak-kb"
  kill -TERM "$dispatcher"
  wait "$dispatcher" 2>/dev/null || true

  # Ingest alone, driven by wrk (a load generator far cheaper than herald-load): what one ingest
  # process accepts, beside the raw publish rate. The sends stay on herald.requests (no dispatcher)
  # and are purged after.
  echo "==> ingest alone: wrk, 64 connections, ${duration}s, device sends (dispatcher stopped)"
  # shellcheck disable=SC2046
  "$bin/herald-load" wrk-script $(shape wrk) > "$out/wrk.lua"
  local before_i
  before_i=$(ticks "$ingest")
  wrk -t 2 -c 64 -d "${duration}s" --latency -s "$out/wrk.lua" http://127.0.0.1:8090 > "$out/wrk.txt"
  echo "$(( $(ticks "$ingest") - before_i ))" > "$out/wrk-ingest-ticks"
  grep -E "Requests/sec|Non-2xx|99%" "$out/wrk.txt" || true
  echo "$(peak_kb "$ingest")" > "$out/ingest-peak-kb"
  kill -TERM "$ingest"
  wait "$ingest" 2>/dev/null || true
  deploy/local/broker.sh ctl bench purge_queue herald.requests >/dev/null
}

base="$out"
for engine in $engines; do
  out="$base/$engine"
  mkdir -p "$out"
  use_store "$engine"
  echo "==> store: $engine"
  phases
done
out="$base"
python3 deploy/bench/table.py "$out" $engines
