#!/usr/bin/env bash
# Runs an isolated RabbitMQ node as a plain process (no systemd, no Docker),
# with all its state under deploy/local/var/<name>/ (git-ignored).
#
#   deploy/local/broker.sh start [NAME] [PORT]   start and wait until it accepts connections
#   deploy/local/broker.sh stop  [NAME]          stop it (returns when the node has exited)
#   deploy/local/broker.sh stop-app|start-app [NAME]   stop/start only the broker app (fault tests)
#   deploy/local/broker.sh kill [NAME]          SIGKILL the node, as a crash or a lost machine would end it
#   deploy/local/broker.sh status [NAME]
#   deploy/local/broker.sh cluster N [NAME] [PORT]   start N nodes NAME-1..NAME-N on PORT..PORT+N-1, joined
#                                                    into one cluster with one Erlang cookie (default: 3 c 5680)
#   deploy/local/broker.sh stop-cluster [NAME]       stop every node of that cluster
#   deploy/local/broker.sh cluster-url [NAME]        the HERALD_AMQP_URL that lists every node of it
#
# A cluster's nodes are ordinary nodes named NAME-1 … NAME-N: stop, start, stop-app, start-app and
# ctl act on one of them (`broker.sh stop c-2`), and a node started again rejoins its cluster.
#
# NAME defaults to "dev" on port 5672; tests use their own name and port. The node listens on
# 127.0.0.1 unless HERALD_LOCAL_LISTEN names another address of this host (the multi-host test's).
# With HERALD_BROKER_TLS_DIR (holding ca.pem, server.pem and server.key) and HERALD_BROKER_TLS_PORT,
# `start` also opens an amqps:// listener on that port, asking clients for a certificate signed by
# that CA without requiring one (the TLS test's).
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
case "$cmd" in cluster|stop-cluster|cluster-url) ;; *)
if [ "$cmd" != start ] && [ ! -d "$base" ]; then
  echo "broker $node not running (never started from $here)"
  [ "$cmd" = stop ] && exit 0
  exit 1
fi ;;
esac

# The node names of cluster NAME, one per line (the members it was started with).
cluster_members() { cat "$here/var/$1.cluster" 2>/dev/null; }

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
    # A cluster's node pauses itself (closing its clients' connections) while it sees no majority
    # of the cluster, so clients move to a node that can still confirm (see `cluster` below).
    if [ -f "$base/cluster" ]; then echo "cluster_partition_handling = pause_minority" >> "$base/rabbitmq.conf"; fi
    if [ -n "${HERALD_BROKER_TLS_DIR:-}" ]; then
      tls="$HERALD_BROKER_TLS_DIR"
      cat >> "$base/rabbitmq.conf" <<CONF
listeners.ssl.default = $listen:${HERALD_BROKER_TLS_PORT:?HERALD_BROKER_TLS_PORT names the amqps:// port}
ssl_options.cacertfile = $tls/ca.pem
ssl_options.certfile = $tls/server.pem
ssl_options.keyfile = $tls/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
CONF
    fi
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
  kill)
    if [ -f "$base/rabbit.pid" ] && kill -0 "$(cat "$base/rabbit.pid")" 2>/dev/null; then
      pid="$(cat "$base/rabbit.pid")"
      kill -KILL "$pid"
      while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
      echo "broker $node killed"
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
  cluster)
    # broker.sh cluster N [NAME] [PORT]: the arguments move one place to the right.
    count="${2:-3}"; cluster="${3:-c}"; first_port="${4:-5680}"
    [[ "$count" =~ ^[1-9]$ ]] || { echo "cluster: N must be 1-9, not '$count'" >&2; exit 2; }
    mkdir -p "$here/var"
    # One Erlang cookie for every node of the cluster (and for rabbitmqctl talking to any of them).
    cookie="$here/var/$cluster.cookie"
    [ -f "$cookie" ] || { head -c 30 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$cookie"; chmod 400 "$cookie"; }
    : > "$here/var/$cluster.cluster"
    for i in $(seq 1 "$count"); do
      member="$cluster-$i"
      mkdir -p "$here/var/$member/home"
      if ! cmp -s "$cookie" "$here/var/$member/home/.erlang.cookie"; then
        rm -f "$here/var/$member/home/.erlang.cookie"
        cp "$cookie" "$here/var/$member/home/.erlang.cookie"
        chmod 400 "$here/var/$member/home/.erlang.cookie"
      fi
      echo "$member" >> "$here/var/$cluster.cluster"
      echo "$cluster" > "$here/var/$member/cluster"
    done
    # Nodes that were clustered before wait for each other at boot: start them all at once.
    pids=()
    for i in $(seq 1 "$count"); do
      "$0" start "$cluster-$i" "$((first_port + i - 1))" > "$here/var/$cluster-$i.start.log" 2>&1 &
      pids+=($!)
    done
    failed=0
    for i in "${!pids[@]}"; do
      wait "${pids[$i]}" || { failed=1; cat "$here/var/$cluster-$((i + 1)).start.log" >&2; }
    done
    [ "$failed" -eq 0 ] || exit 1
    seed="herald-$cluster-1@localhost"
    for i in $(seq 2 "$count"); do
      member="$cluster-$i"
      if ! "$0" ctl "$member" cluster_status --formatter json 2>/dev/null | grep -q "\"$seed\""; then
        "$0" ctl "$member" stop_app >/dev/null
        "$0" ctl "$member" join_cluster "$seed" >/dev/null
        "$0" ctl "$member" start_app >/dev/null
        "$0" ctl "$member" await_startup --timeout 60 >/dev/null
      fi
    done
    echo "cluster $cluster: $count nodes up, $("$0" cluster-url "$cluster")"
    ;;
  stop-cluster)
    cluster="${2:-c}"
    for member in $(cluster_members "$cluster"); do "$0" stop "$member" & done
    wait
    ;;
  cluster-url)
    cluster="${2:-c}"
    members="$(cluster_members "$cluster")"
    [ -n "$members" ] || { echo "no cluster $cluster was started from $here" >&2; exit 1; }
    entries=()
    for member in $members; do entries+=("$listen:$(cat "$here/var/$member/port")"); done
    (IFS=,; echo "amqp://guest:guest@${entries[*]}/%2f")
    ;;
  *)
    echo "usage: $0 start|stop|kill|stop-app|start-app|status|ctl [NAME] [PORT] | cluster N [NAME] [PORT] | stop-cluster|cluster-url [NAME]" >&2; exit 2 ;;
esac
