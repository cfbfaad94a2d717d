#!/usr/bin/env bash
# Several test "hosts" on one machine: one network namespace per host, each with a veth pair on one
# bridge, addresses from 198.18.77.0/24 (RFC 2544's benchmarking range, which exists only on these
# links) and no route anywhere else. The machine itself is 198.18.77.1 on the bridge, so tools run
# outside every host reach all of them. Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN).
#
#   deploy/local/hosts.sh up              make the bridge and every host (after removing old ones)
#   deploy/local/hosts.sh down            kill what runs in the hosts, remove them and the bridge
#   deploy/local/hosts.sh exec HOST CMD…  run CMD inside HOST
#   deploy/local/hosts.sh cut|mend HOST   set HOST's link down / up (a cable pulled and put back)
#   deploy/local/hosts.sh address HOST    HOST's address
#   deploy/local/hosts.sh list            every host and its address
#
# Hosts: broker, db, ingest1, ingest2, dispatch1, dispatch2, dispatch3.
set -euo pipefail

bridge=herald-br0
prefix=198.18.77
declare -A octet=([broker]=2 [db]=3 [ingest1]=11 [ingest2]=12 [dispatch1]=21 [dispatch2]=22 [dispatch3]=23)
hosts=(broker db ingest1 ingest2 dispatch1 dispatch2 dispatch3)

namespace() { echo "herald-$1"; }
veth() { echo "hv-$1"; }
known() { [ -n "${octet[$1]:-}" ] || { echo "unknown host '$1' (hosts: ${hosts[*]})" >&2; exit 2; }; }

down() {
  for host in "${hosts[@]}"; do
    ns="$(namespace "$host")"
    ip netns list | grep -qw "$ns" || continue
    # Processes keep a namespace alive after `ip netns del`: end them first.
    pids="$(ip netns pids "$ns" || true)"
    [ -n "$pids" ] && kill -CONT $pids 2>/dev/null; [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    ip netns del "$ns" 2>/dev/null || true
  done
  for host in "${hosts[@]}"; do ip link del "$(veth "$host")" 2>/dev/null || true; done
  ip link del "$bridge" 2>/dev/null || true
}

up() {
  down
  ip link add "$bridge" type bridge
  ip addr add "$prefix.1/24" dev "$bridge"
  ip link set "$bridge" up
  for host in "${hosts[@]}"; do
    ns="$(namespace "$host")"
    ip netns add "$ns"
    ip link add "$(veth "$host")" type veth peer name eth0 netns "$ns"
    ip link set "$(veth "$host")" master "$bridge" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$prefix.${octet[$host]}/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
}

cmd="${1:-list}"
case "$cmd" in
  up) up ;;
  down) down ;;
  exec) known "${2:-}"; ns="$(namespace "$2")"; shift 2; exec ip netns exec "$ns" "$@" ;;
  cut) known "${2:-}"; ip link set "$(veth "$2")" down ;;
  mend) known "${2:-}"; ip link set "$(veth "$2")" up ;;
  address) known "${2:-}"; echo "$prefix.${octet[$2]}" ;;
  list) for host in "${hosts[@]}"; do echo "$host $prefix.${octet[$host]}"; done ;;
  *) echo "usage: $0 up|down|exec HOST CMD…|cut HOST|mend HOST|address HOST|list" >&2; exit 2 ;;
esac
