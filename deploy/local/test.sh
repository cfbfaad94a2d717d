#!/usr/bin/env bash
# make test: install what is missing, start a fresh broker (port 5673) and PostgreSQL server (port 5434) of its
# own, run every test, stop them. The cluster tests get a three-node broker cluster (ports 5690-5692) of their own.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
# shellcheck source=../lib.sh
. deploy/lib.sh
port="${HERALD_TEST_AMQP_PORT:-5673}"
pg_port="${HERALD_TEST_PG_PORT:-5434}"
cluster_port="${HERALD_TEST_CLUSTER_PORT:-5690}"

# docker-compose (Debian's 1.29) only validates docker-compose.yml; no Docker engine is needed.
# iproute2 makes the multi-host test's network namespaces.
deploy/local/install-deps.sh docker-compose iproute2
echo "==> checking formatting (swift format lint; 'make format' fixes it)"
check_format
deploy/local/broker.sh stop test >/dev/null 2>&1 || true
deploy/local/postgres.sh stop test >/dev/null 2>&1 || true
deploy/local/broker.sh stop-cluster tc >/dev/null 2>&1 || true
rm -rf deploy/local/var/test deploy/local/var/pg-test deploy/local/var/tc-* deploy/local/var/tc.*
cleanup() {
  deploy/local/broker.sh stop test >/dev/null 2>&1 || true
  deploy/local/broker.sh stop-cluster tc >/dev/null 2>&1 || true
  deploy/local/postgres.sh stop test >/dev/null 2>&1 || true
  # The multi-host suite removes its hosts itself; this is for a run cut short.
  [ "$(id -u)" -ne 0 ] || deploy/local/hosts.sh down >/dev/null 2>&1 || true
}
trap cleanup EXIT
deploy/local/broker.sh start test "$port"
deploy/local/postgres.sh start test "$pg_port"

echo "==> building"
herald_build swift build --build-tests
export HERALD_TEST_AMQP_URL="amqp://guest:guest@127.0.0.1:$port/%2f"
export HERALD_TEST_BROKER_NAME=test
HERALD_TEST_DATABASE_URL="$(deploy/local/postgres.sh url test)"
export HERALD_TEST_DATABASE_URL
HERALD_BIN_DIR="$(swift build --show-bin-path)"
export HERALD_BIN_DIR
echo "==> testing (broker $HERALD_TEST_AMQP_URL, PostgreSQL $HERALD_TEST_DATABASE_URL)"
set +e
swift test --skip-build --skip MultiHostTests > .build/test-output.log 2>&1
status=$?
# Herald on a three-node RabbitMQ cluster while nodes go away: alone too, with the cluster started
# just for it (three more Erlang nodes would slow everything else down).
echo "==> testing on a three-node broker cluster (deploy/local/broker.sh cluster 3)"
if deploy/local/broker.sh cluster 3 tc "$cluster_port" >> .build/test-output.log 2>&1; then
  HERALD_TEST_CLUSTER_URL="$(deploy/local/broker.sh cluster-url tc)" HERALD_TEST_CLUSTER_NAME=tc \
    swift test --skip-build --filter ClusterTests >> .build/test-output.log 2>&1
  cluster_status=$?
else
  echo "the cluster did not start; see .build/test-output.log"
  cluster_status=1
fi
deploy/local/broker.sh stop-cluster tc >/dev/null 2>&1 || true
[ "$status" -ne 0 ] || status=$cluster_status
# Herald on seven hosts (network namespaces, a broker and a PostgreSQL server of its own): alone,
# after the rest, so that neither loads the machine while the other runs. Skipped without root.
echo "==> testing on several hosts (deploy/local/hosts.sh)"
swift test --skip-build --filter MultiHostTests >> .build/test-output.log 2>&1
hosts_status=$?
[ "$status" -ne 0 ] || status=$hosts_status
set -e
# Failures in full, then the summaries (Swift Testing's last); one line per passing test is noise.
grep -E '✘|error:|Fatal error|crashed|Assertion failed' .build/test-output.log || true
grep -E '^\s*Executed [1-9][0-9]* tests' .build/test-output.log | tail -n 1 || true
grep -E '^(✔|✘) Test run with' .build/test-output.log || true
[ "$status" -eq 0 ] || { echo "tests failed (exit $status); full output in .build/test-output.log"; exit "$status"; }

# The hostile-input fuzz run: schemathesis from PyPI against ingest's own /openapi.yaml.
deploy/local/fuzz.sh

# The admin console in headless Chromium (Debian's chromium and chromium-driver, selenium from PyPI).
deploy/local/browser.sh

# RELIABILITY.md's table, as this run filled it.
mkdir -p .herald
{
  echo "| fault | load held | requests accepted | envelopes lost | duplicate envelopes (same id) | reproduce |"
  echo "|---|---|---|---|---|---|"
  grep -h '^RELIABILITY|' .build/test-output.log | sed 's/^RELIABILITY|/|/'
} > .herald/reliability-table.md
echo "==> reliability table (.herald/reliability-table.md)"
cat .herald/reliability-table.md
grep -h "^hostile input:" .build/test-output.log || true
