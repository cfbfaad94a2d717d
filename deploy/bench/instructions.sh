#!/usr/bin/env bash
# make bench-instructions: the instructions herald-ingest and herald-dispatcher execute per send,
# counted by callgrind over a fixed run (BENCHMARKS.md). Counts, unlike CPU time, repeat to a few
# parts in ten thousand on this noisy shared machine, so they decide whether a change is kept.
#   For each store (HERALD_BENCH_ENGINES, "sqlite postgres"): a directory of 40 tenants x 100 users
#   seeded, both services started under callgrind, HERALD_BENCH_SENDS (2000) sends as a warm-up
#   (herald-load run, 8 in flight, 10% group sends), the counters zeroed, the same number again,
#   both services stopped. Instructions per send = the process's count / sends accepted. The
#   callgrind files stay in .herald/bench-instructions for callgrind_annotate.
# The warm-up keeps what happens once per tenant or token (the first verification of each
# herald-load token) out of the count, as a long run would.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="$root/.herald/bench-instructions"
sends="${HERALD_BENCH_SENDS:-2000}"
engines="${HERALD_BENCH_ENGINES:-sqlite postgres}"
# shellcheck source=setup.sh
. deploy/bench/setup.sh
vg="$(deploy/bench/valgrind.sh)"
export HERALD_JWT_SECRET="benchmark-secret-benchmark-secret-benchmark"
export HERALD_HTTP_PORT=8090 HERALD_DISPATCHER_METRICS_PORT=9095 HERALD_LOG_LEVEL=warning
shape="--tenants 40 --users 100 --groups 12 --tenant-prefix count-"

# Runs a service under callgrind: callgrind_under NAME EXECUTABLE (sets $!).
callgrind_under() {
  LD_PRELOAD="$vg/sigsuspend-copy.so" VALGRIND_LIB="$vg/usr/libexec/valgrind" \
    "$vg/usr/bin/valgrind" --tool=callgrind --dump-instr=no --compress-strings=no \
    --callgrind-out-file="$out/callgrind.$1" "$2" > "$out/$1.log" 2>&1 &
}

base="$out"
for engine in $engines; do
  out="$base/$engine"
  mkdir -p "$out"
  use_store "$engine"
  echo "==> store: $engine; seeding 40 tenants x 100 users"
  # shellcheck disable=SC2086
  "$bin/herald-load" seed $shape --json > "$out/seed.json"
  callgrind_under ingest "$bin/herald-ingest"; ingest=$!; pids+=("$ingest")
  callgrind_under dispatcher "$bin/herald-dispatcher"; dispatcher=$!; pids+=("$dispatcher")
  wait_ready "http://127.0.0.1:8090/health/ready" 300 || { echo "ingest did not start under valgrind; see $out/ingest.log"; exit 1; }
  wait_ready "http://127.0.0.1:9095/health/ready" 300 || { echo "the dispatcher did not start under valgrind; see $out/dispatcher.log"; exit 1; }
  echo "==> $sends sends to warm up, then $sends counted"
  # shellcheck disable=SC2086
  "$bin/herald-load" run $shape --concurrency 8 --count "$sends" --json > "$out/warm-up.json" 2> "$out/warm-up.log"
  callgrind_control -z "$ingest" > /dev/null
  callgrind_control -z "$dispatcher" > /dev/null
  # shellcheck disable=SC2086
  "$bin/herald-load" run $shape --concurrency 8 --count "$sends" --json > "$out/run.json" 2> "$out/run.log"
  kill -TERM "$ingest" "$dispatcher"
  wait "$ingest" "$dispatcher" 2>/dev/null || true
  pids=()
done
out="$base"
python3 - "$out" $engines <<'PY'
import json, sys
out, engines = sys.argv[1], sys.argv[2:]
def total(path):
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise SystemExit(f"no total in {path}")
rows = []
for engine in engines:
    run = json.load(open(f"{out}/{engine}/run.json"))
    sends = run["accepted"]
    envelopes = run.get("envelopes", {})
    if envelopes.get("lost") or envelopes.get("duplicates") or envelopes.get("unexpected"):
        raise SystemExit(f"{engine}: envelopes lost, duplicated or unexpected: {envelopes}")
    ingest = total(f"{out}/{engine}/callgrind.ingest") / sends
    dispatcher = total(f"{out}/{engine}/callgrind.dispatcher") / sends
    rows.append((engine, sends, ingest, dispatcher))
    json.dump({"sends": sends, "ingest": round(ingest), "dispatcher": round(dispatcher)}, open(f"{out}/{engine}/instructions.json", "w"))
print("\n| store | sends counted | ingest instructions per send | dispatcher instructions per send | both |")
print("|---|---|---|---|---|")
for engine, sends, ingest, dispatcher in rows:
    print(f"| {engine} | {sends:,} | {ingest:,.0f} | {dispatcher:,.0f} | {ingest + dispatcher:,.0f} |")
PY
