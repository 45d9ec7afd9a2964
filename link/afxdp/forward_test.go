//go:build linux

package afxdp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/internal/netnstest"
	"github.com/nexthop-router/nexthop/link/memlink"
	"github.com/nexthop-router/nexthop/stack"
)

// topology is hostA(a0) — (ra)router(rb) — (b0)hostB, each in its own
// namespace, with single-queue veths.
type topology struct {
	ha, r, hb *netnstest.NS
}

func newTopology(t *testing.T) *topology {
	netnstest.RequireRoot(t)
	tp := &topology{ha: netnstest.New(t, "xa"), r: netnstest.New(t, "xr"), hb: netnstest.New(t, "xb")}
	netnstest.Veth(t, tp.ha, "a0", tp.r, "ra")
	netnstest.Veth(t, tp.hb, "b0", tp.r, "rb")
	return tp
}

// forwarder is a NetworkDispatcher that sends every frame out of another
// endpoint after rewriting its MAC addresses in place, the way the stack
// forwards (one WritePackets per batch).
type forwarder struct {
	out      *Endpoint
	dst      []byte
	queue    int
	list     stack.PacketBufferList
	rxAddrs  []uint64
	dropEach uint32 // release every dropEach-th frame instead (0: never)
	extra    func() *stack.PacketBuffer
	seen     uint64
}

func (f *forwarder) DeliverNetworkPacket(_ *stack.Worker, _ stack.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	pkt.Release()
}

func (f *forwarder) DeliverNetworkPackets(_ *stack.Worker, pkts *stack.PacketBufferList) {
	f.list.Queue = f.queue
	src := f.out.LinkAddress()
	for _, pkt := range pkts.AsSlice() {
		f.seen++
		d := pkt.Data()
		if len(d) < 18 || binary.BigEndian.Uint16(d[12:14]) != testEtherType {
			pkt.Release() // the hosts' own IPv6 ND/MLD
			continue
		}
		if f.dropEach != 0 && binary.BigEndian.Uint32(d[14:18])%f.dropEach == 0 {
			pkt.Release()
			continue
		}
		copy(d[0:6], f.dst)
		copy(d[6:12], src[:])
		f.rxAddrs = append(f.rxAddrs, pkt.Handle+uint64(pkt.Start()))
		f.list.PushBack(pkt)
	}
	if f.extra != nil {
		if pkt := f.extra(); pkt != nil {
			f.list.PushBack(pkt)
		}
	}
	pkts.Reset()
	_, _ = f.out.WritePackets(f.list)
	f.list.Reset()
}

// TestZeroCopyForward forwards frames from interface A to interface B of
// one worker sharing a UMEM, and checks that each TX descriptor carries
// the very address the frame was received at (no copy), and that host B
// receives the frames.
func TestZeroCopyForward(t *testing.T) {
	tp := newTopology(t)
	s := stack.New(stack.Options{})
	w, _ := s.NewWorker()
	u := newUMEM(t, UMEMOptions{NumFrames: 256, Worker: w.ID()})
	o := DefaultOpts("ra", u)
	o.RXSize, o.TXSize, o.FillSize, o.CompletionSize = 64, 64, 64, 64
	epA := newEndpoint(t, tp.r, o)
	o.Interface = "rb"
	epB := newEndpoint(t, tp.r, o)

	txA, _ := rawSocket(t, tp.ha, "a0")
	rxB, macB := rawSocket(t, tp.hb, "b0")
	fw := &forwarder{out: epB, dst: macB, queue: w.ID(), list: stack.MakePacketBufferList(stack.BatchSize)}
	epA.Attach(fw)
	epB.Attach(&memlink.Capture{})

	macRA := epA.LinkAddress()
	const n = 20
	var want [][]byte
	for i := range n {
		f := testFrame(macRA[:], []byte{2, 0, 0, 0, 0, 0xa}, uint32(i+1), 60+i)
		if err := unix.Sendto(txA, f, 0, nil); err != nil {
			t.Fatalf("host A send: %v", err)
		}
		g := bytes.Clone(f)
		copy(g[0:6], macB)
		mb := epB.LinkAddress()
		copy(g[6:12], mb[:])
		want = append(want, g)
	}
	txs := epB.socks[0].tx
	var txAddrs []uint64
	deadline := time.Now().Add(3 * time.Second)
	for len(fw.rxAddrs) < n && time.Now().Before(deadline) {
		prod := txs.cachedProd
		if epA.Poll(w, 0) == 0 {
			_, _ = unix.Poll([]unix.PollFd{{Fd: int32(epA.RXFD(0)), Events: unix.POLLIN}}, 50)
		}
		for p := prod; p != txs.cachedProd; p++ {
			txAddrs = append(txAddrs, txs.descs[p&txs.mask].Addr)
		}
	}
	if len(fw.rxAddrs) != n {
		t.Fatalf("forwarded %d frames within 3 s, want %d (stats A %+v)", len(fw.rxAddrs), n, epA.Stats())
	}
	for i := range n {
		if txAddrs[i] != fw.rxAddrs[i] {
			t.Errorf("frame %d: TX descriptor address %#x, RX address %#x: copied", i, txAddrs[i], fw.rxAddrs[i])
		}
	}
	buf := make([]byte, 2048)
	for i := range n {
		m, _, err := unix.Recvfrom(rxB, buf, 0)
		if err != nil {
			t.Fatalf("host B got %d of %d frames: %v", i, n, err)
		}
		if !bytes.Equal(buf[:m], want[i]) {
			t.Errorf("host B frame %d:\n%x\nwant\n%x", i, buf[:m], want[i])
		}
	}
	epB.Poll(w, 0) // reap completions
	st := epB.Stats()
	if st.TXMoved != n || st.TXCopied != 0 {
		t.Errorf("B stats %+v: want %d moved, 0 copied", st, n)
	}
	if err := u.Check(); err != nil {
		t.Error(err)
	}
	if a := u.Accounting(); a.Sum() != a.NumFrames || a.Stack != 0 {
		t.Errorf("accounting %+v", a)
	}
}

// generate sends frames from ifname in ns to dst as fast as it can until
// stop is set or count frames went out; it returns how many it sent.
func generate(ns *netnstest.NS, ifname string, dst net.HardwareAddr, count int, stop *atomic.Bool, sent *atomic.Uint64) error {
	return ns.Do(func() error {
		ifc, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifc.Index}); err != nil {
			return err
		}
		f := testFrame(dst, ifc.HardwareAddr, 0, 60)
		for i := 1; i <= count && !stop.Load(); i++ {
			binary.BigEndian.PutUint32(f[14:18], uint32(i))
			if err := unix.Sendto(fd, f, 0, nil); err == nil {
				sent.Add(1)
			}
		}
		return nil
	})
}

// TestFrameAccounting forwards traffic both ways between two interfaces
// sharing one small UMEM, dropping every 10th frame (released to the
// UMEM), adding a locally made heap frame to every batch (copied in), and
// with TX rings smaller than a batch (TX ring full). Throughout and at the
// end every frame must be in exactly one place.
//
// The "defaults" variant runs the same with default sizes and checks less
// often; its frames/s figure is a smoke number, not a benchmark.
func TestFrameAccounting(t *testing.T) {
	t.Run("small", func(t *testing.T) { testFrameAccounting(t, 256, 64, 16, 512) })
	t.Run("defaults", func(t *testing.T) { testFrameAccounting(t, DefaultNumFrames, DefaultRingSize, DefaultRingSize, 1<<14) })
}

func testFrameAccounting(t *testing.T, frames, rxSize, txSize, checkEvery int) {
	tp := newTopology(t)
	s := stack.New(stack.Options{})
	w, _ := s.NewWorker()
	u := newUMEM(t, UMEMOptions{NumFrames: frames, FrameSize: 2048, Worker: w.ID()})
	o := DefaultOpts("ra", u)
	o.RXSize, o.FillSize, o.TXSize, o.CompletionSize = rxSize, rxSize, txSize, txSize
	epA := newEndpoint(t, tp.r, o)
	o.Interface = "rb"
	epB := newEndpoint(t, tp.r, o)
	macA, macB := tp.ha.MAC(t, "a0"), tp.hb.MAC(t, "b0")

	extra := func() *stack.PacketBuffer {
		pkt := s.Frames().Get()
		f := testFrame(macB, []byte{2, 0, 0, 0, 0, 1}, 1, 64)
		pkt.SetLen(len(f))
		copy(pkt.Data(), f)
		return pkt
	}
	fwAB := &forwarder{out: epB, dst: macB, queue: w.ID(), list: stack.MakePacketBufferList(stack.BatchSize + 1), dropEach: 10, extra: extra}
	fwBA := &forwarder{out: epA, dst: macA, queue: w.ID(), list: stack.MakePacketBufferList(stack.BatchSize + 1), dropEach: 10}
	epA.Attach(fwAB)
	epB.Attach(fwBA)

	const perHost = 100000
	var stop atomic.Bool
	var sentA, sentB atomic.Uint64
	errc := make(chan error, 2)
	ra, rb := epA.LinkAddress(), epB.LinkAddress()
	go func() { errc <- generate(tp.ha, "a0", ra[:], perHost, &stop, &sentA) }()
	go func() { errc <- generate(tp.hb, "b0", rb[:], perHost, &stop, &sentB) }()
	running := 2
	start := time.Now()
	deadline := start.Add(8 * time.Second)
	var checks int
	lastRX := time.Now()
	for i := 0; ; i++ {
		n := epA.Poll(w, 0) + epB.Poll(w, 0)
		if n > 0 {
			lastRX = time.Now()
		}
		if i%checkEvery == 0 {
			if a := u.Accounting(); a.Sum() != a.NumFrames {
				t.Fatalf("mid-run accounting %+v: sum %d", a, a.Sum())
			}
			if err := u.Check(); err != nil {
				t.Fatalf("mid-run check: %v", err)
			}
			checks++
		}
		select {
		case err := <-errc:
			if err != nil {
				t.Fatalf("generator: %v", err)
			}
			running--
		default:
		}
		now := time.Now()
		if now.After(deadline) {
			stop.Store(true)
		}
		if running == 0 && now.Sub(lastRX) > 300*time.Millisecond {
			break
		}
		if n == 0 && running == 0 {
			_, _ = unix.Poll([]unix.PollFd{{Fd: int32(epA.RXFD(0)), Events: unix.POLLIN}, {Fd: int32(epB.RXFD(0)), Events: unix.POLLIN}}, 10)
		}
	}
	elapsed := time.Since(start)
	// Let the last completions arrive, then reap them.
	for range 10 {
		epA.Poll(w, 0)
		epB.Poll(w, 0)
		time.Sleep(5 * time.Millisecond)
	}
	stA, stB := epA.Stats(), epB.Stats()
	a := u.Accounting()
	t.Logf("offered %d+%d frames in %v; received %d+%d, forwarded %d+%d (%.0f frames/s through the loop), %d mid-run checks",
		sentA.Load(), sentB.Load(), elapsed.Round(time.Millisecond), stA.RXPackets, stB.RXPackets, stB.TXPackets, stA.TXPackets,
		float64(stA.RXPackets+stB.RXPackets)/elapsed.Seconds(), checks)
	t.Logf("A: %+v", stA)
	t.Logf("B: %+v", stB)
	t.Logf("accounting: %+v", a)
	if a.Sum() != a.NumFrames || a.Stack != 0 || a.Unexpected != 0 {
		t.Errorf("accounting %+v: want sum %d, none in the stack, none unexpected", a, a.NumFrames)
	}
	if a.TX != 0 {
		t.Errorf("quiescent: %d frames still lent for TX (rings: TX %d, completion %d)", a.TX, a.TXRing, a.CompletionRing)
	}
	if err := u.Check(); err != nil {
		t.Error(err)
	}
	if stA.RXPackets == 0 || stB.RXPackets == 0 {
		t.Fatalf("no traffic: A %+v B %+v", stA, stB)
	}
	if stB.TXMoved == 0 || stB.TXCopied == 0 || stA.TXMoved == 0 {
		t.Errorf("want frames both moved and copied: A %+v B %+v", stA, stB)
	}
	if txSize < stack.BatchSize && stA.TXRingFull+stB.TXRingFull == 0 {
		t.Errorf("TX ring never full with a %d-slot ring: A %+v B %+v", txSize, stA, stB)
	}
	if s.Frames().Outstanding() != 0 {
		t.Errorf("%d heap frames leaked", s.Frames().Outstanding())
	}
	epA.Close()
	epB.Close()
	if a := u.Accounting(); a.Free != a.NumFrames {
		t.Errorf("after Close: %+v, want every frame free", a)
	}
}

const helperEnv = "NEXTHOP_AFXDP_HELPER_IF"

// helperAttachAndHang runs in a child process (see
// TestDetachOnProcessDeath): it attaches to the interface, says so, and
// waits to be killed.
func helperAttachAndHang() {
	u, err := NewUMEM(UMEMOptions{NumFrames: 64})
	if err == nil {
		_, err = New(Options{Interface: os.Getenv(helperEnv), UMEMs: []*UMEM{u}, Mode: ModeGeneric})
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	time.Sleep(30 * time.Second)
	os.Exit(0)
}

// TestDetachOnProcessDeath: the XDP program is a bpf_link, so when the
// process holding it dies (here: SIGKILL, no cleanup at all) the kernel
// detaches it and the interface is the kernel's again. Close detaching is
// checked in TestRXAndTX.
func TestDetachOnProcessDeath(t *testing.T) {
	netnstest.RequireRoot(t)
	rns := netnstest.New(t, "xr")
	hns := netnstest.New(t, "xh")
	netnstest.Veth(t, rns, "r0", hns, "h0")
	cmd := exec.Command("ip", "netns", "exec", rns.Name, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=r0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	if !xdpAttached(t, rns, "r0") {
		t.Fatal("helper's XDP program not attached")
	}
	// Kill the whole process: `ip netns exec` execs the test binary, so
	// cmd.Process is the helper itself.
	if err := cmd.Process.Signal(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	deadline := time.Now().Add(2 * time.Second)
	for xdpAttached(t, rns, "r0") {
		if time.Now().After(deadline) {
			t.Fatal("XDP program still attached 2 s after the process died")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The interface is usable by a new endpoint at once (bind retries the
	// EBUSY of the dying socket).
	s := stack.New(stack.Options{})
	w, _ := s.NewWorker()
	u := newUMEM(t, UMEMOptions{NumFrames: 64, Worker: w.ID()})
	ep := newEndpoint(t, rns, DefaultOpts("r0", u))
	ep.Close()
}
