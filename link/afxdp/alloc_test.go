//go:build linux

package afxdp

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/stack"
)

// allocForwarder forwards test frames from one endpoint to another like
// the stack does (MACs rewritten in place, one WritePackets per batch), and
// adds one frame of the stack's pool to each batch so that WritePackets
// takes both its paths: a frame of the shared UMEM moved without a copy,
// and a foreign frame copied into a free UMEM frame. It allocates nothing
// itself, so whatever AllocsPerRun counts is the link's.
type allocForwarder struct {
	out       *Endpoint
	dst       []byte
	pool      *stack.FramePool
	extra     []byte
	list      stack.PacketBufferList
	forwarded int
}

func (f *allocForwarder) DeliverNetworkPacket(_ *stack.Worker, _ stack.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	pkt.Release()
}

func (f *allocForwarder) DeliverNetworkPackets(_ *stack.Worker, pkts *stack.PacketBufferList) {
	src := f.out.LinkAddress()
	for _, pkt := range pkts.AsSlice() {
		d := pkt.Data()
		if len(d) < 18 || binary.BigEndian.Uint16(d[12:14]) != testEtherType {
			pkt.Release() // the hosts' own IPv6 ND/MLD
			continue
		}
		copy(d[0:6], f.dst)
		copy(d[6:12], src[:])
		f.list.PushBack(pkt)
		f.forwarded++
	}
	pkts.Reset()
	if f.list.Len() == 0 {
		return
	}
	x := f.pool.Get()
	x.SetLen(len(f.extra))
	copy(x.Data(), f.extra)
	f.list.PushBack(x)
	_, _ = f.out.WritePackets(f.list)
	f.list.Reset()
}

// discard releases whatever it is given (host B's own ND/MLD frames).
type discard struct{}

func (discard) DeliverNetworkPacket(_ *stack.Worker, _ stack.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	pkt.Release()
}

func (discard) DeliverNetworkPackets(_ *stack.Worker, pkts *stack.PacketBufferList) { pkts.Release() }

// TestSteadyStateAllocs (issue 7): once running, the AF_XDP link's packet
// path allocates nothing. Each run writes a frame through B's slow path
// (the control worker's), has host A send a burst into interface A, polls
// A until the worker has forwarded it (Poll: reap, refill, RX, deliver)
// through B's WritePackets (a moved frame per received one plus a copied
// pool frame, one kick), and polls B to reap the completions.
// testing.AllocsPerRun counts every allocation of the process in that
// time, so host A's sendto and the test's own dispatcher are in the count
// too; they allocate nothing either.
func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector (sync.Pool drops items)")
	}
	for _, mode := range []Mode{ModeGeneric, ModeDriver} {
		t.Run(mode.String(), func(t *testing.T) { testSteadyStateAllocs(t, mode) })
	}
}

func testSteadyStateAllocs(t *testing.T, mode Mode) {
	tp := newTopology(t)
	s := stack.New(stack.Options{})
	w, _ := s.NewWorker()
	u := newUMEM(t, UMEMOptions{NumFrames: 256, Worker: w.ID()})
	o := DefaultOpts("ra", u)
	o.Mode = mode
	o.RXSize, o.TXSize, o.FillSize, o.CompletionSize = 64, 64, 64, 64
	epA := newEndpoint(t, tp.r, o)
	o.Interface = "rb"
	epB := newEndpoint(t, tp.r, o)
	if got, why := epA.Mode(); got != mode {
		t.Fatalf("attach mode %v (%s), want %v", got, why, mode)
	}

	txA, _ := rawSocket(t, tp.ha, "a0")
	macB := tp.hb.MAC(t, "b0")
	macRA, macRB := epA.LinkAddress(), epB.LinkAddress()
	fw := &allocForwarder{
		out:   epB,
		dst:   macB,
		pool:  s.Frames(),
		extra: testFrame(macB, macRB[:], 0, 60),
		list:  stack.MakePacketBufferList(stack.BatchSize),
	}
	fw.list.Queue = w.ID()
	epA.Attach(fw)
	epB.Attach(discard{})

	const burst = 4
	frames := make([][]byte, burst)
	for i := range frames {
		frames[i] = testFrame(macRA[:], []byte{2, 0, 0, 0, 0, 0xa}, uint32(i+1), 60+100*i)
	}
	pfd := []unix.PollFd{{Fd: int32(epA.RXFD(0)), Events: unix.POLLIN}}
	// The control worker (ID 0) has no socket on B: its frames (ARP, ICMP
	// errors) take the AF_PACKET slow path.
	slow := stack.MakePacketBufferList(1)
	slow.Queue = 0
	lost := 0
	run := func() {
		x := fw.pool.Get()
		x.SetLen(len(fw.extra))
		copy(x.Data(), fw.extra)
		slow.PushBack(x)
		if n, _ := epB.WritePackets(slow); n != 1 {
			lost++
		}
		slow.Reset()
		want := fw.forwarded + burst
		for _, f := range frames {
			if err := unix.Sendto(txA, f, 0, nil); err != nil {
				lost++
				return
			}
		}
		for i := 0; fw.forwarded < want; i++ {
			if i == 100 { // 100 polls of up to 10 ms: the frames are gone
				lost++
				return
			}
			if epA.Poll(w, 0) == 0 {
				pfd[0].Revents = 0
				_, _ = unix.Poll(pfd, 10)
			}
		}
		epB.Poll(w, 0)
	}
	// Warm up: the first polls lend the fill ring, the first writes take
	// UMEM frames off the free list. In leak-check mode (TestMain) the
	// pool holds released frames back in a quarantine before reusing
	// them; cycle past it so pool frames are reused during the runs.
	for range stack.LeakCheckQuarantine + 8 {
		s.Frames().Get().Release()
	}
	for range 50 {
		run()
	}
	before, slowBefore := epB.Stats(), epB.SlowPathStats()
	const runs = 200
	allocs := testing.AllocsPerRun(runs, run)
	after, slowAfter := epB.Stats(), epB.SlowPathStats()
	if lost != 0 {
		t.Fatalf("%d bursts were not forwarded within 1 s, or slow-path writes failed (stats A %+v, B %+v)", lost, epA.Stats(), after)
	}
	moved, copied := after.TXMoved-before.TXMoved, after.TXCopied-before.TXCopied
	slowSent := slowAfter.TXPackets - slowBefore.TXPackets
	t.Logf("%v mode: %.1f allocations per run (a burst of %d frames); B moved %d, copied %d, sent %d through the slow path", mode, allocs, burst, moved, copied, slowSent)
	// AllocsPerRun makes one extra warm-up call.
	if moved < runs*burst || copied < runs || slowSent < runs {
		t.Errorf("B moved %d, copied %d and slow-sent %d frames, want ≥ %d, %d, %d: the runs did not take every TX path", moved, copied, slowSent, runs*burst, runs, runs)
	}
	if allocs != 0 {
		t.Errorf("Poll → DeliverNetworkPackets → WritePackets (socket and slow path) → Poll allocated %.1f times per run, want 0", allocs)
	}
	if err := u.Check(); err != nil {
		t.Error(err)
	}
}
