#!/usr/bin/env bash
# make stop: stop herald-ingest, herald-dispatcher, herald-gateway and herald-push-sandbox (SIGTERM,
# graceful), then the local broker.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state="$root/.herald"
for name in ingest gateway dispatcher push-sandbox; do
  pidfile="$state/$name.pid"
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    # Each service drains within HERALD_SHUTDOWN_TIMEOUT (30 s) and exits by itself 5 s later at most.
    for _ in $(seq 1 400); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "stopped herald-$name"
  fi
  rm -f "$pidfile"
done
[ "${1:-}" = "--services-only" ] && exit 0
"$root/deploy/local/broker.sh" stop dev
