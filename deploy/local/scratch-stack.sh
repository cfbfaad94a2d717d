# Sourced by fuzz.sh and browser.sh (not run on its own): a scratch database holding the demo
# directory, and herald-ingest (and, if asked, herald-dispatcher) on the test broker, stopped and
# removed when the calling script exits. Needs $bin, $HERALD_TEST_AMQP_URL and HERALD_JWT_SECRET.
#   scratch_stack PORT [dispatcher]   sets $work (the scratch folder) and $ingest (its pid)
# shellcheck source=../lib.sh
. deploy/lib.sh

scratch_stack() {
  work="$(mktemp -d)"
  export HERALD_DB_PATH="$work/herald.sqlite" HERALD_HTTP_PORT="$1" HERALD_AMQP_URL="$HERALD_TEST_AMQP_URL"
  export HERALD_SHUTDOWN_DELAY=0 HERALD_DISPATCHER_METRICS_PORT=0
  "$bin/heraldctl" directory import deploy/local/demo-directory.json >/dev/null
  "$bin/herald-ingest" > "$work/ingest.log" 2>&1 &
  ingest=$!
  scratch_pids="$ingest"
  if [ "${2:-}" = dispatcher ]; then
    "$bin/herald-dispatcher" > "$work/dispatcher.log" 2>&1 &
    scratch_pids="$scratch_pids $!"
  fi
  trap 'kill -TERM $scratch_pids 2>/dev/null || true; wait $scratch_pids 2>/dev/null || true; rm -rf "$work"' EXIT
  wait_ready "http://127.0.0.1:$1/health/ready" || true
}
