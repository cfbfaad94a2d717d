#!/usr/bin/env bash
# Drives the admin console in headless Chromium (Debian's chromium and chromium-driver, selenium
# from PyPI in .herald/venv) against a real herald-ingest and herald-dispatcher on the test broker:
# Tests/Browser/console_test.py. make test runs it after the Swift tests.
# HERALD_SCREENSHOTS=DIR keeps a screenshot of every page there (the README's come from docs/console).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
: "${HERALD_TEST_AMQP_URL:?run through make test, which starts the broker}"
bin="${HERALD_BIN_DIR:-$(swift build --show-bin-path)}"
deploy/local/install-deps.sh chromium chromium-driver python3-venv
venv="$root/.herald/venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c "import selenium" 2>/dev/null; then
  echo "==> installing selenium into .herald/venv (PyPI)"
  "$venv/bin/pip" install -q --disable-pip-version-check selenium==4.38.0
fi

port="${HERALD_BROWSER_PORT:-18282}"
export HERALD_JWT_SECRET="browser-secret-browser-secret-browser-secret" HERALD_LOG_LEVEL=info HERALD_LOG_FORMAT=json
# shellcheck source=scratch-stack.sh
. deploy/local/scratch-stack.sh
scratch_stack "$port" dispatcher

echo "==> the admin console in headless Chromium (Tests/Browser/console_test.py)"
status=0
HERALD_CONSOLE_URL="http://127.0.0.1:$port" \
HERALD_ADMIN_TOKEN="$("$bin/heraldctl" token issue --tenant contoso --principal admin)" \
HERALD_HELPDESK_TOKEN="$("$bin/heraldctl" token issue --tenant contoso --principal ops-bot)" \
HERALD_CTL="$bin/heraldctl" HERALD_SCREENSHOTS="${HERALD_SCREENSHOTS:-$root/.herald/screenshots}" \
  "$venv/bin/python" Tests/Browser/console_test.py || status=$?
# Neither service may have logged a title, a body or a push token while the browser used the console.
for log in "$work/ingest.log" "$work/dispatcher.log"; do
  if grep -E "Fire drill|east stairs|Restart your iPad|restart today|0a1b2c3d4e5f6071|9f8e7d6c5b4a:APA91b" "$log"; then
    echo "a service logged notification text or a push token: $log"; status=1
  fi
done
[ "$status" -eq 0 ] || { echo "browser test failed; ingest log tail:"; tail -n 20 "$work/ingest.log"; }
exit "$status"
