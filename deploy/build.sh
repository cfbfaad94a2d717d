#!/usr/bin/env bash
# Builds Herald's six executables; used by make run (debug), make bench (release) and deploy/Dockerfile
# (release, static Swift runtime), so all three build the same way.
#   deploy/build.sh debug|release [extra swift build flags...]
#   deploy/build.sh install DIR [release]    copy the executables and ingest's resources into DIR
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
products=(herald-ingest herald-dispatcher heraldctl herald-load herald-push-sandbox herald-gateway)
mode="${1:-debug}"; shift || true
case "$mode" in
  debug|release)
    for product in "${products[@]}"; do swift build -c "$mode" --product "$product" "$@"; done
    ;;
  install)
    dir="$1"; config="${2:-release}"
    bin="$(swift build -c "$config" --show-bin-path)"
    mkdir -p "$dir"
    for product in "${products[@]}"; do cp "$bin/$product" "$dir/"; done
    # Resource bundles (ingest serves /openapi.yaml from its own) must sit next to the executables.
    cp -R "$bin"/*.resources "$dir/"
    ;;
  *) echo "usage: deploy/build.sh debug|release [flags] | install DIR [debug|release]" >&2; exit 64 ;;
esac
