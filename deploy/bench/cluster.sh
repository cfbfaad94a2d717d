#!/usr/bin/env bash
# make bench-cluster: what replication costs. The raw broker ceiling and a fan-out of one send to a
# 100,000-user group (herald-dispatcher, SQLite store), on one RabbitMQ node and on a three-node
# cluster (quorum queues with a replica on every node), alternating, twice each, in one run; prints
# the table of BENCHMARKS.md. All four Erlang nodes share this machine's cores, so the cluster pays
# for its replicas in the same CPU the single node has to itself (on three machines it would not).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="$root/.herald/bench-cluster"
users="${HERALD_BENCH_USERS:-100000}"
cluster_port="${HERALD_BENCH_CLUSTER_PORT:-5695}"
# shellcheck source=setup.sh
. deploy/bench/setup.sh
export HERALD_DISPATCHER_METRICS_PORT=0 HERALD_LOG_LEVEL=warning
single="$HERALD_AMQP_URL"
deploy/local/broker.sh stop-cluster bc >/dev/null 2>&1 || true
rm -rf deploy/local/var/bc-* deploy/local/var/bc.*
stop_cluster() { cleanup; deploy/local/broker.sh stop-cluster bc >/dev/null 2>&1 || true; }
trap stop_cluster EXIT
deploy/local/broker.sh cluster 3 bc "$cluster_port"
cluster="$(deploy/local/broker.sh cluster-url bc)"

# CPU time (clock ticks) of the broker's Erlang nodes: the single node, or the three of the cluster.
broker_ticks() {
  # shellcheck disable=SC2046
  cat $(for pid in $(pgrep -f "beam.smp.*deploy/local/var/$1"); do echo "/proc/$pid/stat"; done) | awk '{s += $14 + $15} END {print s + 0}'
}

for round in 1 2; do
  for target in single cluster; do
    if [ "$target" = single ]; then url="$single"; pattern="bench/"; else url="$cluster"; pattern="bc-"; fi
    export HERALD_AMQP_URL="$url" HERALD_DB_PATH="$out/$target.sqlite"
    echo "==> $target, round $round: raw broker ceiling (herald-load broker)"
    before=$(broker_ticks "$pattern")
    "$bin/herald-load" broker --messages 200000 --json | tee "$out/$target-broker-$round.json"
    echo "$(( $(broker_ticks "$pattern") - before ))" > "$out/$target-broker-ticks-$round"
    "$bin/herald-dispatcher" > "$out/$target-dispatcher-$round.log" 2>&1 &
    dispatcher=$!; pids+=("$dispatcher")
    reuse=(); [ "$round" = 1 ] || reuse=(--reuse-directory)
    echo "==> $target, round $round: fan-out of one send to a $users-user nested group (herald-load fanout)"
    before=$(broker_ticks "$pattern")
    "$bin/herald-load" fanout --users "$users" "${reuse[@]}" --json | tee "$out/$target-fanout-$round.json"
    echo "$(( $(broker_ticks "$pattern") - before ))" > "$out/$target-fanout-ticks-$round"
    kill -TERM "$dispatcher"; wait "$dispatcher" 2>/dev/null || true
  done
done
python3 deploy/bench/cluster_table.py "$out"
