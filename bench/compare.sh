#!/usr/bin/env bash
# Quick comparison, same topology and same run: ping RTT and iperf3 TCP
# through nexthop vs through Linux kernel forwarding, plus a direct veth as
# the floor. Host A — router namespace — host B; the router namespace
# either forwards in the kernel (addresses on r1/r2, ip_forward=1) or runs
# bin/router (no kernel addresses). Runs alternate so drift hits both.
# Usage (root): bench/compare.sh [rounds]   — prints a Markdown table.
# MODE=afxdp adds rounds through nexthop with `mode: afxdp`, XDP in generic
# and in driver mode; AF_XDP carries no checksum or GSO metadata, so then
# the hosts' TX checksum offload (and TSO) is off for every path.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
MODE=${MODE:-}
[ "$(id -u)" = 0 ] || { echo "compare.sh: run as root" >&2; exit 1; }
make --no-print-directory build >/dev/null

id=$$
A=nhcmp-a-$id R=nhcmp-r-$id B=nhcmp-b-$id D1=nhcmp-d1-$id D2=nhcmp-d2-$id
dir=$(mktemp -d /tmp/nexthop-compare.XXXXXX)
router_pid=""
cleanup() {
  set +e
  [ -n "$router_pid" ] && kill "$router_pid" 2>/dev/null && wait "$router_pid" 2>/dev/null
  for ns in $A $R $B $D1 $D2; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for ns in $A $R $B $D1 $D2; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n $A link add a0 type veth peer name r1 netns $R
ip -n $B link add b0 type veth peer name r2 netns $R
ip -n $D1 link add d0 type veth peer name d1 netns $D2
for l in "$A a0" "$B b0" "$R r1" "$R r2" "$D1 d0" "$D2 d1"; do set -- $l; ip -n "$1" link set "$2" up; done
ip -n $A addr add 198.18.1.2/24 dev a0; ip -n $A route add default via 198.18.1.1
ip -n $B addr add 198.18.2.2/24 dev b0; ip -n $B route add default via 198.18.2.1
ip -n $D1 addr add 198.18.3.1/24 dev d0; ip -n $D2 addr add 198.18.3.2/24 dev d1

cat > "$dir/router.yaml" <<YAML
interfaces:
  - name: r1
    addresses: [198.18.1.1/24]
  - name: r2
    addresses: [198.18.2.1/24]
metrics:
  listen: ""
YAML
sed 's/^  - name: \(r[12]\)$/  - name: \1\n    mode: afxdp/' "$dir/router.yaml" > "$dir/router-afxdp.yaml"
if [ "$MODE" = afxdp ]; then
  ip netns exec $A ethtool -K a0 tx off >/dev/null; ip netns exec $B ethtool -K b0 tx off >/dev/null
  ip netns exec $D1 ethtool -K d0 tx off >/dev/null
  echo "MODE=afxdp: host TX checksum offload and TSO off on every path" >&2
fi

kernel_on() {
  ip -n $R addr add 198.18.1.1/24 dev r1; ip -n $R addr add 198.18.2.1/24 dev r2
  ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
}
kernel_off() {
  ip -n $R addr flush dev r1 scope global; ip -n $R addr flush dev r2 scope global
  ip netns exec $R sysctl -qw net.ipv4.ip_forward=0
  ip -n $A neigh flush all; ip -n $B neigh flush all
}
nexthop_on() {
  ip netns exec $R bin/router -config "$dir/${1:-router.yaml}" 2>"$dir/router.log" &
  router_pid=$!
  for _ in $(seq 100); do ip netns exec $A ping -c1 -W0.1 198.18.1.1 >/dev/null 2>&1 && break; sleep 0.05; done
}
nexthop_off() { kill "$router_pid"; wait "$router_pid" 2>/dev/null || true; router_pid=""; ip -n $A neigh flush all; ip -n $B neigh flush all; }

# ping: 300 echo requests at 100/s; prints avg RTT in µs.
rtt() { ip netns exec "$1" ping -q -c 300 -i 0.01 "$2" | awk -F'[/ ]' '/rtt/ {printf "%.0f", $8*1000}'; }
# iperf3: one TCP stream (cubic), 5 s; prints Gbit/s received.
tput() {
  ip netns exec "$3" iperf3 -s -1 -B "$2" >/dev/null 2>&1 & local s=$!
  sleep 0.3
  ip netns exec "$1" iperf3 -c "$2" -t 5 -C cubic -f g | awk '/receiver/ {for (i = 1; i < NF; i++) if ($(i+1) == "Gbits/sec") print $i}'
  wait $s 2>/dev/null || true
}

# hosts_txq N: the hosts send on N TX queues; 2 (more than the router
# side's one active RX queue) rules out driver-mode XDP, so AF_XDP runs
# generic.
hosts_txq() { ip netns exec $A ethtool -L a0 tx "$1"; ip netns exec $B ethtool -L b0 tx "$1"; }
xdp_mode() { grep -o 'XDP [a-z]* mode' "$dir/router.log" | sort -u | paste -sd, -; }

declare -a d_rtt k_rtt n_rtt d_bw k_bw n_bw g_rtt g_bw x_rtt x_bw
for i in $(seq "$rounds"); do
  d_rtt+=("$(rtt $D1 198.18.3.2)"); d_bw+=("$(tput $D1 198.18.3.2 $D2)")
  kernel_on;  k_rtt+=("$(rtt $A 198.18.2.2)"); k_bw+=("$(tput $A 198.18.2.2 $B)"); kernel_off
  nexthop_on; n_rtt+=("$(rtt $A 198.18.2.2)"); n_bw+=("$(tput $A 198.18.2.2 $B)"); nexthop_off
  line="round $i: direct ${d_rtt[-1]} µs ${d_bw[-1]} Gbit/s | kernel ${k_rtt[-1]} µs ${k_bw[-1]} Gbit/s | nexthop ${n_rtt[-1]} µs ${n_bw[-1]} Gbit/s"
  if [ "$MODE" = afxdp ]; then
    hosts_txq 2; nexthop_on router-afxdp.yaml; gm=$(xdp_mode)
    g_rtt+=("$(rtt $A 198.18.2.2)"); g_bw+=("$(tput $A 198.18.2.2 $B)"); nexthop_off; hosts_txq 1
    nexthop_on router-afxdp.yaml; xm=$(xdp_mode)
    x_rtt+=("$(rtt $A 198.18.2.2)"); x_bw+=("$(tput $A 198.18.2.2 $B)"); nexthop_off
    line="$line | afxdp ($gm) ${g_rtt[-1]} µs ${g_bw[-1]} Gbit/s | afxdp ($xm) ${x_rtt[-1]} µs ${x_bw[-1]} Gbit/s"
  fi
  echo "$line" >&2
done

stats() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%s (%s–%s)", m, a[1], a[NR]}'; }
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "| path | ping RTT avg, µs: median (min–max) | iperf3 TCP 1 stream, Gbit/s: median (min–max) |"
echo "|---|---|---|"
echo "| direct veth (floor) | $(stats "${d_rtt[@]}") | $(stats "${d_bw[@]}") |"
echo "| Linux kernel forwarding | $(stats "${k_rtt[@]}") | $(stats "${k_bw[@]}") |"
echo "| nexthop (packetmmap) | $(stats "${n_rtt[@]}") | $(stats "${n_bw[@]}") |"
if [ "$MODE" = afxdp ]; then
  echo "| nexthop (afxdp, XDP generic) | $(stats "${g_rtt[@]}") | $(stats "${g_bw[@]}") |"
  echo "| nexthop (afxdp, XDP driver) | $(stats "${x_rtt[@]}") | $(stats "${x_bw[@]}") |"
fi
kr=$(med "${k_rtt[@]}"); nr=$(med "${n_rtt[@]}"); kb=$(med "${k_bw[@]}"); nb=$(med "${n_bw[@]}")
echo
echo "nexthop vs kernel: RTT +$(awk -v a="$nr" -v b="$kr" 'BEGIN{printf "%.0f", a-b}') µs; throughput ratio $(awk -v a="$nb" -v b="$kb" 'BEGIN{printf "%.2f", a/b}')"
