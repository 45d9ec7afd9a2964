//go:build linux

package traffic

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/nexthop-router/nexthop/internal/netnstest"
)

// pair is a generator namespace and a receiver namespace joined by a veth,
// with a TCX ingress program on the receiver's port that drops everything,
// as `bench net` does so that the receiving kernel never answers.
type pair struct {
	gen, recv       *netnstest.NS
	genIf, recvIf   string
	recvMAC, genMAC [6]byte
}

func newPair(t *testing.T) *pair {
	t.Helper()
	netnstest.RequireRoot(t)
	sfx := netnstest.UniqueSuffix()
	p := &pair{gen: netnstest.New(t, "tg"), recv: netnstest.New(t, "tr"), genIf: "tg" + sfx, recvIf: "tr" + sfx}
	netnstest.Veth(t, p.gen, p.genIf, p.recv, p.recvIf)
	p.recvMAC = readMAC(t, p.recv, p.recvIf)
	p.genMAC = readMAC(t, p.gen, p.genIf)

	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "traffic_shot", Type: ebpf.SchedCLS, License: "Apache-2.0",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2) /* TCX_DROP */, asm.Return()},
	})
	if err != nil {
		t.Fatalf("load TCX drop program: %v", err)
	}
	t.Cleanup(func() { prog.Close() })
	err = p.recv.Do(func() error {
		ifi, err := net.InterfaceByName(p.recvIf)
		if err != nil {
			return err
		}
		l, err := link.AttachTCX(link.TCXOptions{Interface: ifi.Index, Program: prog, Attach: ebpf.AttachTCXIngress})
		if err != nil {
			return err
		}
		t.Cleanup(func() { l.Close() })
		return nil
	})
	if err != nil {
		t.Fatalf("attach TCX ingress drop on %s: %v", p.recvIf, err)
	}
	return p
}

func readMAC(t *testing.T, ns *netnstest.NS, dev string) [6]byte {
	t.Helper()
	hw, err := net.ParseMAC(strings.TrimSpace(ns.Run("cat", "/sys/class/net/"+dev+"/address")))
	if err != nil {
		t.Fatal(err)
	}
	return [6]byte(hw)
}

// ipInReceives reads the namespace's IP (or IPv6) InReceives counter: the
// frames the kernel's IP layer saw, which the tc drop must keep at zero.
func ipInReceives(t *testing.T, ns *netnstest.NS, v6 bool) uint64 {
	t.Helper()
	if v6 {
		sc := bufio.NewScanner(strings.NewReader(ns.Run("cat", "/proc/net/snmp6")))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "Ip6InReceives" {
				n, _ := strconv.ParseUint(f[1], 10, 64)
				return n
			}
		}
		t.Fatal("no Ip6InReceives in /proc/net/snmp6")
	}
	var names []string
	sc := bufio.NewScanner(strings.NewReader(ns.Run("cat", "/proc/net/snmp")))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "Ip:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, name := range names {
			if name == "InReceives" {
				n, _ := strconv.ParseUint(f[i], 10, 64)
				return n
			}
		}
	}
	t.Fatal("no Ip: InReceives in /proc/net/snmp")
	return 0
}

// run runs Receive in the receiver namespace and Generate in the
// generator namespace, both in this process, and returns both results.
func (p *pair) run(t *testing.T, s Spec, rate float64, d time.Duration) (GenResult, RecvResult, uint64) {
	t.Helper()
	ready := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type rr struct {
		res RecvResult
		err error
	}
	rc := make(chan rr, 1)
	go func() {
		var r rr
		r.err = p.recv.Do(func() error {
			var err error
			r.res, err = Receive(ctx, RecvConfig{Interface: p.recvIf, ID: s.ID, Duration: d + 5*time.Second, Grace: 100 * time.Millisecond, Ready: ready})
			return err
		})
		rc <- r
	}()
	select {
	case <-ready:
	case r := <-rc:
		t.Fatalf("receiver failed to start: %v", r.err)
	}
	var g GenResult
	var mallocs uint64
	err := p.gen.Do(func() error {
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		var err error
		g, err = Generate(context.Background(), GenConfig{Interface: p.genIf, Spec: s, Rate: rate, Duration: d})
		runtime.ReadMemStats(&ms1)
		mallocs = ms1.Mallocs - ms0.Mallocs
		return err
	})
	cancel()
	r := <-rc
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if r.err != nil {
		t.Fatalf("Receive: %v", r.err)
	}
	return g, r.res, mallocs
}

func (p *pair) spec(v6 bool, id uint32) Spec {
	s := Spec{SrcMAC: p.genMAC, DstMAC: p.recvMAC, Src: v4Src, Dst: v4Dst, Size: MinFrameSize(v6), Flows: 64, ID: id}
	if v6 {
		s.Src, s.Dst = v6Src, v6Dst
	}
	return s
}

// TestPacedVeth sends 100 kpps for one second over a plain veth and checks
// what a user of `bench recv` would: everything of this run arrives once,
// in order, with sane latency, although the receiver's tc ingress drops it.
func TestPacedVeth(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v6=%v", v6), func(t *testing.T) {
			p := newPair(t)
			const rate = 100e3
			s := p.spec(v6, uint32(os.Getpid()))
			in0 := ipInReceives(t, p.recv, v6)
			g, r, mallocs := p.run(t, s, rate, time.Second)
			in1 := ipInReceives(t, p.recv, v6)
			st := r.Stats
			mx, _ := st.MaxSeq()
			t.Logf("sent %d (refused %d) in %v = %.0f pps; received %d dup %d reordered %d max_seq %d ring drops %d; latency p50 %.1f µs p99 %.1f µs max %.1f µs; kernel IP saw %d; %d mallocs in Generate",
				g.Sent, g.Refused, g.Elapsed, g.PPS(), st.Received, st.Duplicates, st.Reordered, mx, r.RingDrops,
				st.Latency.Quantile(0.5)/1e3, st.Latency.Quantile(0.99)/1e3, float64(st.Latency.Max())/1e3, in1-in0, mallocs)
			if pps := g.PPS(); pps < rate*0.99 || pps > rate*1.01 {
				t.Errorf("paced at %.0f pps, want %.0f ± 1%%", pps, rate)
			}
			if st.Received > g.Sent || float64(st.Received) < 0.999*float64(g.Sent) {
				t.Errorf("received %d of %d sent", st.Received, g.Sent)
			}
			if uint64(mx)+1 != g.Sent {
				t.Errorf("max_seq %d, want sent-1 = %d", mx, g.Sent-1)
			}
			if st.Duplicates != 0 || st.Reordered != 0 || r.RingDrops != 0 {
				t.Errorf("duplicates %d reordered %d ring drops %d, want 0", st.Duplicates, st.Reordered, r.RingDrops)
			}
			if p50, p99 := st.Latency.Quantile(0.5), st.Latency.Quantile(0.99); p50 <= 0 || p99 > 10e6 || st.Latency.Count() != st.Received {
				t.Errorf("latency p50 %.0f ns p99 %.0f ns over %d samples; want 0 < p50, p99 < 10 ms, one per frame", p50, p99, st.Latency.Count())
			}
			if in1-in0 > g.Sent/100 {
				t.Errorf("the receiver's kernel IP layer saw %d frames: the tc ingress drop did not work", in1-in0)
			}
			if mallocs > g.Sent/100 {
				t.Errorf("%d heap allocations while sending %d frames: the send loop allocates", mallocs, g.Sent)
			}
		})
	}
}

// TestMaxRateVeth sends as fast as possible for one second and logs the
// rate (not asserted: the machine is shared and noisy).
func TestMaxRateVeth(t *testing.T) {
	if testing.Short() {
		t.Skip("max-rate run skipped in -short mode")
	}
	for _, v6 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v6=%v", v6), func(t *testing.T) {
			p := newPair(t)
			s := p.spec(v6, uint32(os.Getpid())+1)
			g, r, _ := p.run(t, s, 0, time.Second)
			st := r.Stats
			t.Logf("%d-byte frames: sent %d in %v = %.0f pps (refused %d); received %d (ring drops %d), dup %d reordered %d, p50 %.1f µs p99 %.1f µs",
				s.Size, g.Sent, g.Elapsed, g.PPS(), g.Refused, st.Received, r.RingDrops, st.Duplicates, st.Reordered,
				st.Latency.Quantile(0.5)/1e3, st.Latency.Quantile(0.99)/1e3)
			if st.Received > g.Sent || st.Duplicates != 0 {
				t.Errorf("received %d (dup %d) of %d sent", st.Received, st.Duplicates, g.Sent)
			}
		})
	}
}

// TestCommandLine runs the real `bench gen` and `bench recv` the way
// `bench net` does (ip netns exec, taskset, separate processes) and checks
// their one-line JSON output.
func TestCommandLine(t *testing.T) {
	p := newPair(t)
	bin := filepath.Join(t.TempDir(), "bench")
	gobin, err := exec.LookPath("go") // go test puts $GOROOT/bin first in PATH
	if err != nil {
		t.Fatalf("the go command is needed to build bench: %v", err)
	}
	if out, err := exec.Command(gobin, "build", "-o", bin, "github.com/nexthop-router/nexthop/bench/cmd/bench").CombinedOutput(); err != nil {
		t.Fatalf("go build bench: %v\n%s", err, out)
	}
	id := strconv.Itoa(os.Getpid() + 2)
	recv := p.recv.Command(bin, "recv", "-dev", p.recvIf, "-duration", "10s", "-id", id)
	var rout, rerr strings.Builder
	recv.Stdout, recv.Stderr = &rout, &rerr
	if err := recv.Start(); err != nil {
		t.Fatal(err)
	}
	defer recv.Process.Kill()
	time.Sleep(300 * time.Millisecond) // the receiver binds; a frame sent earlier would only count as loss
	genOut, err := p.gen.Command("taskset", "-c", "0", bin, "gen", "-dev", p.genIf,
		"-src-mac", net.HardwareAddr(p.genMAC[:]).String(), "-dst-mac", net.HardwareAddr(p.recvMAC[:]).String(),
		"-src", "2001:db8::1", "-dst", "2001:db8:1::1", "-flows", "8", "-size", "128", "-rate", "20000",
		"-duration", "500ms", "-id", id).Output()
	if err != nil {
		t.Fatalf("bench gen: %v", err)
	}
	var g struct {
		Sent     *uint64  `json:"sent"`
		Refused  *uint64  `json:"refused"`
		ElapsedS *float64 `json:"elapsed_s"`
		PPS      *float64 `json:"pps"`
	}
	dec := json.NewDecoder(strings.NewReader(string(genOut)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil || g.Sent == nil || g.Refused == nil || g.ElapsedS == nil || g.PPS == nil || strings.Count(string(genOut), "\n") != 1 {
		t.Fatalf("bench gen printed %q (%v); want one JSON line with sent, refused, elapsed_s, pps", genOut, err)
	}
	if err := recv.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := recv.Wait(); err != nil {
		t.Fatalf("bench recv after SIGINT: %v: %s", err, rerr.String())
	}
	var r struct {
		Received   *uint64  `json:"received"`
		Duplicates *uint64  `json:"duplicates"`
		Reordered  *uint64  `json:"reordered"`
		MaxSeq     *uint64  `json:"max_seq"`
		P50        *float64 `json:"p50_us"`
		P99        *float64 `json:"p99_us"`
		Max        *float64 `json:"max_us"`
	}
	dec = json.NewDecoder(strings.NewReader(rout.String()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil || r.Received == nil || r.Duplicates == nil || r.Reordered == nil || r.MaxSeq == nil || r.P50 == nil || r.P99 == nil || r.Max == nil || strings.Count(rout.String(), "\n") != 1 {
		t.Fatalf("bench recv printed %q (%v); want one JSON line with the seven fields", rout.String(), err)
	}
	t.Logf("gen: %s recv: %s", strings.TrimSpace(string(genOut)), strings.TrimSpace(rout.String()))
	// The count must add up, but not to the last frame: the other test
	// packages run beside this one, and on two busy CPUs a veth's
	// 256-slot ring can overflow for a moment even at 20 kpps (CI once
	// saw 9,888 of 10,000). Loss is what the receiver measures, not a fault.
	if *g.Sent < 9000 || *g.Sent > 10100 || *r.Received > *g.Sent || *r.Received < *g.Sent*95/100 ||
		*r.MaxSeq >= *g.Sent || *r.MaxSeq+1 < *r.Received || *r.Duplicates != 0 || *r.Reordered != 0 {
		t.Errorf("sent %d (want ~10000 at 20 kpps for 0.5 s), received %d (want ≥ 95 %%, ≤ sent), max_seq %d, dup %d, reordered %d", *g.Sent, *r.Received, *r.MaxSeq, *r.Duplicates, *r.Reordered)
	}
	if *r.P50 <= 0 || *r.P99 > 10000 || *r.Max < *r.P99 {
		t.Errorf("latency p50 %v p99 %v max %v µs: not sane", *r.P50, *r.P99, *r.Max)
	}
	// Errors the orchestrator relies on.
	out, err := exec.Command(bin, "gen", "-dev", "lo", "-dst-mac", "02:00:00:00:00:01", "-src", "2001:db8::1", "-dst", "2001:db8::2", "-size", "64", "-duration", "1s", "-src-mac", "02:00:00:00:00:02").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "at least 78") {
		t.Errorf("64-byte IPv6: %v %s; want an error naming 78", err, out)
	}
	out, err = exec.Command(bin, "gen", "-dev", "lo", "-dst-mac", "02:00:00:00:00:01", "-src", "198.18.0.1", "-dst", "198.18.0.2").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "duration") {
		t.Errorf("no -duration: %v %s; want an error naming -duration", err, out)
	}
}
