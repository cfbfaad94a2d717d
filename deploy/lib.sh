# Shared by the scripts under deploy/ (sourced, never run): the build with its log, and the wait
# for a service's readiness. The caller sets `set -euo pipefail` and runs from the repository root.

# Runs a build command with its output in .build/build.log; on failure prints the errors and exits.
#   herald_build deploy/build.sh debug
#   herald_build swift build --build-tests
herald_build() {
  mkdir -p .build
  if ! "$@" > .build/build.log 2>&1; then
    grep -E "error|warning: .*not found" .build/build.log | head -n 40
    echo "build failed ($*); full log in .build/build.log"
    exit 1
  fi
  tail -n 1 .build/build.log
}

# Waits until URL answers 2xx, polling every 0.1 s for at most SECONDS (default 10); returns 1 if it never does.
#   wait_ready http://127.0.0.1:8080/health/ready [SECONDS]
wait_ready() {
  local url="$1" tries=$(( ${2:-10} * 10 ))
  for _ in $(seq 1 "$tries"); do
    curl -fs "$url" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# Fails when a Swift file is not as `swift format` (.swift-format) would write it.
check_format() {
  mkdir -p .build
  if ! swift format lint --strict --recursive --parallel Package.swift Services Shared Tests > .build/format.log 2>&1; then
    head -n 20 .build/format.log
    echo "unformatted Swift code ($(wc -l < .build/format.log) findings; all in .build/format.log): run 'make format' and commit"
    exit 1
  fi
}
