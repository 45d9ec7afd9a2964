//go:build linux

package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// healthz returns the HTTP status of /healthz inside the router namespace.
func (tp *topo) healthz() string {
	out, _ := tp.r.Try("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:9469/healthz")
	return out
}

// waitFor polls cond every 50 ms for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestEndToEndReload changes addresses and routes with SIGHUP while a ping
// on an unchanged interface keeps running: the new configuration takes
// effect and the ping loses nothing. A broken file is rejected and the
// router keeps the running configuration.
func TestEndToEndReload(t *testing.T) {
	tp := newTopo(t)
	// Start without r2's address: B is unreachable.
	first := strings.Replace(baseConfig, `addresses: [198.18.2.1/24, "2001:db8:2::1/64"]`, `addresses: ["2001:db8:2::1/64"]`, 1)
	// Its route's next hop needs r2's subnet too: the reload adds both.
	first = strings.Replace(first, "routes:\n  - prefix: 198.19.0.0/24\n    via: 198.18.2.99\n", "", 1)
	p := tp.startRouter(t, first)
	if out, err := tp.a.Try("ping", "-c", "1", "-W", "1", "198.18.2.2"); err == nil {
		t.Fatalf("B reachable before its subnet is configured:\n%s", out)
	}
	ping := tp.a.Command("ping", "-c", "40", "-i", "0.05", "-W", "1", "198.18.1.1")
	var pingOut lockedBuffer
	ping.Stdout = &pingOut
	if err := ping.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)

	cfg := cfgPath(t, p)
	if err := os.WriteFile(cfg, []byte(baseConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !waitFor(3*time.Second, func() bool { return strings.Contains(p.stderr.String(), "configuration reloaded") }) {
		t.Fatalf("no reload logged:\n%s", p.stderr.String())
	}
	if out, err := tp.a.Try("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.2.2"); err != nil {
		t.Errorf("B unreachable after the reload added 198.18.2.1/24:\n%s", out)
	}
	if err := ping.Wait(); err != nil || !strings.Contains(pingOut.String(), "40 received") {
		t.Errorf("ping to the unchanged interface during the reload lost packets (%v):\n%s", err, pingOut.String())
	}

	// A broken file: rejected, logged, the router keeps forwarding.
	if err := os.WriteFile(cfg, []byte("interfaces: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	if !waitFor(3*time.Second, func() bool { return strings.Contains(p.stderr.String(), "configuration rejected") }) {
		t.Errorf("a broken file on SIGHUP was not reported:\n%s", p.stderr.String())
	}
	if out, err := tp.a.Try("ping", "-c", "1", "-W", "2", "198.18.2.2"); err != nil || tp.healthz() != "200" {
		t.Errorf("router stopped forwarding after a rejected reload:\n%s", out)
	}
}

// cfgPath finds the -config argument the router was started with.
func cfgPath(t *testing.T, p *routerProc) string {
	for i, a := range p.cmd.Args {
		if a == "-config" && i+1 < len(p.cmd.Args) {
			return p.cmd.Args[i+1]
		}
	}
	t.Fatal("router started without -config")
	return ""
}

// TestEndToEndLinkDownUpAndMTU follows an owned port going down and up
// (/healthz says so) and an MTU change (the router's Fragmentation Needed
// reports the new MTU).
func TestEndToEndLinkDownUpAndMTU(t *testing.T) {
	tp := newTopo(t)
	p := tp.startRouter(t, baseConfig)
	tp.r.Run("ip", "link", "set", "r2", "down")
	if !waitFor(3*time.Second, func() bool { return tp.healthz() == "503" }) {
		t.Errorf("/healthz still %s with r2 down", tp.healthz())
	}
	tp.r.Run("ip", "link", "set", "r2", "up")
	if !waitFor(5*time.Second, func() bool { return tp.healthz() == "200" }) {
		t.Errorf("/healthz %s after r2 came back up\n%s", tp.healthz(), p.stderr.String())
	}
	if out, err := tp.a.Try("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.2.2"); err != nil {
		t.Errorf("no forwarding after r2 came back up:\n%s", out)
	}

	tp.r.Run("ip", "link", "set", "r2", "mtu", "1400")
	var out string
	ok := waitFor(3*time.Second, func() bool {
		out, _ = tp.a.Try("ping", "-c", "1", "-W", "1", "-M", "do", "-s", "1450", "198.18.2.2")
		return strings.Contains(out, "mtu = 1400")
	})
	if !ok {
		t.Errorf("after r2's MTU became 1400, a 1478-byte DF packet should get Frag needed (mtu = 1400):\n%s", out)
	}
}

// TestEndToEndKernelStaysOut checks the kernel of the router box neither
// forwards the router's traffic a second time (even with ip_forward=1) nor
// sends its own frames (MLD reports, DAD) out of an owned port.
func TestEndToEndKernelStaysOut(t *testing.T) {
	tp := newTopo(t)
	// Give the kernel every reason to forward: forwarding on and a route
	// to B's subnet. Only the TCX ingress program keeps it out.
	tp.r.Run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
	tp.r.Run("ip", "route", "add", "198.18.2.0/24", "dev", "r2")
	p := tp.startRouter(t, baseConfig)
	before := forwDatagrams(t, tp)
	out, err := tp.a.Try("ping", "-c", "5", "-i", "0.2", "-W", "2", "198.18.2.2")
	if err != nil || strings.Contains(out, "DUP!") {
		t.Errorf("ping through the router with the kernel's ip_forward=1 (want 5 replies, no duplicates):\n%s", out)
	}
	if after := forwDatagrams(t, tp); after != before {
		t.Errorf("the kernel forwarded %d datagrams of the router's traffic", after-before)
	}

	// Make the kernel want to talk on r1: a new address means MLD reports
	// and DAD solicitations. None may leave the port.
	txBefore := txPackets(t, tp, "r1")
	tp.r.Run("ip", "addr", "add", "2001:db8:99::1/64", "dev", "r1")
	time.Sleep(1500 * time.Millisecond)
	if txAfter := txPackets(t, tp, "r1"); txAfter != txBefore {
		t.Errorf("r1 sent %d frames of the kernel's own while the router owned it\n%s", txAfter-txBefore, p.stderr.String())
	}
	tp.r.Run("ip", "addr", "del", "2001:db8:99::1/64", "dev", "r1")
}

// forwDatagrams reads Ip: ForwDatagrams from the router namespace's
// /proc/net/snmp: what the kernel itself forwarded.
func forwDatagrams(t *testing.T, tp *topo) int {
	snmp := tp.r.Run("cat", "/proc/net/snmp")
	lines := strings.Split(snmp, "\n")
	for i := 0; i+1 < len(lines); i++ {
		if strings.HasPrefix(lines[i], "Ip: Forwarding") {
			names, vals := strings.Fields(lines[i]), strings.Fields(lines[i+1])
			for j, n := range names {
				if n == "ForwDatagrams" && j < len(vals) {
					v, _ := strconv.Atoi(vals[j])
					return v
				}
			}
		}
	}
	t.Fatalf("no ForwDatagrams in /proc/net/snmp:\n%s", snmp)
	return 0
}

var txRe = regexp.MustCompile(`(?s)TX:.*?\n\s*\d+\s+(\d+)`)

// txPackets is the kernel's TX packet count of dev in the router namespace:
// frames that went through the kernel's transmit path (tc egress included).
// The router's own PACKET_QDISC_BYPASS frames are counted by the veth
// driver too, so the test only calls it while no traffic flows.
func txPackets(t *testing.T, tp *topo, dev string) int {
	m := txRe.FindStringSubmatch(tp.r.Run("ip", "-s", "link", "show", dev))
	if m == nil {
		t.Fatalf("no TX counters for %s", dev)
	}
	v, _ := strconv.Atoi(m[1])
	return v
}

// cpuSeconds is the user+system CPU time of a process, from /proc.
func cpuSeconds(t *testing.T, pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may contain spaces).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

// TestEndToEndIdleAfterLinkFlap: after an owned port goes down and up, an
// idle router sleeps again. (A socket error left unread made poll(2)
// return at once forever: both CPUs spun.) This detects a busy loop, not a
// speed: an idle router uses next to nothing, a spinning one a whole core.
func TestEndToEndIdleAfterLinkFlap(t *testing.T) {
	tp := newTopo(t)
	p := tp.startRouter(t, baseConfig)
	tp.r.Run("ip", "link", "set", "r2", "down")
	time.Sleep(300 * time.Millisecond)
	tp.r.Run("ip", "link", "set", "r2", "up")
	if !waitFor(5*time.Second, func() bool { return tp.healthz() == "200" }) {
		t.Fatalf("/healthz %s after the flap", tp.healthz())
	}
	before := cpuSeconds(t, p.cmd.Process.Pid)
	time.Sleep(2 * time.Second)
	used := cpuSeconds(t, p.cmd.Process.Pid) - before
	if used > 1.0 {
		t.Errorf("idle router used %.2f s of CPU in 2 s after a link flap: a worker is spinning", used)
	}
}

// TestEndToEndRestartAfterKill: a router started right after the previous
// one was SIGKILLed waits for the dying process to let go of the
// interfaces instead of failing.
func TestEndToEndRestartAfterKill(t *testing.T) {
	tp := newTopo(t)
	p := tp.startRouter(t, baseConfig)
	_ = p.cmd.Process.Kill()
	tp.startRouter(t, baseConfig)
	if out, err := tp.a.Try("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.2.2"); err != nil {
		t.Errorf("no forwarding after the restart:\n%s", out)
	}
}

// TestEndToEndCheckAgainstInterfaces: -check holds queues and mtu against
// what the kernel reports for the real interfaces, and so does a start.
func TestEndToEndCheckAgainstInterfaces(t *testing.T) {
	tp := newTopo(t)
	bin := buildRouter(t)
	for _, c := range []struct{ edit, want string }{
		{"    queues: 8\n", `interface "r1": queues: 8, but it has`},
		{"    mtu: 9000\n", `interface "r1": mtu 9000 is above the interface's MTU 1500`},
	} {
		cfg := strings.Replace(baseConfig, "  - name: r2\n", c.edit+"  - name: r2\n", 1)
		path := tp.dir + "/check.yaml"
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"-check", "-config", path}, {"-config", path}} {
			out, err := tp.r.Try(append([]string{bin}, args...)...)
			if code := exitCode(err); code != 2 || !strings.Contains(out, c.want) {
				t.Errorf("router %v with %q: exit %d, output\n%s\nwant exit 2 and %q", args, strings.TrimSpace(c.edit), code, out, c.want)
			}
		}
	}
}
