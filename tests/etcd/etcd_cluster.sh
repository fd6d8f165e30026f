#!/usr/bin/env bash
# A three-member etcd cluster on 127.0.0.1 for the tests: free ports, a private data directory,
# started, checked healthy, and removed again. Usable as a command or sourced (functions below).
#
#   etcd_cluster.sh start DIR        start members 1..3 under DIR (made if absent); prints endpoints
#   etcd_cluster.sh endpoints DIR    http://127.0.0.1:P1,http://127.0.0.1:P2,http://127.0.0.1:P3
#   etcd_cluster.sh kill DIR N       SIGKILL member N (1..3), its data stays
#   etcd_cluster.sh restore DIR N    start member N again on its data and wait until it is healthy
#   etcd_cluster.sh stop DIR         kill every member and delete DIR
#
# DIR/m<N>/pid, DIR/m<N>/client_port, DIR/m<N>/log per member. Nothing outside DIR is touched.
# With ETCD_NETNS=NAME and ETCD_ADDRS="A1 A2 A3" (the e2e test), member N runs inside that network
# namespace on address AN, ports 2379 and 2380, instead of 127.0.0.1 and free ports.
set -euo pipefail

etcd_port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Six distinct free ports from 20000 up to the kernel's ephemeral range (client and peer of three
# members). Inside that range an outgoing connection may take a port between this check and
# etcd's bind (CI saw "bind: address already in use"); below it only listeners bind.
etcd_pick_ports() {
  local ports=() p low
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  ((low > 21000)) || low=60000
  while ((${#ports[@]} < 6)); do
    p=$((20000 + RANDOM % (low - 20000)))
    [[ " ${ports[*]} " == *" $p "* ]] && continue
    etcd_port_free "$p" && ports+=("$p")
  done
  echo "${ports[@]}"
}

_etcd_in_ns() {
  if [[ -n ${ETCD_NETNS:-} ]]; then ip netns exec "$ETCD_NETNS" "$@"; else "$@"; fi
}

_etcd_addr() { # N -> the address member N listens on
  if [[ -n ${ETCD_ADDRS:-} ]]; then
    local a
    read -r -a a <<<"$ETCD_ADDRS"
    echo "${a[$(($1 - 1))]}"
  else
    echo 127.0.0.1
  fi
}

etcd_member_start() {
  local dir=$1 n=$2 cluster ip
  local m="$dir/m$n"
  ip=$(_etcd_addr "$n")
  cluster=$(cat "$dir/initial_cluster")
  # A simple command, not a function: backgrounded, bash execs it, so $! is etcd itself (the pid
  # `kill` signals); a function would run in a subshell whose death leaves etcd running.
  local cmd=(etcd --name "m$n" --data-dir "$m/data" \
    --listen-client-urls "http://$ip:$(cat "$m/client_port")" \
    --advertise-client-urls "http://$ip:$(cat "$m/client_port")" \
    --listen-peer-urls "http://$ip:$(cat "$m/peer_port")" \
    --initial-advertise-peer-urls "http://$ip:$(cat "$m/peer_port")" \
    --initial-cluster "$cluster" --initial-cluster-token "$(basename "$dir")" \
    --initial-cluster-state new --heartbeat-interval 100 --election-timeout 1000)
  [[ -z ${ETCD_NETNS:-} ]] || cmd=(ip netns exec "$ETCD_NETNS" "${cmd[@]}")
  "${cmd[@]}" >>"$m/log" 2>&1 &
  echo $! >"$m/pid"
}

# Healthy = the member answers /health with "true" (it has a leader and quorum).
etcd_wait_healthy() {
  local dir=$1 n=$2 i
  for ((i = 0; i < 200; i++)); do
    if _etcd_in_ns curl -s -m 1 "http://$(_etcd_addr "$n"):$(cat "$dir/m$n/client_port")/health" 2>/dev/null |
      grep -q '"health":"true"'; then
      return 0
    fi
    sleep 0.1
  done
  echo "etcd member m$n did not become healthy; log:" >&2
  tail -20 "$dir/m$n/log" >&2
  return 1
}

etcd_cluster_endpoints() {
  local dir=$1 out="" n
  for n in 1 2 3; do out+="${out:+,}http://$(_etcd_addr "$n"):$(cat "$dir/m$n/client_port")"; done
  echo "$out"
}

etcd_cluster_start() {
  local dir=$1 ports n cluster=""
  command -v etcd >/dev/null || { echo "etcd is not installed (apt-get install etcd-server)" >&2; return 1; }
  mkdir -p "$dir"
  if [[ -n ${ETCD_ADDRS:-} ]]; then
    ports=(2379 2380 2379 2380 2379 2380)
  else
    read -r -a ports <<<"$(etcd_pick_ports)"
  fi
  for n in 1 2 3; do
    mkdir -p "$dir/m$n"
    echo "${ports[$((2 * n - 2))]}" >"$dir/m$n/client_port"
    echo "${ports[$((2 * n - 1))]}" >"$dir/m$n/peer_port"
    cluster+="${cluster:+,}m$n=http://$(_etcd_addr "$n"):${ports[$((2 * n - 1))]}"
  done
  echo "$cluster" >"$dir/initial_cluster"
  for n in 1 2 3; do etcd_member_start "$dir" "$n"; done
  for n in 1 2 3; do etcd_wait_healthy "$dir" "$n"; done
  etcd_cluster_endpoints "$dir"
}

# PID runs and has not exited yet. A member outlives the shell that started it, so its parent is
# init, which may take seconds to reap it: a zombie has closed its ports and data files already.
_etcd_running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

etcd_member_kill() {
  local dir=$1 n=$2 pid
  pid=$(cat "$dir/m$n/pid" 2>/dev/null || true)
  [[ -n "$pid" ]] || return 0
  kill -KILL "$pid" 2>/dev/null || true
  while _etcd_running "$pid"; do sleep 0.05; done
  rm -f "$dir/m$n/pid"
}

etcd_member_restore() {
  local dir=$1 n=$2
  etcd_member_start "$dir" "$n"
  etcd_wait_healthy "$dir" "$n"
}

etcd_cluster_stop() {
  local dir=$1 n
  [[ -d "$dir" ]] || return 0
  for n in 1 2 3; do etcd_member_kill "$dir" "$n"; done
  rm -rf "$dir"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  case "${1:-}" in
    start) etcd_cluster_start "$2" ;;
    endpoints) etcd_cluster_endpoints "$2" ;;
    kill) etcd_member_kill "$2" "$3" ;;
    restore) etcd_member_restore "$2" "$3" ;;
    stop) etcd_cluster_stop "$2" ;;
    *)
      echo "usage: $0 start|endpoints|stop DIR | kill|restore DIR N" >&2
      exit 2
      ;;
  esac
fi
