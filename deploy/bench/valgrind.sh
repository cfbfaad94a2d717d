#!/usr/bin/env bash
# Installs the valgrind make bench-instructions counts with, under .herald/tools, and prints the
# folder it is in. Debian bookworm's valgrind (3.19) cannot read the DWARF 5 of Swift 6.3's binaries,
# so this takes Debian trixie's 3.24 package (checked against its SHA-256) and unpacks it without
# installing it: its tools are static and its launcher runs on bookworm's C library. Bookworm's own
# valgrind package is installed too, for callgrind_control and vgdb (trixie's need glibc 2.38).
# deb.debian.org keeps only a suite's current version: when trixie's valgrind is updated, the download
# fails with a 404, and version and sha256 below must follow (only deb.debian.org is reachable here).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
version="3.24.0-3"
sha256="0359e30820ccee7ee5c8d4c951ca276e3978b18f157d71bd77981de05b344907"
dir="$root/.herald/tools/valgrind-$version"
deploy/local/install-deps.sh valgrind >&2
if [ ! -x "$dir/usr/bin/valgrind" ]; then
  echo "==> valgrind $version (Debian trixie) into $dir" >&2
  mkdir -p "$root/.herald/tools"
  deb="$root/.herald/tools/valgrind_${version}_amd64.deb"
  curl -fsS -o "$deb" "http://deb.debian.org/debian/pool/main/v/valgrind/valgrind_${version}_amd64.deb"
  echo "$sha256  $deb" | sha256sum --check --quiet
  rm -rf "$dir.tmp"; dpkg-deb -x "$deb" "$dir.tmp"; mv "$dir.tmp" "$dir"; rm -f "$deb"
fi
if [ ! -f "$dir/sigsuspend-copy.so" ] || [ deploy/bench/sigsuspend-copy.c -nt "$dir/sigsuspend-copy.so" ]; then
  "${CC:-clang}" -O2 -shared -fPIC -o "$dir/sigsuspend-copy.so" deploy/bench/sigsuspend-copy.c
fi
echo "$dir"
