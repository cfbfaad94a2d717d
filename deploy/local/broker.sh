#!/usr/bin/env bash
# Runs an isolated RabbitMQ node as a plain process (no systemd, no Docker),
# with all its state under deploy/local/var/<name>/ (git-ignored).
#
#   deploy/local/broker.sh start [NAME] [PORT]   start and wait until it accepts connections
#   deploy/local/broker.sh stop  [NAME]          stop it (returns when the node has exited)
#   deploy/local/broker.sh stop-app|start-app [NAME]   stop/start only the broker app (fault tests)
#   deploy/local/broker.sh status [NAME]
#
# NAME defaults to "dev" on port 5672; tests use their own name and port. The node listens on
# 127.0.0.1 unless HERALD_LOCAL_LISTEN names another address of this host (the multi-host test's).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cmd="${1:-status}"
name="${2:-dev}"
port="${3:-5672}"
base="$here/var/$name"
node="herald-$name@localhost"
listen="${HERALD_LOCAL_LISTEN:-127.0.0.1}"
bin=/usr/lib/rabbitmq/bin

env_for_node() {
  mkdir -p "$base/home" "$base/log"
  export HOME="$base/home"
  # rabbitmqctl is an Erlang node too: a crash dump must land here, not in the caller's directory.
  export ERL_CRASH_DUMP="$base/log/erl_crash.dump"
  export RABBITMQ_NODENAME="$node"
  export RABBITMQ_NODE_IP_ADDRESS="$listen"
  export RABBITMQ_NODE_PORT="$port"
  export RABBITMQ_DIST_PORT="$((port + 20000))"
  export RABBITMQ_MNESIA_BASE="$base/mnesia"
  export RABBITMQ_LOG_BASE="$base/log"
  export RABBITMQ_PID_FILE="$base/rabbit.pid"
  export RABBITMQ_CONF_ENV_FILE="$base/rabbitmq-env.conf"
  export RABBITMQ_CONFIG_FILE="$base/rabbitmq"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins"
}

ctl() { "$bin/rabbitmqctl" -n "$node" "$@"; }

# Every command but start needs a node that was started here at least once.
if [ "$cmd" != start ] && [ ! -d "$base" ]; then
  echo "broker $node not running (never started from $here)"
  [ "$cmd" = stop ] && exit 0
  exit 1
fi

case "$cmd" in
  start)
    [ -x "$bin/rabbitmq-server" ] || { echo "RabbitMQ is not installed: run deploy/local/install-deps.sh (make run and make test do)" >&2; exit 1; }
    if [ -f "$base/port" ]; then port="$(cat "$base/port")"; fi
    env_for_node
    mkdir -p "$HOME" "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
    echo "$port" > "$base/port"
    : > "$RABBITMQ_CONF_ENV_FILE"
    echo "[]." > "$RABBITMQ_ENABLED_PLUGINS_FILE"
    cat > "$base/rabbitmq.conf" <<CONF
listeners.tcp.default = $listen:$port
loopback_users = none
log.console = false
log.file.level = warning
CONF
    if ctl status >/dev/null 2>&1; then
      echo "broker $node already running on $listen:$port"
      exit 0
    fi
    "$bin/rabbitmq-server" -detached
    ctl wait "$RABBITMQ_PID_FILE" --timeout 60 >/dev/null
    ctl await_startup --timeout 60 >/dev/null
    echo "broker $node up on amqp://guest:guest@$listen:$port/%2f (data in $base)"
    ;;
  stop)
    [ -f "$base/port" ] && port="$(cat "$base/port")"
    env_for_node
    if ctl status >/dev/null 2>&1; then
      ctl stop "$RABBITMQ_PID_FILE" >/dev/null
      echo "broker $node stopped"
    else
      echo "broker $node not running"
    fi
    ;;
  stop-app)
    [ -f "$base/port" ] && port="$(cat "$base/port")"
    env_for_node; ctl stop_app >/dev/null ;;
  start-app)
    [ -f "$base/port" ] && port="$(cat "$base/port")"
    env_for_node; ctl start_app >/dev/null; ctl await_startup --timeout 60 >/dev/null ;;
  status)
    [ -f "$base/port" ] && port="$(cat "$base/port")"
    env_for_node
    if ctl status >/dev/null 2>&1; then echo "running: $node on 127.0.0.1:$port"; else echo "not running: $node"; exit 1; fi
    ;;
  ctl)
    [ -f "$base/port" ] && port="$(cat "$base/port")"
    env_for_node; shift 2; ctl "$@" ;;
  *)
    echo "usage: $0 start|stop|stop-app|start-app|status|ctl [NAME] [PORT]" >&2; exit 2 ;;
esac
