#!/usr/bin/env bash
# Runs an isolated PostgreSQL server (Debian's postgresql) as a plain process (no systemd, no Docker),
# with its data and socket under deploy/local/var/pg-<name>/ (git-ignored), on 127.0.0.1.
#
#   deploy/local/postgres.sh start  [NAME] [PORT]   initdb on first use, start, wait, create database "herald"
#   deploy/local/postgres.sh stop   [NAME]          fast shutdown (returns when the server has exited)
#   deploy/local/postgres.sh pause|resume [NAME]    SIGSTOP / SIGCONT the server (fault tests)
#   deploy/local/postgres.sh url    [NAME]          the HERALD_DATABASE_URL of the server
#   deploy/local/postgres.sh status [NAME]
#
# NAME defaults to "dev" on port 5433 (5432 is left to a server the package itself may start);
# tests use their own name and port. The server listens on 127.0.0.1 unless HERALD_LOCAL_LISTEN
# names another address of this host (the multi-host test's); it then also lets in the hosts of
# that address's subnet. PostgreSQL refuses to run as root, so the server runs as the
# `postgres` user the package creates; the data folder belongs to it, and the folders above it are
# given passage for others (o+x, never read) when they lack it. With HERALD_POSTGRES_TLS_DIR (holding
# server.pem and server.key), `start` turns TLS on and rejects every TCP connection without it
# (the TLS test's).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cmd="${1:-status}"
name="${2:-dev}"
port="${3:-5433}"
base="$here/var/pg-$name"
data="$base/data"
listen="${HERALD_LOCAL_LISTEN:-127.0.0.1}"
bin="$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pid() { [ -f "$data/postmaster.pid" ] && head -n 1 "$data/postmaster.pid"; }
running() { [ -n "$(pid 2>/dev/null)" ] && kill -0 "$(pid)" 2>/dev/null; }
url() { echo "postgres://herald@$(cat "$base/listen" 2>/dev/null || echo 127.0.0.1):$(cat "$base/port")/herald"; }

if [ "$cmd" != start ] && [ ! -d "$base" ]; then
  echo "postgres $name not running (never started from $here)"
  [ "$cmd" = stop ] && exit 0
  exit 1
fi

case "$cmd" in
  start)
    [ -n "$bin" ] || { echo "PostgreSQL is not installed: run deploy/local/install-deps.sh (make test does)" >&2; exit 1; }
    [ -f "$base/port" ] && port="$(cat "$base/port")"
    mkdir -p "$base"
    echo "$port" > "$base/port"
    echo "$listen" > "$base/listen"
    if [ "$(id -u)" -eq 0 ]; then
      # The postgres user must be able to pass through every folder above its data folder.
      dir="$base"
      while [ "$dir" != / ]; do
        [ -n "$(find "$dir" -maxdepth 0 -perm -o+x)" ] || chmod o+x "$dir"
        dir="$(dirname "$dir")"
      done
      mkdir -p "$data"
      chown postgres: "$data"
      chmod 700 "$data"
    fi
    if running; then echo "postgres $name already running on $listen:$port"; exit 0; fi
    if [ ! -f "$data/PG_VERSION" ]; then
      as_postgres "$bin/initdb" -D "$data" -A trust -U postgres --no-sync >/dev/null
    fi
    if [ "$listen" != 127.0.0.1 ] && ! grep -q '^host all all samenet trust' "$data/pg_hba.conf"; then
      echo "host all all samenet trust" >> "$data/pg_hba.conf"
    fi
    tls_options=""
    if [ -n "${HERALD_POSTGRES_TLS_DIR:-}" ]; then
      # TLS only: the server's certificate and key (owned by postgres, mode 600, as the server
      # insists), and every connection without TLS rejected.
      install -o postgres -m 600 "$HERALD_POSTGRES_TLS_DIR/server.pem" "$data/server.crt"
      install -o postgres -m 600 "$HERALD_POSTGRES_TLS_DIR/server.key" "$data/server.key"
      grep -q '^hostnossl all all all reject' "$data/pg_hba.conf" || sed -i '1i hostnossl all all all reject' "$data/pg_hba.conf"
      tls_options="-c ssl=on -c ssl_cert_file=$data/server.crt -c ssl_key_file=$data/server.key"
    fi
    # Every Herald process holds its pool open (HERALD_DATABASE_POOL_SIZE, 8), and make test runs
    # many stacks at once against one server.
    as_postgres "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
      -o "-p $port -k $data -c listen_addresses=$listen -c fsync=off -c max_connections=400 $tls_options" start >/dev/null
    # With TLS only, through the socket folder, which pg_hba still lets in without TLS.
    psql_host="$listen"
    [ -n "${HERALD_POSTGRES_TLS_DIR:-}" ] && psql_host="$data"
    psql=("$bin/psql" -h "$psql_host" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
    if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'herald'")" ]; then
      "${psql[@]}" -c "CREATE ROLE herald LOGIN CREATEDB"
    fi
    if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'herald'")" ]; then
      "${psql[@]}" -c "CREATE DATABASE herald OWNER herald"
    fi
    echo "postgres $name up on $(url) (data in $data)"
    ;;
  stop)
    if running; then
      kill -CONT "$(pid)" $(pgrep -P "$(pid)") 2>/dev/null || true   # a paused server could not stop
      as_postgres "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
      echo "postgres $name stopped"
    else
      echo "postgres $name not running"
    fi
    ;;
  # The postmaster and every backend it started: a paused server answers nobody.
  # The server first, so that it forks no backend after its children were listed; then them all.
  pause) kill -STOP "$(pid)"; kill -STOP $(pgrep -P "$(pid)") ;;
  resume) kill -CONT "$(pid)" $(pgrep -P "$(pid)") ;;
  url) url ;;
  status)
    if running; then echo "running: postgres $name on $(url)"; else echo "not running: postgres $name"; exit 1; fi
    ;;
  *)
    echo "usage: $0 start|stop|pause|resume|url|status [NAME] [PORT]" >&2; exit 2 ;;
esac
