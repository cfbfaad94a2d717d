#!/usr/bin/env bash
# Fuzzes herald-ingest from its own /openapi.yaml with schemathesis (PyPI, in a venv under .herald/):
# no generated input may get a 5xx, and ingest must still be alive afterwards.
# make test runs it after the Swift tests, on the test broker; HERALD_FUZZ_EXAMPLES sets the effort.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
: "${HERALD_TEST_AMQP_URL:?run through make test, which starts the broker}"
bin="${HERALD_BIN_DIR:-$(swift build --show-bin-path)}"
venv="$root/.herald/venv"
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "==> installing schemathesis into .herald/venv (PyPI)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check schemathesis==4.32.5
fi

port="${HERALD_FUZZ_PORT:-18181}"
export HERALD_JWT_SECRET="fuzzing-secret-fuzzing-secret-fuzzing-secret" HERALD_LOG_LEVEL=warning
# shellcheck source=scratch-stack.sh
. deploy/local/scratch-stack.sh
scratch_stack "$port"
token="$("$bin/heraldctl" token issue --tenant contoso --principal admin)"

echo "==> schemathesis against http://127.0.0.1:$port/openapi.yaml (${HERALD_FUZZ_EXAMPLES:-100} examples per operation)"
status=0
# From the scratch folder: schemathesis keeps a .schemathesis/ cache in its working directory.
(cd "$work" && "$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.yaml" \
  --checks not_a_server_error \
  --header "Authorization: Bearer $token" \
  --max-examples "${HERALD_FUZZ_EXAMPLES:-100}" \
  --seed 1 --no-color > "$work/schemathesis.txt" 2>&1) || status=$?
grep -E "test cases|passed|failed|errors|Operations|Test cases|Failures|Seed" "$work/schemathesis.txt" | tail -n 12 || true
kill -0 "$ingest" 2>/dev/null || { echo "herald-ingest died during the fuzz run"; tail -n 20 "$work/ingest.log"; exit 1; }
if [ "$status" -ne 0 ]; then
  echo "schemathesis found a problem (exit $status):"; tail -n 60 "$work/schemathesis.txt"; exit "$status"
fi
"$bin/heraldctl" queues >/dev/null  # the broker is still fine
