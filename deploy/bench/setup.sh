# Sourced by the benchmark scripts, with $root and $out set: installs what is missing, builds the
# release executables ($bin), starts a fresh broker node "bench" on $HERALD_BENCH_AMQP_PORT (5674)
# with its data and $out emptied, and on exit stops every process listed in $pids, the node, and the
# PostgreSQL server "bench" if a script started one. use_store ENGINE (below) points the services at
# the SQLite file or a fresh PostgreSQL server.
# shellcheck source=../lib.sh
. deploy/lib.sh
port="${HERALD_BENCH_AMQP_PORT:-5674}"
# wrk drives ingest alone in make bench.
deploy/local/install-deps.sh wrk
echo "==> release build"
herald_build deploy/build.sh release
bin="$(swift build -c release --show-bin-path)"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  deploy/local/broker.sh stop bench >/dev/null 2>&1 || true
  deploy/local/postgres.sh stop bench >/dev/null 2>&1 || true
}
trap cleanup EXIT
deploy/local/broker.sh stop bench >/dev/null 2>&1 || true
rm -rf deploy/local/var/bench "$out"
mkdir -p "$out"
deploy/local/broker.sh start bench "$port"
export HERALD_AMQP_URL="amqp://guest:guest@127.0.0.1:$port/%2f"
export HERALD_DB_PATH="$out/herald.sqlite"

# Points the services at the store $1 names ("sqlite" or "postgres"): SQLite's file in $out, or a
# fresh PostgreSQL server "bench" on HERALD_BENCH_PG_PORT (5435).
use_store() {
  case "$1" in
    sqlite) unset HERALD_DATABASE_URL; export HERALD_DB_PATH="$out/herald.sqlite" ;;
    postgres)
      deploy/local/postgres.sh stop bench >/dev/null 2>&1 || true
      rm -rf deploy/local/var/pg-bench
      deploy/local/postgres.sh start bench "${HERALD_BENCH_PG_PORT:-5435}"
      HERALD_DATABASE_URL="$(deploy/local/postgres.sh url bench)"
      export HERALD_DATABASE_URL ;;
    *) echo "unknown engine $1 (HERALD_BENCH_ENGINES: sqlite postgres)" >&2; exit 2 ;;
  esac
}
