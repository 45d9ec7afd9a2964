package metrics_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/nexthop-router/nexthop/arp"
	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/ipv4"
	"github.com/nexthop-router/nexthop/ipv6"
	"github.com/nexthop-router/nexthop/link/memlink"
	"github.com/nexthop-router/nexthop/metrics"
	"github.com/nexthop-router/nexthop/stack"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.prom from the current exposition")

const goldenPath = "testdata/golden.prom"

// The test router: NIC i (1, 2) is "eth<i>" with 198.18.i.1/24 and
// 2001:db8:i::1/64 and MAC 02:00:00:00:0i:01; host i sits behind it at
// .2 / ::2 with MAC 02:00:00:00:0i:02, in the neighbour caches as static
// entries. 198.19.0.0/24 is routed via 198.18.2.99, which nobody answers
// for (a resolution stays INCOMPLETE); 198.19.1.0/24 is a blackhole;
// 2001:db8:99::/48 is routed via host 2.
func routerMAC(i int) stack.LinkAddress { return stack.LinkAddress{2, 0, 0, 0, byte(i), 1} }
func hostMAC(i int) stack.LinkAddress   { return stack.LinkAddress{2, 0, 0, 0, byte(i), 2} }
func hostIP4(i int) netip.Addr          { return netip.AddrFrom4([4]byte{198, 18, byte(i), 2}) }
func hostIP6(i int) netip.Addr {
	return netip.MustParseAddr(fmt.Sprintf("2001:db8:%d::2", i))
}

type testRouter struct {
	t    *testing.T
	s    *stack.Stack
	w    *stack.Worker
	nic  [3]*stack.NIC
	rt   [3]*memlink.Endpoint
	host [3]*memlink.Endpoint
}

func newTestRouter(t *testing.T) *testRouter {
	t.Helper()
	r := &testRouter{t: t}
	r.s = stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{
			ipv4.NewProtocolWithOptions(ipv4.DefaultOptions()),
			arp.NewProtocol,
			ipv6.NewProtocolWithOptions(ipv6.Options{}),
		},
		Clock: stack.NewFakeClock(),
	})
	for i := 1; i <= 2; i++ {
		a, b := memlink.NewPair(memlink.Options{LinkAddress: routerMAC(i)}, memlink.Options{LinkAddress: hostMAC(i)})
		nic, err := r.s.CreateNIC(stack.NICID(i), fmt.Sprintf("eth%d", i), a)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{fmt.Sprintf("198.18.%d.1/24", i), fmt.Sprintf("2001:db8:%d::1/64", i)} {
			if err := nic.AddAddress(netip.MustParsePrefix(p)); err != nil {
				t.Fatal(err)
			}
		}
		nic.Neighbors(stack.IPv4ProtocolNumber).AddStatic(hostIP4(i), hostMAC(i))
		nic.Neighbors(stack.IPv6ProtocolNumber).AddStatic(hostIP6(i), hostMAC(i))
		if err := nic.Enable(); err != nil {
			t.Fatal(err)
		}
		b.Discard() // gratuitous ARP and unsolicited Neighbor Advertisements
		r.nic[i], r.rt[i], r.host[i] = nic, a, b
	}
	for _, rt := range []stack.Route{
		{Prefix: netip.MustParsePrefix("198.19.0.0/24"), NextHops: []stack.NextHop{{Gateway: netip.MustParseAddr("198.18.2.99"), NIC: 2}}},
		{Prefix: netip.MustParsePrefix("198.19.1.0/24"), Type: stack.RouteBlackhole},
		{Prefix: netip.MustParsePrefix("2001:db8:99::/48"), NextHops: []stack.NextHop{{Gateway: hostIP6(2), NIC: 2}}},
	} {
		if err := r.s.Routes().Add(rt); err != nil {
			t.Fatalf("add route %v: %v", rt.Prefix, err)
		}
	}
	w, err := r.s.NewWorker()
	if err != nil {
		t.Fatal(err)
	}
	r.w = w
	t.Cleanup(func() {
		for i := 1; i <= 2; i++ {
			r.nic[i].Neighbors(stack.IPv4ProtocolNumber).Flush()
			r.nic[i].Neighbors(stack.IPv6ProtocolNumber).Flush()
			r.host[i].Discard()
			r.rt[i].Discard()
		}
		if n := r.s.Frames().Outstanding(); n != 0 {
			t.Errorf("stack frame pool: %d frames leaked", n)
		}
	})
	return r
}

// inject sends frames from host i and runs the router on them, then takes
// whatever the router sent off both links.
func (r *testRouter) inject(i int, frames ...[]byte) {
	r.t.Helper()
	for _, f := range frames {
		if err := r.host[i].WriteFrame(f); err != nil {
			r.t.Fatal(err)
		}
	}
	r.rt[i].PollAll(r.w)
	r.host[1].Discard()
	r.host[2].Discard()
}

func ether(i int, etherType uint16, payload []byte) []byte {
	b := make([]byte, header.EthernetMinimumSize+len(payload))
	header.EncodeEthernet(b, routerMAC(i), hostMAC(i), etherType)
	copy(b[header.EthernetMinimumSize:], payload)
	return b
}

// v4 is a frame from host 1 carrying an IPv4 packet to dst with ttl; icmp
// selects an echo request instead of a UDP datagram.
func v4(dst string, ttl uint8, icmp bool) []byte {
	payload := make([]byte, 8+32)
	proto := header.IPv4ProtocolUDP
	if icmp {
		proto = header.IPv4ProtocolICMP
		header.EncodeICMPv4(payload, header.ICMPv4Echo, 0, 0x12340001)
	} else {
		binary.BigEndian.PutUint16(payload[0:], 40000)
		binary.BigEndian.PutUint16(payload[2:], 9)
		binary.BigEndian.PutUint16(payload[4:], uint16(len(payload)))
	}
	b := make([]byte, header.IPv4MinimumSize+len(payload))
	header.EncodeIPv4(b, header.IPv4Fields{
		TotalLength: uint16(len(b)), ID: 1, TTL: ttl, Protocol: proto,
		Src: hostIP4(1).As4(), Dst: netip.MustParseAddr(dst).As4(),
	})
	copy(b[header.IPv4MinimumSize:], payload)
	return ether(1, header.EtherTypeIPv4, b)
}

// v6 is a frame from host 1 carrying an IPv6 packet to dst with hop limit
// hop; icmp selects an echo request instead of a UDP datagram.
func v6(dst string, hop uint8, icmp bool) []byte {
	src, d := hostIP6(1).As16(), netip.MustParseAddr(dst).As16()
	payload := make([]byte, 8+32)
	next := header.IPv6ProtocolUDP
	if icmp {
		next = header.IPv6ProtocolICMPv6
		header.EncodeICMPv6(payload, header.ICMPv6EchoRequest, 0, 0x12340001, src, d)
	} else {
		binary.BigEndian.PutUint16(payload[0:], 40000)
		binary.BigEndian.PutUint16(payload[2:], 9)
		binary.BigEndian.PutUint16(payload[4:], uint16(len(payload)))
	}
	b := make([]byte, header.IPv6MinimumSize+len(payload))
	header.EncodeIPv6(b, header.IPv6Fields{PayloadLength: uint16(len(payload)), NextHeader: next, HopLimit: hop, Src: src, Dst: d})
	copy(b[header.IPv6MinimumSize:], payload)
	return ether(1, header.EtherTypeIPv6, b)
}

// The traffic the golden exposition records, all from host 1.
const (
	nForwarded4   = 5 // UDP to host 2
	nTTLExpired4  = 3 // TTL 1: Time Exceeded
	nUnrouted4    = 2 // 198.18.200.1: no route, Destination Unreachable
	nBlackhole4   = 1 // 198.19.1.1: blackhole route
	nEcho4        = 2 // echo requests to the router
	nForwarded6   = 4 // UDP to host 2 and to 2001:db8:99::1
	nHopExpired6  = 2 // hop limit 1: Time Exceeded
	nEcho6        = 1 // echo request to the router
	nUnresolved4  = 1 // to 198.19.0.5 via 198.18.2.99: INCOMPLETE, queued
	forwardedSize = header.IPv4MinimumSize + 8 + 32
)

func (r *testRouter) sendTraffic() {
	var fs [][]byte
	for range nForwarded4 {
		fs = append(fs, v4("198.18.2.2", 64, false))
	}
	for range nTTLExpired4 {
		fs = append(fs, v4("198.18.2.2", 1, false))
	}
	for range nUnrouted4 {
		fs = append(fs, v4("198.18.200.1", 64, false))
	}
	for range nBlackhole4 {
		fs = append(fs, v4("198.19.1.1", 64, false))
	}
	for range nEcho4 {
		fs = append(fs, v4("198.18.1.1", 64, true))
	}
	for range nUnresolved4 {
		fs = append(fs, v4("198.19.0.5", 64, false))
	}
	for i := range nForwarded6 {
		dst := "2001:db8:2::2"
		if i%2 == 1 {
			dst = "2001:db8:99::1"
		}
		fs = append(fs, v6(dst, 64, false))
	}
	for range nHopExpired6 {
		fs = append(fs, v6("2001:db8:2::2", 1, false))
	}
	for range nEcho6 {
		fs = append(fs, v6("2001:db8:1::1", 64, true))
	}
	r.inject(1, fs...)
}

// fakeSource serves the stack plus fixed worker, link and reload samples.
type fakeSource struct{ s *stack.Stack }

func (f fakeSource) Stack() *stack.Stack { return f.s }
func (f fakeSource) Healthy() bool       { return true }
func (f fakeSource) Workers() []metrics.WorkerSample {
	return []metrics.WorkerSample{
		{Queue: 0, Busy: 1500 * time.Millisecond, Idle: 4500 * time.Millisecond, Packets: 1000, Batches: 40},
		{Queue: 1, Packets: 0},
	}
}
func (f fakeSource) Reloads() metrics.ReloadSample {
	return metrics.ReloadSample{Succeeded: 2, Failed: 1, LastSuccess: time.Unix(1767225600, 0), Last: metrics.ReloadFailed}
}
func (f fakeSource) Links() []metrics.LinkSample {
	return []metrics.LinkSample{
		{
			Interface: "eth1", Mode: "packetmmap",
			RX: []metrics.RXQueueSample{{Queue: "0", Packets: 20, Bytes: 1800, KernelDrops: 3}, {Queue: "1", Packets: 1, Bytes: 60, Truncated: 1, Outgoing: 2}},
			TX: []metrics.TXQueueSample{{Queue: "control", Packets: 2, Bytes: 120}, {Queue: "0", Packets: 7, Bytes: 630, RingFull: 4}, {Queue: "1", TooBig: 1, Errors: 2, KernelGSO: 3}},
		},
		{
			Interface: "eth2", Mode: "afxdp", HasFillRing: true,
			RX: []metrics.RXQueueSample{{Queue: "0", Packets: 5, Bytes: 450, FillRingEmpty: 9}},
			TX: []metrics.TXQueueSample{{Queue: "control", Packets: 1, Bytes: 42}, {Queue: "0", Packets: 9, Bytes: 810}},
		},
	}
}

// gather registers a Collector over src in a pedantic registry (which
// checks every metric against its Describe) and gathers once.
func gather(t *testing.T, src metrics.Source) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(metrics.NewCollector(src)); err != nil {
		t.Fatalf("register: %v", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	return mfs
}

func exposition(t *testing.T, mfs []*dto.MetricFamily) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// value finds the sample of family name whose labels include want.
func value(t *testing.T, mfs []*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for k, v := range want {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Errorf("no sample %s%v", name, want)
	return -1
}

func TestCollectorGolden(t *testing.T) {
	r := newTestRouter(t)
	r.sendTraffic()
	got := exposition(t, gather(t, fakeSource{r.s}))
	if *update {
		if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test ./metrics/ -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("exposition differs from %s (go test ./metrics/ -run Golden -update rewrites it after a deliberate change):\n%s",
			goldenPath, lineDiff(string(want), string(got)))
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}

// TestCollectorValues checks the counters the traffic must have moved,
// so the golden file is known to be right and not only stable.
func TestCollectorValues(t *testing.T) {
	r := newTestRouter(t)
	r.sendTraffic()
	mfs := gather(t, fakeSource{r.s})
	l := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		// ipv4 counts a packet forwarded when it hands it to the egress
		// NIC, before neighbour resolution: the one waiting for
		// 198.18.2.99 counts too.
		{"router_ip_forwarded_packets_total", l("interface", "eth1", "ip", "4"), nForwarded4}, // the queued packet is not forwarded (yet)
		{"router_ip_forwarded_bytes_total", l("interface", "eth1", "ip", "4"), nForwarded4 * forwardedSize},
		{"router_ip_forwarded_packets_total", l("interface", "eth2", "ip", "4"), 0},
		{"router_ip_forwarded_packets_total", l("interface", "eth1", "ip", "6"), nForwarded6},
		{"router_ip_dropped_packets_total", l("interface", "eth1", "ip", "4", "reason", "exhausted_ttl"), nTTLExpired4},
		{"router_ip_dropped_packets_total", l("interface", "eth1", "ip", "4", "reason", "unrouteable"), nUnrouted4},
		{"router_ip_dropped_packets_total", l("interface", "eth1", "ip", "4", "reason", "route_blackhole"), nBlackhole4},
		{"router_ip_dropped_packets_total", l("interface", "eth1", "ip", "6", "reason", "exhausted_ttl"), nHopExpired6},
		{"router_ip_dropped_packets_total", l("interface", "eth2", "ip", "6", "reason", "gso_unsupported"), 0},
		{"router_ip_packets_received_total", l("interface", "eth1", "ip", "4"), nForwarded4 + nTTLExpired4 + nUnrouted4 + nBlackhole4 + nEcho4 + nUnresolved4},
		{"router_ip_packets_delivered_total", l("interface", "eth1", "ip", "4"), nEcho4},
		{"router_icmp_messages_received_total", l("interface", "eth1", "ip", "4", "type", "echo_request"), nEcho4},
		{"router_icmp_messages_sent_total", l("interface", "eth1", "ip", "4", "type", "echo_reply"), nEcho4},
		{"router_icmp_messages_sent_total", l("interface", "eth1", "ip", "4", "type", "time_exceeded"), nTTLExpired4},
		{"router_icmp_messages_sent_total", l("interface", "eth1", "ip", "4", "type", "dst_unreachable"), nUnrouted4},
		{"router_icmp_messages_sent_total", l("interface", "eth1", "ip", "6", "type", "time_exceeded"), nHopExpired6},
		{"router_icmp_messages_received_total", l("interface", "eth1", "ip", "6", "type", "echo_request"), nEcho6},
		{"router_neighbor_entries", l("interface", "eth2", "ip", "4", "state", "incomplete"), 1},
		{"router_neighbor_entries", l("interface", "eth2", "ip", "4", "state", "static"), 1},
		{"router_neighbor_entries", l("interface", "eth1", "ip", "6", "state", "static"), 1},
		{"router_neighbor_resolutions_started_total", l("interface", "eth2", "ip", "4"), 1},
		{"router_arp_packets_sent_total", l("interface", "eth2", "type", "request"), 2}, // gratuitous + resolution
		{"router_routes", l("ip", "4", "type", "unicast"), 3},                           // two connected + one static
		{"router_routes", l("ip", "4", "type", "blackhole"), 1},
		{"router_routes", l("ip", "6", "type", "unicast"), 3},
		{"router_worker_busy_ratio", l("queue", "0"), 0.25},
		{"router_worker_busy_ratio", l("queue", "1"), 0},
		{"router_link_kernel_drops_total", l("interface", "eth1", "queue", "0"), 3},
		{"router_link_tx_ring_full_total", l("interface", "eth1", "queue", "0"), 4},
		{"router_link_rx_fill_ring_empty_total", l("interface", "eth2", "queue", "0"), 9},
		{"router_config_reloads_total", l("result", "failure"), 1},
		{"router_config_last_reload_success_timestamp_seconds", nil, 1767225600},
		{"router_config_last_reload_successful", nil, 0},
		{"router_healthy", nil, 1},
	} {
		if got := value(t, mfs, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// A packetmmap link has no fill ring: no series for it.
	for _, mf := range mfs {
		if mf.GetName() == "router_link_rx_fill_ring_empty_total" && len(mf.GetMetric()) != 1 {
			t.Errorf("router_link_rx_fill_ring_empty_total has %d series, want 1 (the AF_XDP link's)", len(mf.GetMetric()))
		}
	}
	// Every reason, zero or not, for every interface and version.
	for _, mf := range mfs {
		if mf.GetName() == "router_ip_dropped_packets_total" {
			if n, want := len(mf.GetMetric()), 2*2*int(stack.NumDropReasons); n != want {
				t.Errorf("router_ip_dropped_packets_total has %d series, want %d (2 interfaces × 2 versions × every reason)", n, want)
			}
		}
	}
}

// TestCollectorNoStack covers a Source without a stack (nothing to read
// yet): the runtime families still export and nothing panics.
func TestCollectorNoStack(t *testing.T) {
	mfs := gather(t, fakeSource{})
	if got := value(t, mfs, "router_healthy", nil); got != 1 {
		t.Errorf("router_healthy = %v, want 1", got)
	}
}

// TestGoldenPromtool lints the golden exposition with promtool check
// metrics (DESIGN.md §4: the names must pass it).
func TestGoldenPromtool(t *testing.T) {
	promtool := lookPromtool(t)
	f, err := os.Open(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = f
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics %s: %v\n%s", goldenPath, err, out)
	}
	t.Logf("promtool check metrics %s: ok %s", goldenPath, bytes.TrimSpace(out))
}

func lookPromtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not on PATH (make deps installs Debian's prometheus package, which has it)")
	}
	return p
}

// TestAlertRules checks alerts.yml with promtool check rules, then runs
// the rule unit tests of testdata/alerts_test.yml, which make each alert
// fire on series named and labelled as the Collector exports them.
func TestAlertRules(t *testing.T) {
	promtool := lookPromtool(t)
	for _, args := range [][]string{
		{"check", "rules", "alerts.yml"},
		{"test", "rules", "testdata/alerts_test.yml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Logf("promtool %s: %s", strings.Join(args, " "), bytes.TrimSpace(out))
	}
}

// TestExampleScrapeConfig checks prometheus.yml with promtool check
// config (the rule file it names is resolved next to it).
func TestExampleScrapeConfig(t *testing.T) {
	promtool := lookPromtool(t)
	abs, err := filepath.Abs("prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "config", abs).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config prometheus.yml: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
}

// dashboardExprs returns the PromQL expressions of the Grafana dashboard, with
// Grafana's $__rate_interval replaced by a fixed range so they parse.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	var out []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, strings.ReplaceAll(tg.Expr, "$__rate_interval", "5m"))
		}
	}
	if len(out) == 0 {
		t.Fatal("grafana-dashboard.json has no queries")
	}
	return out
}

var metricName = regexp.MustCompile(`\brouter_[a-z0-9_]+`)

// TestOpsFilesUseExportedNames checks that every router_ metric the
// dashboard and the alerts query is one the Collector exports (a renamed
// metric must not leave a silent, empty panel or a never-firing alert),
// and that every dashboard query parses as PromQL.
func TestOpsFilesUseExportedNames(t *testing.T) {
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	alerts, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	exprs := dashboardExprs(t)
	check := func(file, text string) {
		for _, name := range metricName.FindAllString(text, -1) {
			if name == "router_build_info" {
				continue // registered by cmd/router, not the Collector
			}
			if !bytes.Contains(golden, []byte("# TYPE "+name+" ")) {
				t.Errorf("%s queries %s, which the Collector does not export", file, name)
			}
		}
	}
	check("alerts.yml", string(alerts))
	check("grafana-dashboard.json", strings.Join(exprs, "\n"))

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not on PATH: dashboard queries not parsed")
		return
	}
	// promtool parses the queries as recording rules.
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range exprs {
		q, _ := json.Marshal(e)
		fmt.Fprintf(&rules, "      - record: dashboard_query_%d\n        expr: %s\n", i, q)
	}
	f := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(f, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", f).CombinedOutput(); err != nil {
		t.Errorf("dashboard queries do not parse: %v\n%s", err, out)
	}
}

// TestREADMEListsEveryMetric keeps the README's Metrics table in step
// with what the Collector exports.
func TestREADMEListsEveryMetric(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(golden), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name = strings.Fields(name)[0]
			if !bytes.Contains(readme, []byte("| `"+name+"` |")) {
				t.Errorf("README.md's Metrics table lacks %s", name)
			}
		}
	}
}
