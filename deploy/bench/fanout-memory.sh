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

# The raw ceiling twice: as make bench measures it (200,000 messages), and at the fan-out's own
# volume (two envelopes per user), since a quorum queue slows down as millions of messages pile up.
echo "==> raw broker ceiling (herald-load broker), 200,000 messages and $((2 * users))"
"$bin/herald-load" broker --messages 200000 --json | tee "$out/broker.json"
"$bin/herald-load" broker --messages "$((2 * users))" --json | tee "$out/broker-volume.json"

"$bin/herald-dispatcher" > "$out/dispatcher.log" 2>&1 &
dispatcher=$!; pids+=("$dispatcher")
wait_ready "http://127.0.0.1:9096/health/ready"

broker="$(pgrep -f "beam.smp.*deploy/local/var/bench" | head -n 1)"
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# One fan-out run, with the CPU seconds the dispatcher and the broker used during it.
fanout() {
  local name="$1"; shift
  local d b
  d=$(ticks "$dispatcher"); b=$(ticks "$broker")
  "$bin/herald-load" fanout --users "$users" --dispatcher-pid "$dispatcher" --json "$@" | tee "$out/$name.json"
  echo "CPU during $name: dispatcher $(( $(ticks "$dispatcher") - d ))0 ms, broker $(( $(ticks "$broker") - b ))0 ms" | tee "$out/$name-cpu.txt"
}
echo "==> one send to a $users-user nested group (seeds the directory first)"
fanout fanout-1
echo "==> two sends to it at once"
fanout fanout-2 --sends 2 --reuse-directory
echo "dispatcher VmHWM (whole life, KiB): $(awk '/VmHWM/ {print $2}' "/proc/$dispatcher/status")" | tee "$out/dispatcher-hwm.txt"

python3 deploy/bench/memory_table.py "$out"
