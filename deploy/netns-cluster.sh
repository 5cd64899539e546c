#!/usr/bin/env bash
# A 3-node twopc cluster across Linux network namespaces on one machine: the layout of
# compose.yaml (one host per node, every node bound to its own non-loopback address, a
# shared cluster secret, peers by address) without a container engine. Run as root.
#
#   deploy/netns-cluster.sh up       bridge twopc-br0 (10.88.0.1/24), namespaces twopc-n1..3
#                                    (10.88.0.11..13), a generated secret, nodes on port 8081
#   deploy/netns-cluster.sh status   namespaces, node processes, and `twopc status`
#   deploy/netns-cluster.sh down     kill the nodes, delete namespaces and bridge, remove the
#                                    state directory; safe to run any number of times
#
# From the root namespace, through the bridge:
#   node bin/twopc.mjs commit --nodes 10.88.0.11:8081,10.88.0.12:8081,10.88.0.13:8081 \
#     --secret-file /tmp/twopc-netns/secret --payload '{"a":1}'
#
# Settings (environment): TWOPC_NETNS_DIR state directory (default /tmp/twopc-netns: secret,
# logs/, data/, pids/), TWOPC_NETNS_SIZE nodes (default 3, at most 9), NODE the node binary.
set -euo pipefail

readonly repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly state_dir="${TWOPC_NETNS_DIR:-/tmp/twopc-netns}"
readonly size="${TWOPC_NETNS_SIZE:-3}"
readonly node_bin="${NODE:-$(command -v node || true)}"
readonly bridge=twopc-br0
readonly subnet=10.88.0
readonly port=8081
readonly up_wait_s=60
readonly stop_wait_s=5

die() { echo "netns-cluster: $*" >&2; exit 2; }
ns_name() { echo "twopc-n$1"; }
node_addr() { echo "$subnet.1$1:$port"; }
all_addrs() { local i out=(); for ((i = 1; i <= size; i++)); do out+=("$(node_addr "$i")"); done; (IFS=,; echo "${out[*]}"); }
peers_of() { local i out=(); for ((i = 1; i <= size; i++)); do [[ $i == "$1" ]] || out+=("$(node_addr "$i")"); done; (IFS=,; echo "${out[*]}"); }
twopc() { "$node_bin" "$repo/bin/twopc.mjs" "$@"; }

require_root() {
  [[ $(id -u) == 0 ]] || die "run as root (network namespaces need CAP_NET_ADMIN)"
  command -v ip >/dev/null || die "the ip command (iproute2) is missing"
  [[ -n $node_bin ]] || die "node not found (set NODE=/path/to/node)"
  [[ $size =~ ^[1-9]$ ]] || die "TWOPC_NETNS_SIZE must be 1-9"
}

make_network() {
  ip link add "$bridge" type bridge
  ip addr add "$subnet.1/24" dev "$bridge"
  ip link set "$bridge" up
  local i ns
  for ((i = 1; i <= size; i++)); do
    ns=$(ns_name "$i")
    ip netns add "$ns"
    ip link add "twopc-veth$i" type veth peer name eth0 netns "$ns"
    ip link set "twopc-veth$i" master "$bridge" up
    ip -n "$ns" addr add "$subnet.1$i/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
  done
}

make_secret() {
  umask 077
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$state_dir/secret"
}

start_nodes() {
  local i
  for ((i = 1; i <= size; i++)); do
    # `ip netns exec` execs the command, so $! is the node's own pid.
    nohup ip netns exec "$(ns_name "$i")" "$node_bin" "$repo/bin/twopc.mjs" start-node \
      --addr "$(node_addr "$i")" --peers "$(peers_of "$i")" \
      --data-dir "$state_dir/data" --secret-file "$state_dir/secret" \
      >"$state_dir/logs/node$i.log" 2>&1 </dev/null &
    echo $! >"$state_dir/pids/node$i"
  done
}

wait_until_serving() {
  local deadline=$((SECONDS + up_wait_s)) alive
  while ((SECONDS < deadline)); do
    alive=$(twopc status --nodes "$(all_addrs)" --secret-file "$state_dir/secret" --json 2>/dev/null | grep -o '"alive":true' | wc -l || true)
    if ((alive == size)); then return 0; fi
    sleep 1
  done
  echo "netns-cluster: nodes not all serving after ${up_wait_s}s; logs in $state_dir/logs" >&2
  tail -n 5 "$state_dir"/logs/*.log >&2 || true
  return 1
}

cmd_up() {
  require_root
  if ip link show "$bridge" >/dev/null 2>&1; then die "already up (run down first)"; fi
  mkdir -p "$state_dir/logs" "$state_dir/data" "$state_dir/pids"
  make_network
  make_secret
  start_nodes
  wait_until_serving
  echo "up: nodes $(all_addrs); secret $state_dir/secret; logs $state_dir/logs"
}

# Is process $1 alive? A killed node this script started is reparented to init, which may
# reap it late: until then `kill -0` still succeeds on the zombie, so its state is read too.
is_running() {
  local state
  [[ -n $1 ]] && kill -0 "$1" 2>/dev/null || return 1
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
  [[ -n $state && $state != Z && $state != X ]]
}

cmd_status() {
  require_root
  local i pid
  for ((i = 1; i <= size; i++)); do
    pid=$(cat "$state_dir/pids/node$i" 2>/dev/null || true)
    if ip netns list | grep -qw "$(ns_name "$i")"; then ns=present; else ns=absent; fi
    if is_running "$pid"; then proc="running (pid $pid)"; else proc="not running"; fi
    echo "$(ns_name "$i")  $(node_addr "$i")  namespace $ns  node $proc"
  done
  [[ -f $state_dir/secret ]] || { echo "no secret: the cluster is not up"; return 0; }
  twopc status --nodes "$(all_addrs)" --secret-file "$state_dir/secret" || true
}

stop_node() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  local deadline=$((SECONDS + stop_wait_s))
  while is_running "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

cmd_down() {
  require_root
  local i pid
  for ((i = 1; i <= 9; i++)); do
    pid=$(cat "$state_dir/pids/node$i" 2>/dev/null || true)
    [[ -n $pid ]] && stop_node "$pid"
    ip netns del "$(ns_name "$i")" 2>/dev/null || true
    ip link del "twopc-veth$i" 2>/dev/null || true
  done
  ip link del "$bridge" 2>/dev/null || true
  rm -rf "$state_dir"
  echo "down"
}

case "${1:-}" in
  up) cmd_up ;;
  status) cmd_status ;;
  down) cmd_down ;;
  *) echo "usage: $0 up|status|down" >&2; exit 2 ;;
esac
