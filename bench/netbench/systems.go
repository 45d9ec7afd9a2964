package netbench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// System names, in report order; the first is the baseline.
const (
	SysKernel        = "linux-kernel"
	SysPacketMMAP    = "nexthop-packetmmap"
	SysAFXDPGeneric  = "nexthop-afxdp-generic"
	SysAFXDPDriver   = "nexthop-afxdp-driver"
	SysXDPRedirect   = "xdp-redirect"
	defaultSystemSet = SysKernel + "," + SysPacketMMAP + "," + SysAFXDPGeneric + "," + SysAFXDPDriver + "," + SysXDPRedirect
)

// AllSystems is every system `bench net` knows, in report order.
var AllSystems = strings.Split(defaultSystemSet, ",")

// system is how one system under test is set up and torn down.
type system struct {
	name string
	// kind: "kernel", "router" or "xdpfwd".
	kind string
	// mode is the router's link mode; xdp is the XDP attach mode its log
	// must report ("XDP driver mode" / "XDP generic mode").
	mode, xdp string
}

// systemByName returns the set-up of the system called name (one of
// AllSystems), or an error listing the known names.
func systemByName(name string) (system, error) {
	switch name {
	case SysKernel:
		return system{name: name, kind: "kernel"}, nil
	case SysPacketMMAP:
		return system{name: name, kind: "router", mode: "packetmmap"}, nil
	case SysAFXDPGeneric:
		return system{name: name, kind: "router", mode: "afxdp", xdp: "generic"}, nil
	case SysAFXDPDriver:
		return system{name: name, kind: "router", mode: "afxdp", xdp: "driver"}, nil
	case SysXDPRedirect:
		return system{name: name, kind: "xdpfwd"}, nil
	}
	return system{}, fmt.Errorf("unknown system %q (known: %s)", name, defaultSystemSet)
}

// running is a started system.
type running struct {
	sys    system
	router *proc
	fwds   []*proc
}

// errUnavailable marks a system this build cannot run (xdpfwd not built
// yet); it is skipped with a note rather than counted as a failure.
var errUnavailable = errors.New("not available in this build")

// startSystem brings sys up on the DUT and waits until it forwards both
// ways (the DUT has then resolved the receiver by ARP/NDP itself).
func (b *benchRun) startSystem(ctx context.Context, sys system) (*running, error) {
	t := b.topo
	rs := &running{sys: sys}
	switch sys.kind {
	case "kernel":
		steps := [][]string{
			{"ip", "addr", "add", dutAV4 + v4Len, "dev", t.a},
			{"ip", "-6", "addr", "add", dutAV6 + v6Len, "dev", t.a, "nodad"},
			{"ip", "addr", "add", dutBV4 + v4Len, "dev", t.b},
			{"ip", "-6", "addr", "add", dutBV6 + v6Len, "dev", t.b, "nodad"},
			{"sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"},
		}
		for _, s := range steps {
			if _, err := nsRun(ctx, t.dut, s...); err != nil {
				b.stopSystem(rs)
				return nil, err
			}
		}
	case "router":
		if sys.xdp == "generic" {
			if err := b.hostTXQueues(ctx, 2); err != nil {
				return nil, err
			}
		}
		cfg := filepath.Join(b.tmp, sys.name+".yaml")
		if err := os.WriteFile(cfg, []byte(RouterConfig(t.a, t.b, sys.mode)), 0o644); err != nil {
			return nil, err
		}
		pr, err := b.procs.start("router ("+sys.name+")", dutArgv(t.dut, b.opts.RouterBin, "-config", cfg))
		if err != nil {
			b.stopSystem(rs)
			return nil, err
		}
		rs.router = pr
		if err := b.waitHealthy(ctx, pr); err != nil {
			b.stopSystem(rs)
			return nil, err
		}
		if sys.xdp != "" {
			want := "XDP " + sys.xdp + " mode"
			if !strings.Contains(pr.stderr.String(), want) {
				log := pr.stderr.String()
				b.stopSystem(rs)
				return nil, fmt.Errorf("router log lacks %q, so the figure would be mislabelled:\n%s", want, trunc(log, 2000))
			}
		}
	case "xdpfwd":
		for _, dir := range [][3]string{{t.a, t.b, macR}, {t.b, t.a, macG}} {
			pr, err := b.procs.start("xdpfwd "+dir[0], dutArgv(t.dut, b.opts.BenchBin, "xdpfwd", "-in", dir[0], "-out", dir[1], "-dst-mac", dir[2], "-mode", "native"))
			if err != nil {
				b.stopSystem(rs)
				return nil, err
			}
			rs.fwds = append(rs.fwds, pr)
			if err := waitReady(ctx, pr, 10*time.Second); err != nil {
				b.stopSystem(rs)
				return nil, err
			}
		}
	}
	if err := b.warmUp(ctx); err != nil {
		b.stopSystem(rs)
		return nil, fmt.Errorf("%s does not forward: %w", sys.name, err)
	}
	return rs, nil
}

// stopSystem undoes startSystem.
func (b *benchRun) stopSystem(rs *running) {
	if rs == nil {
		return
	}
	t := b.topo
	ctx := context.Background()
	switch rs.sys.kind {
	case "kernel":
		_, _ = nsRun(ctx, t.dut, "sysctl", "-qw", "net.ipv4.ip_forward=0", "net.ipv6.conf.all.forwarding=0")
		// Delete the global addresses one by one: a flush would also take
		// the link-local ones, after which IPv6 neighbour discovery on the
		// port stops (LINUX-NOTES).
		for _, s := range [][]string{
			{"ip", "addr", "del", dutAV4 + v4Len, "dev", t.a},
			{"ip", "-6", "addr", "del", dutAV6 + v6Len, "dev", t.a},
			{"ip", "addr", "del", dutBV4 + v4Len, "dev", t.b},
			{"ip", "-6", "addr", "del", dutBV6 + v6Len, "dev", t.b},
		} {
			_, _ = nsRun(ctx, t.dut, s...)
		}
		_, _ = nsRun(ctx, t.dut, "ip", "neigh", "flush", "all")
	case "router":
		if rs.router != nil {
			rs.router.stop(5 * time.Second)
		}
		if rs.sys.xdp == "generic" {
			_ = b.hostTXQueues(ctx, 1)
		}
	case "xdpfwd":
		for _, f := range rs.fwds {
			f.stop(3 * time.Second)
		}
	}
}

// hostTXQueues sets the hosts' TX queue count. Two TX queues against the
// DUT ports' one RX queue rule out driver-mode XDP (ENOSPC), so a router
// in mode afxdp falls back to generic — how the end-to-end tests select
// it. XPS keeps every CPU on TX queue 0, so all frames still reach the
// DUT's one RX queue (and its pinned napi instance).
func (b *benchRun) hostTXQueues(ctx context.Context, n int) error {
	t := b.topo
	for _, nd := range [][2]string{{t.gen, t.g}, {t.recv, t.r}} {
		if _, err := nsRun(ctx, nd[0], "ethtool", "-L", nd[1], "tx", strconv.Itoa(n)); err != nil {
			return err
		}
		if n > 1 {
			if _, err := nsRun(ctx, nd[0], "sh", "-c", "echo 3 > /sys/class/net/"+nd[1]+"/queues/tx-0/xps_cpus"); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitHealthy waits until the router's /healthz answers 200.
func (b *benchRun) waitHealthy(ctx context.Context, pr *proc) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if pr.exited() {
			return fmt.Errorf("router exited during start-up: %v\n%s", pr.err, trunc(pr.stderr.String(), 2000))
		}
		out, _ := run(ctx, nsArgv(b.topo.dut, hostCPU, "curl", "-s", "-m", "1", "-o", "/dev/null", "-w", "%{http_code}", "http://"+metricsListen+"/healthz")...)
		if out == "200" {
			return nil
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("router not healthy within 15 s:\n%s", trunc(pr.stderr.String(), 2000))
}

// waitReady waits for a line "ready" on the process's stdout.
func waitReady(ctx context.Context, pr *proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(pr.stdout.String()))
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "ready" {
				return nil
			}
		}
		if pr.exited() {
			msg := strings.TrimSpace(pr.stderr.String() + pr.stdout.String())
			if strings.Contains(msg, "not yet") || strings.Contains(msg, "unknown command") {
				return fmt.Errorf("%s: %w (%s)", pr.name, errUnavailable, trunc(msg, 200))
			}
			return fmt.Errorf("%s exited before it was ready: %v: %s", pr.name, pr.err, trunc(msg, 1000))
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s printed no \"ready\" within %v", pr.name, timeout)
}

// warmUp pings the receiver from the generator over both IP versions until
// both answer: the DUT resolves the receiver (ARP/NDP) before any trial.
func (b *benchRun) warmUp(ctx context.Context) error {
	for _, dst := range []string{recvV4, recvV6} {
		var err error
		for i := 0; i < 40; i++ {
			var out string
			out, err = nsRun(ctx, b.topo.gen, "ping", "-c", "1", "-W", "1", dst)
			if err == nil && strings.Contains(out, " 0% packet loss") {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if e := sleepCtx(ctx, 100*time.Millisecond); e != nil {
				return e
			}
		}
		if err != nil {
			return fmt.Errorf("ping %s from the generator: %w", dst, err)
		}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// routerMetrics is what the benchmark reads from the router's /metrics.
type routerMetrics struct {
	Mallocs   float64 // go_memstats_mallocs_total
	Forwarded float64 // sum of router_ip_forwarded_packets_total
}

// parseMetrics reads the two figures from a Prometheus text exposition.
func parseMetrics(text string) (routerMetrics, error) {
	var m routerMetrics
	seenMallocs := false
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, ok := strings.Cut(line, " ")
		if i := strings.IndexByte(line, '{'); i >= 0 {
			name = line[:i]
			j := strings.LastIndexByte(line, '}')
			if j < 0 {
				continue
			}
			rest, ok = strings.TrimSpace(line[j+1:]), true
		}
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_memstats_mallocs_total":
			m.Mallocs, seenMallocs = v, true
		case "router_ip_forwarded_packets_total":
			m.Forwarded += v
		}
	}
	if !seenMallocs {
		return m, errors.New("/metrics has no go_memstats_mallocs_total")
	}
	return m, nil
}

// scrape fetches the router's /metrics inside the DUT namespace (curl
// runs on the host core, so it does not load the DUT core).
func (b *benchRun) scrape(ctx context.Context) (routerMetrics, error) {
	out, err := run(ctx, nsArgv(b.topo.dut, hostCPU, "curl", "-s", "-m", "3", "http://"+metricsListen+"/metrics")...)
	if err != nil {
		return routerMetrics{}, err
	}
	return parseMetrics(out)
}

// vmHWM is the peak RSS of pid in MiB, from /proc/PID/status.
func vmHWM(pid int) (float64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	return parseVmHWM(string(data))
}

func parseVmHWM(status string) (float64, error) {
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseFloat(f[0], 64)
				if err == nil {
					return kb / 1024, nil
				}
			}
		}
	}
	return 0, errors.New("no VmHWM line in /proc/PID/status")
}

// waitPacketSocket waits until the process pr has a packet socket bound to
// an interface: /proc/PID/net/packet lists the packet sockets of its
// namespace, and the Iface column is set by bind. Only bench recv opens one
// in the receiver namespace.
func waitPacketSocket(ctx context.Context, pr *proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	path := "/proc/" + strconv.Itoa(pr.pid()) + "/net/packet"
	for time.Now().Before(deadline) {
		if pr.exited() {
			return fmt.Errorf("%s exited at start: %v: %s", pr.name, pr.err, trunc(pr.stderr.String(), 500))
		}
		if data, err := os.ReadFile(path); err == nil && boundPacketSocket(string(data)) {
			return sleepCtx(ctx, 20*time.Millisecond) // rings are mapped right after bind
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s opened no bound packet socket within %v", pr.name, timeout)
}

// boundPacketSocket reports whether a /proc/net/packet listing has a
// socket bound to an interface (Iface, the fifth column, not 0).
func boundPacketSocket(listing string) bool {
	lines := strings.Split(listing, "\n")
	for _, l := range lines[min(1, len(lines)):] {
		f := strings.Fields(l)
		if len(f) >= 5 && f[4] != "0" {
			return true
		}
	}
	return false
}
