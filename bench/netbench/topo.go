package netbench

import (
	"context"
	"fmt"
	"net"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// CPU placement: the device under test gets its own core, the generator,
// the receiver and everything else of the benchmark share the other.
const (
	dutCPU  = 1
	hostCPU = 0
)

// napiPriority is the SCHED_FIFO priority of the host ports' napi kthreads.
const napiPriority = 10

// dutNice is the nice value of every task doing the DUT's work: its napi
// kthreads and the router or xdpfwd process (SCHED_OTHER all). Equal, so they
// share the DUT core fairly; below 0, so that other load on a shared machine
// gets little of that core (weight 1024 against 9548 each).
const dutNice = -10

// Fixed, locally administered MACs: the namespaces isolate them, and the
// generator needs the DUT's MAC before anything runs.
const (
	macG = "02:00:5e:01:00:02" // generator port
	macA = "02:00:5e:01:00:01" // DUT port towards the generator
	macB = "02:00:5e:02:00:01" // DUT port towards the receiver
	macR = "02:00:5e:02:00:02" // receiver port
)

// topo is the three namespaces and two veth pairs:
//
//	gen ns: g ── a :dut ns: b ── r : recv ns
//
// Interface names carry the benchmark's PID so that the napi/<dev>-N
// kthreads of this run can be told from any other's.
type topo struct {
	gen, dut, recv string // namespace names
	g, a, b, r     string // interface names

	handles map[string]*netlink.Handle // per namespace, for counters
	nsFDs   []netns.NsHandle

	dropProg *ebpf.Program
	dropLink link.Link
}

// nsPrefix starts every namespace this benchmark creates; the PID follows.
const nsPrefix = "nhbench-"

var staleNS = regexp.MustCompile(`^` + nsPrefix + `[gdr]-(\d+)$`)

// removeStaleNamespaces deletes namespaces left by an earlier benchmark
// whose process no longer exists (it was SIGKILLed before its cleanup).
func removeStaleNamespaces(ctx context.Context) []string {
	out, err := run(ctx, "ip", "netns", "list")
	if err != nil {
		return nil
	}
	var removed []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		m := staleNS.FindStringSubmatch(f[0])
		if m == nil {
			continue
		}
		if _, err := os.Stat("/proc/" + m[1]); err == nil {
			continue // its benchmark still runs
		}
		if _, err := run(ctx, "ip", "netns", "del", f[0]); err == nil {
			removed = append(removed, f[0])
		}
	}
	return removed
}

// newTopo builds the topology. On error everything built so far is removed.
func newTopo(ctx context.Context, pid int) (t *topo, err error) {
	p := strconv.Itoa(pid)
	t = &topo{
		gen: nsPrefix + "g-" + p, dut: nsPrefix + "d-" + p, recv: nsPrefix + "r-" + p,
		g: "nb" + p + "g", a: "nb" + p + "a", b: "nb" + p + "b", r: "nb" + p + "r",
		handles: map[string]*netlink.Handle{},
	}
	defer func() {
		if err != nil {
			t.close()
		}
	}()
	for _, ns := range []string{t.gen, t.dut, t.recv} {
		if _, err := run(ctx, "ip", "netns", "add", ns); err != nil {
			return t, err
		}
		if _, err := nsRun(ctx, ns, "ip", "link", "set", "lo", "up"); err != nil {
			return t, err
		}
	}
	// Two queues each way are created so channels can be changed (the
	// afxdp-generic system needs the hosts on 2 TX queues); every port
	// then runs on 1 RX and 1 TX queue, which keeps each direction on one
	// napi instance and the DUT on one router worker.
	for _, pair := range [][4]string{{t.gen, t.g, macG, t.a}, {t.recv, t.r, macR, t.b}} {
		peerMAC := macA
		if pair[3] == t.b {
			peerMAC = macB
		}
		if _, err := run(ctx, "ip", "-n", pair[0], "link", "add", pair[1], "address", pair[2], "numtxqueues", "2", "numrxqueues", "2",
			"type", "veth", "peer", "name", pair[3], "address", peerMAC, "numtxqueues", "2", "numrxqueues", "2", "netns", t.dut); err != nil {
			return t, err
		}
	}
	for _, nd := range [][2]string{{t.gen, t.g}, {t.dut, t.a}, {t.dut, t.b}, {t.recv, t.r}} {
		// GRO on gives each veth RX queue a napi instance (threaded and
		// pinned below); TSO off on every port, because veth only uses the
		// receiver's napi when the sender has no TSO (it cannot aggregate
		// otherwise) — with TSO on, the receive work runs in the sender's
		// softirq on the sender's CPU.
		steps := [][]string{
			{"ethtool", "-L", nd[1], "rx", "1", "tx", "1"},
			{"ethtool", "-K", nd[1], "gro", "on", "tso", "off"},
			{"ip", "link", "set", nd[1], "up"},
		}
		for _, s := range steps {
			if _, err := nsRun(ctx, nd[0], s...); err != nil {
				return t, err
			}
		}
	}
	hostSteps := [][]string{
		{t.gen, "ip", "addr", "add", genV4 + v4Len, "dev", t.g},
		{t.gen, "ip", "-6", "addr", "add", genV6 + v6Len, "dev", t.g, "nodad"},
		{t.gen, "ip", "route", "add", "default", "via", dutAV4},
		{t.gen, "ip", "-6", "route", "add", "default", "via", dutAV6},
		{t.gen, "ip", "neigh", "replace", dutAV4, "lladdr", macA, "nud", "permanent", "dev", t.g},
		{t.gen, "ip", "-6", "neigh", "replace", dutAV6, "lladdr", macA, "nud", "permanent", "dev", t.g},
		{t.recv, "ip", "addr", "add", recvV4 + v4Len, "dev", t.r},
		{t.recv, "ip", "-6", "addr", "add", recvV6 + v6Len, "dev", t.r, "nodad"},
		{t.recv, "ip", "route", "add", "default", "via", dutBV4},
		{t.recv, "ip", "-6", "route", "add", "default", "via", dutBV6},
		{t.recv, "ip", "neigh", "replace", dutBV4, "lladdr", macB, "nud", "permanent", "dev", t.r},
		{t.recv, "ip", "-6", "neigh", "replace", dutBV6, "lladdr", macB, "nud", "permanent", "dev", t.r},
	}
	for _, s := range hostSteps {
		if _, err := nsRun(ctx, s[0], s[1:]...); err != nil {
			return t, err
		}
	}
	for _, nd := range [][2]string{{t.gen, t.g}, {t.dut, t.a}, {t.dut, t.b}, {t.recv, t.r}} {
		if _, err := nsRun(ctx, nd[0], "sh", "-c", "echo 1 > /sys/class/net/"+nd[1]+"/threaded"); err != nil {
			return t, fmt.Errorf("threaded napi on %s: %w", nd[1], err)
		}
	}
	for _, ns := range []string{t.gen, t.dut, t.recv} {
		h, err := netns.GetFromName(ns)
		if err != nil {
			return t, fmt.Errorf("open namespace %s: %w", ns, err)
		}
		t.nsFDs = append(t.nsFDs, h)
		nh, err := netlink.NewHandleAt(h)
		if err != nil {
			return t, fmt.Errorf("netlink in namespace %s: %w", ns, err)
		}
		t.handles[ns] = nh
	}
	if err := t.attachUDPDrop(); err != nil {
		return t, err
	}
	return t, nil
}

// udpDropProgram drops IPv4 and IPv6 UDP (the benchmark's traffic) and
// passes everything else, so the receiver's kernel sends no ICMP errors
// while ARP, NDP and iperf3's TCP still work. Packet taps (bench recv) run
// before tc ingress and still see every frame. The kernel here has no
// act_gact/matchall, hence a TCX program; LD_ABS offsets are from the
// Ethernet header (TCX ingress pushes it back before running programs).
func udpDropProgram() *ebpf.ProgramSpec {
	return &ebpf.ProgramSpec{
		Name: "bench_udp_drop",
		Type: ebpf.SchedCLS,
		Instructions: asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1), // LD_ABS takes the skb from R6
			asm.LoadAbs(12, asm.Half),   // EtherType, host order
			asm.JEq.Imm(asm.R0, 0x0800, "v4"),
			asm.JEq.Imm(asm.R0, 0x86dd, "v6"),
			asm.Ja.Label("pass"),
			asm.LoadAbs(14+9, asm.Byte).WithSymbol("v4"), // IPv4 protocol
			asm.JEq.Imm(asm.R0, unix.IPPROTO_UDP, "drop"),
			asm.Ja.Label("pass"),
			asm.LoadAbs(14+6, asm.Byte).WithSymbol("v6"), // IPv6 next header
			asm.JEq.Imm(asm.R0, unix.IPPROTO_UDP, "drop"),
			asm.Mov.Imm(asm.R0, -1).WithSymbol("pass"), // TCX_NEXT
			asm.Return(),
			asm.Mov.Imm(asm.R0, 2).WithSymbol("drop"), // TCX_DROP
			asm.Return(),
		},
		License: "Apache-2.0",
	}
}

// attachUDPDrop attaches udpDropProgram at the receiver port's TCX
// ingress. The bpf_link belongs to this process, so it vanishes with it.
func (t *topo) attachUDPDrop() error {
	prog, err := ebpf.NewProgram(udpDropProgram())
	if err != nil {
		return fmt.Errorf("load the receiver's UDP drop program: %w", err)
	}
	t.dropProg = prog
	return inNamespace(t.recv, func() error {
		ifi, err := net.InterfaceByName(t.r)
		if err != nil {
			return fmt.Errorf("receiver port %s: %w", t.r, err)
		}
		l, err := link.AttachTCX(link.TCXOptions{Interface: ifi.Index, Program: prog, Attach: ebpf.AttachTCXIngress, Anchor: link.Head()})
		if err != nil {
			return fmt.Errorf("attach the UDP drop program at %s ingress: %w", t.r, err)
		}
		t.dropLink = l
		return nil
	})
}

// inNamespace runs f on an OS thread switched into namespace ns and back.
// If switching back fails the thread stays locked, so Go discards it.
func inNamespace(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- fmt.Errorf("current namespace: %w", err)
			return
		}
		defer orig.Close()
		target, err := netns.GetFromName(ns)
		if err != nil {
			errc <- fmt.Errorf("open namespace %s: %w", ns, err)
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			errc <- fmt.Errorf("enter namespace %s: %w", ns, err)
			return
		}
		ferr := f()
		if err := netns.Set(orig); err != nil {
			errc <- fmt.Errorf("leave namespace %s: %w", ns, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// counters are the link statistics the loss figure comes from.
type counters struct{ txPackets, txDropped, rxPackets uint64 }

// stats reads dev's counters in ns through netlink (the same numbers as
// /sys/class/net/DEV/statistics there, without a fork per read).
func (t *topo) stats(ns, dev string) (counters, error) {
	h := t.handles[ns]
	if h == nil {
		return counters{}, fmt.Errorf("no netlink handle for namespace %s", ns)
	}
	l, err := h.LinkByName(dev)
	if err != nil {
		return counters{}, fmt.Errorf("read counters of %s in %s: %w", dev, ns, err)
	}
	s := l.Attrs().Statistics
	if s == nil {
		return counters{}, fmt.Errorf("no statistics for %s in %s", dev, ns)
	}
	return counters{txPackets: s.TxPackets, txDropped: s.TxDropped, rxPackets: s.RxPackets}, nil
}

// napiThreads finds the napi kthreads of dev ("napi/<dev>-<id>"; comm is
// cut at 15 bytes, and our names keep "napi/<dev>" within that).
func napiThreads(dev string) []int {
	prefix := "napi/" + dev + "-"
	if len(prefix) > 15 {
		prefix = prefix[:15]
	}
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil {
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(string(comm)), prefix) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// steerReceive sends the receive work of devs (in namespace ns) to CPU cpu
// by RPS and returns the function that puts the previous masks back. A
// veth hands a frame to the receiving port's napi only when that port has
// a napi instance (GRO on, which TCP runs turn off on the DUT ports, or
// native XDP) and the sending device has TSO off. Otherwise the port
// receives in the sender's softirq, on the sender's CPU. TCP runs steer
// the DUT ports to the DUT core: without that, kernel forwarding would
// route and segment on the host core and the DUT core would sit idle. RPS
// queues those frames to the DUT core's backlog instead, processed in
// softirq there (raised by an IPI, so it preempts a router on that core),
// as a NIC's interrupt there would. With the DUT ports' TSO on too
// ("tso+dut"), the host ports are steered to the host core likewise. UDP
// runs do without: their frames reach the DUT ports' napi, already on the
// DUT core, and would pay for a trip through the backlog.
func (t *topo) steerReceive(ctx context.Context, ns string, devs []string, cpu int) (restore func(), err error) {
	mask := strconv.FormatUint(1<<cpu, 16)
	prev := map[string]string{}
	restore = func() {
		for dev, m := range prev {
			_, _ = nsRun(context.Background(), ns, "sh", "-c", "echo "+m+" > "+rpsPath(dev))
		}
	}
	for _, dev := range devs {
		old, err := nsRun(ctx, ns, "cat", rpsPath(dev))
		if err == nil {
			prev[dev] = strings.TrimSpace(old)
			_, err = nsRun(ctx, ns, "sh", "-c", "echo "+mask+" > "+rpsPath(dev))
		}
		if err != nil {
			restore()
			return nil, fmt.Errorf("steer %s's receive to CPU%d (RPS): %w", dev, cpu, err)
		}
	}
	return restore, nil
}

// rpsPath is the RPS CPU mask of dev's one RX queue (every port runs on
// one, see newTopo).
func rpsPath(dev string) string { return "/sys/class/net/" + dev + "/queues/rx-0/rps_cpus" }

// pinNAPI pins the napi kthreads of the DUT ports to the DUT core and
// those of the host ports to the host core. It is called again after each
// system starts, since attaching XDP or changing channels can make new
// kthreads. It returns a description like "nb1a:1×CPU1 OTHER nb1g:1×CPU0 FIFO".
//
// Scheduling: the DUT's napi kthreads run at SCHED_OTHER with the router's
// nice (dutNice), so a user-space router and the kernel's receive work
// share the DUT core fairly, as with a real NIC, whose softirq stops after
// its NAPI budget and hands over to ksoftirqd. At SCHED_FIFO they took up to 95 % of the core under overload
// (RT throttling) and a router on the same core livelocked, while kernel
// forwarding and XDP, which run inside napi, lost nothing. The host ports'
// napi kthreads stay SCHED_FIFO: under the fair scheduler they waited for
// the never-sleeping generator on CPU0 and their 256-slot veth rings
// overflowed, losses the DUT would be blamed for.
func (t *topo) pinNAPI() (string, error) {
	var desc []string
	var errs []error
	for _, dc := range []struct {
		dev  string
		cpu  int
		fifo bool
	}{{t.a, dutCPU, false}, {t.b, dutCPU, false}, {t.g, hostCPU, true}, {t.r, hostCPU, true}} {
		pids := napiThreads(dc.dev)
		if len(pids) == 0 {
			desc = append(desc, dc.dev+":none")
			continue
		}
		var set unix.CPUSet
		set.Set(dc.cpu)
		attr, policy := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_NORMAL, Nice: dutNice}, fmt.Sprintf("OTHER nice %d", dutNice)
		if dc.fifo {
			attr, policy = unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: napiPriority}, "FIFO"
		}
		for _, pid := range pids {
			if err := unix.SchedSetaffinity(pid, &set); err != nil {
				errs = append(errs, fmt.Errorf("pin napi kthread %d of %s to CPU%d: %w", pid, dc.dev, dc.cpu, err))
			}
			if err := unix.SchedSetAttr(pid, &attr, 0); err != nil {
				errs = append(errs, fmt.Errorf("set %s for napi kthread %d of %s: %w", policy, pid, dc.dev, err))
			}
		}
		desc = append(desc, fmt.Sprintf("%s:%d×CPU%d %s", dc.dev, len(pids), dc.cpu, policy))
	}
	return strings.Join(desc, " "), joinErrs(errs...)
}

// close removes everything: the BPF link, the namespaces (and with them
// every interface), the netlink handles.
func (t *topo) close() {
	if t.dropLink != nil {
		_ = t.dropLink.Close()
	}
	if t.dropProg != nil {
		_ = t.dropProg.Close()
	}
	for _, h := range t.handles {
		h.Close()
	}
	for _, h := range t.nsFDs {
		_ = h.Close()
	}
	for _, ns := range []string{t.gen, t.dut, t.recv} {
		_, _ = run(context.Background(), "ip", "netns", "del", ns)
	}
}
