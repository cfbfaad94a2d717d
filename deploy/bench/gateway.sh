#!/usr/bin/env bash
# make bench-gateway: herald-gateway's pushes/s against the APNs/FCM stand-in, as a ratio to what
# h2load (nghttp2-client) gets from the same stand-in on the same cores in the same run, and the
# gateway's peak resident memory while 10,000 envelopes wait for it (BENCHMARKS.md).
#   1. h2load: N APNs pushes over one HTTP/2 connection with 64 streams in flight (the gateway's
#      default concurrency on one connection), then over two connections on two threads;
#   2. 10,000 envelopes (both platforms) left on the queues, then a fresh gateway drains them: its
#      VmHWM;
#   3. N iOS envelopes left on herald.push.ios, then a fresh gateway drains them.
# Every rate is the stand-in's own count between its first and last accepted push, so both
# clients are timed by the same clock; CPU of the gateway, the stand-in and the broker from /proc.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="$root/.herald/bench-gateway"
pushes="${HERALD_BENCH_PUSHES:-50000}"
waiting="${HERALD_BENCH_WAITING:-10000}"
sandbox_port="${HERALD_BENCH_SANDBOX_PORT:-9543}"
deploy/local/install-deps.sh nghttp2-client
# shellcheck source=setup.sh
. deploy/bench/setup.sh
export HERALD_GATEWAY_METRICS_PORT=9097 HERALD_LOG_LEVEL=warning

"$bin/herald-push-sandbox" --port "$sandbox_port" --dir "$out/sandbox" > "$out/sandbox.log" 2>&1 &
sandbox_pid=$!; pids+=("$sandbox_pid")
for _ in $(seq 1 100); do [ -f "$out/sandbox/gateway.env" ] && break; sleep 0.1; done
[ -f "$out/sandbox/gateway.env" ] || { echo "herald-push-sandbox did not start; see $out/sandbox.log"; exit 1; }
sandbox="https://127.0.0.1:$sandbox_port"
sandbox_curl() { curl -fsS --cacert "$out/sandbox/ca.pem" "$@"; }
broker="$(pgrep -f "beam.smp.*deploy/local/var/bench" | head -n 1)"
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# CPU milliseconds (user + system) of this shell's finished children (h2load's, once it returned):
# `times` must run in the shell itself, not in a $( ) subshell, so it writes a file read after.
children_ms() {
  sed -n 2p "$out/times.txt" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); t += p[1] * 60000 + p[2] * 1000 } print int(t) }'
}

# Waits until the stand-in accepted $1 pushes since its reset; fails after $2 seconds.
wait_accepted() {
  local want="$1" limit=$(( $2 * 10 )) got=0
  for _ in $(seq 1 "$limit"); do
    got=$(sandbox_curl "$sandbox/sandbox/stats" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["accepted"].values()))')
    [ "$got" -ge "$want" ] && return 0
    sleep 0.1
  done
  echo "the stand-in accepted $got of $want pushes in $2 s"; return 1
}

# Records one phase: the stand-in's stats and the CPU ticks each process used during it (the
# gateway's since it started). The stand-in is reset before the client starts.
#   phase NAME COMMAND... (runs COMMAND, which returns once the pushes are all in)
reset_sandbox() { sandbox_curl -X POST "$sandbox/sandbox/reset"; }
phase() {
  local name="$1"; shift
  local s b c g=0 gpid="${gateway:-}"
  times > "$out/times.txt"
  s=$(ticks "$sandbox_pid"); b=$(ticks "$broker"); c=$(children_ms)
  "$@"
  times > "$out/times.txt"
  [ -n "$gpid" ] && g=$(ticks "$gpid")
  sandbox_curl "$sandbox/sandbox/stats" > "$out/$name-stats.json"
  printf '{"sandbox_ticks": %d, "broker_ticks": %d, "gateway_ticks": %d, "children_ms": %d}\n' \
    "$(( $(ticks "$sandbox_pid") - s ))" "$(( $(ticks "$broker") - b ))" "$g" "$(( $(children_ms) - c ))" > "$out/$name-cpu.json"
}

token="$("$bin/herald-push-sandbox" --dir "$out/sandbox" --print-provider-token)"
device="$(printf '%s' 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef)"
printf '%s' '{"aps":{"alert":{"title":"Bench notification","body":"A benchmark body of a typical length."},"sound":"default"}}' > "$out/payload.json"
h2() {
  h2load -n "$pushes" "$@" -H "authorization: bearer $token" -H "apns-topic: org.herald.sandbox" \
    -H "apns-push-type: alert" -H "apns-priority: 10" -H "content-type: application/json" \
    -d "$out/payload.json" "$sandbox/3/device/$device"
}
echo "==> h2load: $pushes APNs pushes, one connection, 64 streams"
reset_sandbox
phase h2load-1x64 h2 -c 1 -m 64 -t 1 | tee "$out/h2load-1x64.txt" | grep -E "finished in|status codes"
echo "==> h2load: $pushes APNs pushes, two connections of 32 streams, two threads"
reset_sandbox
phase h2load-2x32 h2 -c 2 -m 32 -t 2 | tee "$out/h2load-2x32.txt" | grep -E "finished in|status codes"

set -a; . "$out/sandbox/gateway.env"; set +a
# Starts a fresh gateway (the sent-envelope ledger in its own SQLite file, so nothing is skipped as a copy).
start_gateway() {
  HERALD_DB_PATH="$out/$1.sqlite" "$bin/herald-gateway" > "$out/$1-gateway.log" 2>&1 &
  gateway=$!; pids+=("$gateway")
}
stop_gateway() {
  kill -TERM "$gateway"; wait "$gateway" 2>/dev/null || true
  gateway=""
}

echo "==> $waiting envelopes (both platforms) waiting, then a fresh gateway drains them"
"$bin/herald-load" envelopes --count "$waiting" --platform both --json | tee "$out/waiting-publish.json"
gateway=""
reset_sandbox
start_gateway waiting
phase waiting wait_accepted "$waiting" 300
echo "{\"vmhwm_kib\": $(awk '/VmHWM/ {print $2}' "/proc/$gateway/status"), \"vmrss_kib\": $(awk '/VmRSS/ {print $2}' "/proc/$gateway/status")}" | tee "$out/waiting-memory.json"
stop_gateway

echo "==> $pushes iOS envelopes waiting, then a fresh gateway drains them"
"$bin/herald-load" envelopes --count "$pushes" --platform ios --json | tee "$out/gateway-publish.json"
reset_sandbox
start_gateway gateway-ios
phase gateway-ios wait_accepted "$pushes" 600
echo "{\"vmhwm_kib\": $(awk '/VmHWM/ {print $2}' "/proc/$gateway/status")}" > "$out/gateway-ios-memory.json"
curl -fs "http://127.0.0.1:$HERALD_GATEWAY_METRICS_PORT/metrics" > "$out/gateway-ios-metrics.txt" || true
stop_gateway

python3 deploy/bench/gateway_table.py "$out" "$pushes" "$waiting"
