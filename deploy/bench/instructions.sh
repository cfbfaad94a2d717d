#!/usr/bin/env bash
# make bench-instructions: instructions per send, counted by valgrind's callgrind, for herald-ingest
# and for herald-dispatcher (release build, its own broker node, the SQLite store). Each service runs
# under callgrind in turn while the other runs normally; its counters are zeroed just before
# herald-load sends and dumped just after every envelope arrived, so start-up and shut-down do not
# count. Counts are repeatable on a noisy shared machine where times are not: use them to decide
# what to keep (issue 16). HERALD_BENCH_SENDS (2000) device sends, 8 at a time.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="$root/.herald/bench-instructions"
sends="${HERALD_BENCH_SENDS:-2000}"
deploy/local/install-deps.sh valgrind
# shellcheck source=setup.sh
. deploy/bench/setup.sh
export HERALD_JWT_SECRET="benchmark-secret-benchmark-secret-benchmark"
export HERALD_HTTP_PORT=8091 HERALD_DISPATCHER_METRICS_PORT=9096 HERALD_LOG_LEVEL=warning
shape=(--tenants 50 --users 100 --groups 4 --tenant-prefix instr-)
"$bin/herald-load" seed "${shape[@]}" > "$out/seed.txt"

# Runs the load once with SERVICE under callgrind; prints its instructions per send.
count() {
  local service="$1" traced other pid
  if [ "$service" = herald-ingest ]; then other=herald-dispatcher; else other=herald-ingest; fi
  valgrind --tool=callgrind --callgrind-out-file="$out/$service.callgrind" "$bin/$service" > "$out/$service.log" 2>&1 &
  traced=$!; pids+=("$traced")
  "$bin/$other" > "$out/$other-beside.log" 2>&1 &
  pid=$!; pids+=("$pid")
  wait_ready "http://127.0.0.1:8091/health/ready" 120
  wait_ready "http://127.0.0.1:9096/health/ready" 120
  callgrind_control --zero "$traced" > /dev/null
  "$bin/herald-load" run "${shape[@]}" --count "$sends" --concurrency 8 --group-share 0 \
    --json > "$out/$service-run.json" 2> "$out/$service-progress.log"
  callgrind_control --dump="after the load" "$traced" > /dev/null
  kill -TERM "$traced" "$pid"; wait "$traced" "$pid" 2>/dev/null || true
  # The dump after the load (callgrind numbers its dumps; the file without a number is shut-down).
  local dump="$out/$service.callgrind.1"
  python3 - "$dump" "$out/$service-run.json" "$service" <<'PY'
import json, re, sys
dump, run, service = sys.argv[1:]
total = next(int(m.group(1)) for line in open(dump) if (m := re.match(r"(?:summary|totals): (\d+)", line)))
report = json.loads(open(run).read().strip().splitlines()[-1])
accepted = report["accepted"]
print(f"{service}: {total:,} instructions over {accepted} accepted device sends = {total / accepted:,.0f} per send"
      f" (lost {report['envelopes']['lost']}; {dump})")
PY
}
echo "==> instructions per send, $sends device sends (valgrind --tool=callgrind)"
count herald-ingest | tee "$out/summary.txt"
count herald-dispatcher | tee -a "$out/summary.txt"
