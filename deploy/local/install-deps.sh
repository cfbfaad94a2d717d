#!/usr/bin/env bash
# Installs the Debian packages Herald needs, if any is missing; the lists are in deploy/packages.env.
#   install-deps.sh                 build, test and run locally (adds the broker and curl)
#   install-deps.sh --build-only    build only (deploy/Dockerfile's build stage)
#   install-deps.sh PKG...          also these (the benchmark, the compose check)
set -euo pipefail
# shellcheck source=../packages.env
. "$(dirname "${BASH_SOURCE[0]}")/../packages.env"
if [ "${1:-}" = "--build-only" ]; then
  shift
  read -r -a packages <<< "$BUILD_PACKAGES"
else
  read -r -a packages <<< "$BUILD_PACKAGES $LOCAL_PACKAGES"
fi
packages+=("$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
