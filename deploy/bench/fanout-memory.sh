#!/usr/bin/env bash
# make bench-memory: a send to a 1,000,000-user nested group (two devices each) and then two such
# sends at once, against a release herald-dispatcher on its own broker node (port 5674), with the
# dispatcher's peak resident memory read from /proc during each fan-out, and the raw broker's
# confirmed-publish rate from the same run for the envelopes/s ratio (BENCHMARKS.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="$root/.herald/bench-memory"
users="${HERALD_BENCH_BIG_USERS:-1000000}"
# shellcheck source=setup.sh
. deploy/bench/setup.sh
export HERALD_DISPATCHER_METRICS_PORT=9096 HERALD_LOG_LEVEL=warning

echo "==> raw broker ceiling (herald-load broker)"
"$bin/herald-load" broker --messages 200000 --json | tee "$out/broker.json"

"$bin/herald-dispatcher" > "$out/dispatcher.log" 2>&1 &
dispatcher=$!; pids+=("$dispatcher")
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:9096/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done

echo "==> one send to a $users-user nested group (seeds the directory first)"
"$bin/herald-load" fanout --users "$users" --dispatcher-pid "$dispatcher" --json | tee "$out/fanout-1.json"
echo "==> two sends to it at once"
"$bin/herald-load" fanout --users "$users" --sends 2 --reuse-directory --dispatcher-pid "$dispatcher" --json | tee "$out/fanout-2.json"
echo "dispatcher VmHWM (whole life, KiB): $(awk '/VmHWM/ {print $2}' "/proc/$dispatcher/status")" | tee "$out/dispatcher-hwm.txt"

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
raw = json.load(open(f"{out}/broker.json"))
rate = float(raw.get("publishPerSecond") or raw.get("publish_per_second") or 0)
print(f"| run | envelopes | fan-out s | envelopes/s | ratio to raw {rate:,.0f}/s | dispatcher peak RSS |")
print("|---|---|---|---|---|---|")
for name in ("fanout-1", "fanout-2"):
    r = json.load(open(f"{out}/{name}.json"))
    eps = float(r["envelopes_per_second"])
    print(f"| {r['sends']} send(s) x {int(r['users']):,} users | {int(r['envelopes_on_queues']):,} of {int(r['envelopes_expected']):,} | {r['fanout_seconds']} | {eps:,.0f} | {eps / rate:.2f} | {r['dispatcher_peak_rss_mb']} MB |")
PY
