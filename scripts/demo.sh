#!/usr/bin/env bash
# nexthop demo: host A — router — host B in three network namespaces.
# Builds the router, starts it between the hosts, pings through it, runs
# iperf3 for a few seconds, prints throughput, latency and a metrics
# excerpt, and removes everything it made — also when interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "demo: run as root (it creates network namespaces): sudo make demo" >&2
  exit 1
fi
for tool in ip ping iperf3 curl; do
  command -v $tool >/dev/null || { echo "demo: $tool is missing; run make deps" >&2; exit 1; }
done

id=$$
A=nhdemo-a-$id R=nhdemo-r-$id B=nhdemo-b-$id
dir=$(mktemp -d /tmp/nexthop-demo.XXXXXX)
router_pid=""

cleanup() {
  set +e
  if [ -n "$router_pid" ] && kill -0 "$router_pid" 2>/dev/null; then
    kill -TERM "$router_pid"; wait "$router_pid" 2>/dev/null
  fi
  for ns in $A $R $B; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, cleaning up"; exit 130' INT TERM
# Long steps run in the background and are waited for: `wait` returns at
# once when Ctrl-C arrives, so the trap runs even when the step (ping,
# iperf3) catches SIGINT itself and exits normally.
fg() { "$@" & wait $!; }

echo "== building bin/router"
make --no-print-directory build >/dev/null

echo "== topology: $A (198.18.1.2) — $R (nexthop) — $B (198.18.2.2)"
for ns in $A $R $B; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n $A link add a0 type veth peer name r1 netns $R
ip -n $B link add b0 type veth peer name r2 netns $R
for l in "$A a0" "$B b0" "$R r1" "$R r2"; do set -- $l; ip -n "$1" link set "$2" up; done
ip -n $A addr add 198.18.1.2/24 dev a0; ip -n $A -6 addr add 2001:db8:1::2/64 dev a0 nodad
ip -n $B addr add 198.18.2.2/24 dev b0; ip -n $B -6 addr add 2001:db8:2::2/64 dev b0 nodad
ip -n $A route add default via 198.18.1.1; ip -n $A -6 route add default via 2001:db8:1::1
ip -n $B route add default via 198.18.2.1; ip -n $B -6 route add default via 2001:db8:2::1

cat > "$dir/router.yaml" <<YAML
interfaces:
  - name: r1
    addresses: [198.18.1.1/24, "2001:db8:1::1/64"]
  - name: r2
    addresses: [198.18.2.1/24, "2001:db8:2::1/64"]
metrics:
  listen: 127.0.0.1:9469
YAML

echo "== starting nexthop in $R"
ip netns exec $R bin/router -config "$dir/router.yaml" 2>"$dir/router.log" &
router_pid=$!
healthy=""
for _ in $(seq 100); do
  [ "$(ip netns exec $R curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9469/healthz)" = 200 ] && { healthy=1; break; }
  kill -0 $router_pid 2>/dev/null || { cat "$dir/router.log"; echo "demo: router failed to start"; exit 1; }
  sleep 0.1
done
[ -n "$healthy" ] || { cat "$dir/router.log"; echo "demo: router not healthy after 10 s"; exit 1; }
sed 's/^/   router: /' "$dir/router.log" | head -5

echo "== ping A → B through nexthop (IPv4 and IPv6)"
fg bash -c "ip netns exec $A ping -c 5 -i 0.2 198.18.2.2 | tail -2 | sed 's/^/   /'"
fg bash -c "ip netns exec $A ping -6 -c 5 -i 0.2 2001:db8:2::2 | tail -2 | sed 's/^/   /'"

echo "== iperf3 A → B through nexthop, 3 s, TCP (cubic)"
ip netns exec $B iperf3 -s -1 -B 198.18.2.2 >/dev/null 2>&1 &
iperf_pid=$!
sleep 0.3
fg bash -c "ip netns exec $A iperf3 -c 198.18.2.2 -t 3 -C cubic | grep -E 'sender|receiver' | sed 's/^/   /'"
wait $iperf_pid 2>/dev/null || true

echo "== metrics excerpt (http://127.0.0.1:9469/metrics inside $R)"
ip netns exec $R curl -s http://127.0.0.1:9469/metrics | grep -E '^router_(ip_forwarded|ip_dropped_packets_total.*reason="(exhausted_ttl|unrouteable)"|neighbor_entries.*state="reachable"|link_rx_packets|worker_busy_ratio|build_info)' | grep -v ' 0$' | head -15 | sed 's/^/   /'

echo "== done; removing the namespaces"
