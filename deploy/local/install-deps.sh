#!/usr/bin/env bash
# Installs the Debian packages Herald needs to build, test and run, if any is missing.
set -euo pipefail
# Extra package names may be given as arguments (the benchmark adds wrk).
packages=(rabbitmq-server librabbitmq-dev libsqlite3-dev pkg-config curl "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
