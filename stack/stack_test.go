package stack_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"testing"

	"github.com/nexthop-router/nexthop/link/memlink"
	"github.com/nexthop-router/nexthop/stack"
)

func TestMain(m *testing.M) { os.Exit(stack.RunTestsWithLeakCheck(m)) }

// countingLink wraps a memlink end and counts WritePackets calls, so tests
// can assert "one WritePackets per egress NIC per batch".
type countingLink struct {
	*memlink.Endpoint
	calls  int
	frames int
}

func (c *countingLink) WritePackets(pkts stack.PacketBufferList) (int, error) {
	c.calls++
	c.frames += pkts.Len()
	return c.Endpoint.WritePackets(pkts)
}

// steerProto is a test protocol on the IPv4 EtherType that sends every
// packet out of the NIC named by the packet's first byte, rewriting only
// the Ethernet header: the smallest thing that exercises the batch path.
type steerProto struct{ s *stack.Stack }

func (p *steerProto) Number() stack.NetworkProtocolNumber { return stack.IPv4ProtocolNumber }
func (p *steerProto) MinimumPacketSize() int              { return 1 }
func (p *steerProto) ParseAddresses([]byte) (netip.Addr, netip.Addr) {
	return netip.Addr{}, netip.Addr{}
}
func (p *steerProto) NewEndpoint(nic *stack.NIC) stack.NetworkEndpoint {
	return &steerEP{nic: nic}
}

type steerEP struct {
	nic   *stack.NIC
	stats stack.PerWorkerIPStats
}

func (e *steerEP) Enable() error     { return nil }
func (e *steerEP) Disable()          {}
func (e *steerEP) Enabled() bool     { return true }
func (e *steerEP) DefaultTTL() uint8 { return 64 }
func (e *steerEP) MTU() uint32       { return e.nic.MTU() }
func (e *steerEP) Close()            {}
func (e *steerEP) Stats() stack.IPStats {
	return e.stats.Sum()
}
func (e *steerEP) HandlePackets(w *stack.Worker, pkts []*stack.PacketBuffer) {
	st := &e.stats[w.ID()]
	for _, pkt := range pkts {
		st.PacketsReceived++
		out := w.Stack().NIC(stack.NICID(pkt.Data()[0]))
		if out == nil {
			st.Drop(stack.DropUnknownOutputEndpoint)
			pkt.Release()
			continue
		}
		st.Forwarded++
		out.WriteEthernet(w, pkt, out.LinkEndpoint().(*countingLink).Peer().LinkAddress(), stack.IPv4ProtocolNumber)
	}
}

type testNet struct {
	s     *stack.Stack
	links []*countingLink // index = NICID; [0] unused
	w     *stack.Worker
}

func newTestNet(t *testing.T, nics int) *testNet {
	t.Helper()
	tn := &testNet{links: make([]*countingLink, nics+1)}
	tn.s = stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{func(s *stack.Stack) stack.NetworkProtocol { return &steerProto{s} }},
		Clock:            stack.NewFakeClock(),
	})
	for i := 1; i <= nics; i++ {
		a, _ := memlink.NewPair(memlink.Options{}, memlink.Options{})
		tn.links[i] = &countingLink{Endpoint: a}
		nic, err := tn.s.CreateNIC(stack.NICID(i), "eth"+string(rune('0'+i)), tn.links[i])
		if err != nil {
			t.Fatalf("CreateNIC(%d): %v", i, err)
		}
		if err := nic.Enable(); err != nil {
			t.Fatalf("Enable: %v", err)
		}
	}
	w, err := tn.s.NewWorker()
	if err != nil {
		t.Fatalf("NewWorker: %v", err)
	}
	tn.w = w
	return tn
}

// frame builds an Ethernet frame to dst whose first payload byte names the
// egress NIC for steerProto.
func frame(dst stack.LinkAddress, egress byte) []byte {
	b := make([]byte, 60)
	copy(b[0:6], dst[:])
	copy(b[6:12], []byte{0x02, 0xaa, 0, 0, 0, 1})
	binary.BigEndian.PutUint16(b[12:14], uint16(stack.IPv4ProtocolNumber))
	b[14] = egress
	return b
}

func TestBatchGoesOutInOneWritePerEgressNIC(t *testing.T) {
	tn := newTestNet(t, 3)
	in := tn.links[1]
	for i := 0; i < stack.BatchSize; i++ {
		if err := in.Peer().WriteFrame(frame(in.LinkAddress(), byte(2+i%2))); err != nil {
			t.Fatalf("WriteFrame: %v", err)
		}
	}
	if got := in.Poll(tn.w, 0); got != stack.BatchSize {
		t.Fatalf("Poll delivered %d frames, want %d", got, stack.BatchSize)
	}
	for _, id := range []int{2, 3} {
		l := tn.links[id]
		if l.calls != 1 || l.frames != stack.BatchSize/2 {
			t.Errorf("NIC %d: %d WritePackets calls with %d frames, want 1 call with %d", id, l.calls, l.frames, stack.BatchSize/2)
		}
		got := l.Peer().DrainBytes()
		if len(got) != stack.BatchSize/2 {
			t.Fatalf("NIC %d peer received %d frames, want %d", id, len(got), stack.BatchSize/2)
		}
		// The NIC rewrote the Ethernet header: destination is the peer,
		// source is the egress NIC, payload untouched.
		var dst, src stack.LinkAddress
		copy(dst[:], got[0][0:6])
		copy(src[:], got[0][6:12])
		if dst != l.Peer().LinkAddress() || src != l.LinkAddress() || got[0][14] != byte(id) {
			t.Errorf("NIC %d frame: dst %v src %v egress byte %d", id, dst, src, got[0][14])
		}
	}
	if n := in.Frames().Outstanding(); n != 0 {
		t.Errorf("%d frames leaked", n)
	}
	if st := tn.s.NIC(1).Stats(); st.RXFrames != stack.BatchSize {
		t.Errorf("NIC 1 RXFrames = %d, want %d", st.RXFrames, stack.BatchSize)
	}
	if st := tn.s.NIC(2).Stats(); st.TXFrames != stack.BatchSize/2 {
		t.Errorf("NIC 2 TXFrames = %d, want %d", st.TXFrames, stack.BatchSize/2)
	}
}

func TestDispatchDropsAndCounts(t *testing.T) {
	tn := newTestNet(t, 2)
	in := tn.links[1]
	other := stack.LinkAddress{0x02, 0xbb, 0, 0, 0, 9}
	arpFrame := frame(in.LinkAddress(), 2)
	binary.BigEndian.PutUint16(arpFrame[12:14], 0x88cc) // LLDP: no protocol for it
	for _, f := range [][]byte{
		frame(other, 2),            // unicast to another MAC
		arpFrame,                   // unknown EtherType
		make([]byte, 10),           // runt
		frame(in.LinkAddress(), 9), // no NIC 9: the protocol drops it
	} {
		if err := in.Peer().WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	in.PollAll(tn.w)
	st := tn.s.NIC(1).Stats()
	if st.RXNotForUs != 1 || st.RXUnknownEtherType != 1 || st.RXRunt != 1 || st.RXFrames != 4 {
		t.Errorf("NIC stats = %+v, want 1 not-for-us, 1 unknown EtherType, 1 runt of 4 frames", st)
	}
	ip := tn.s.NIC(1).NetworkEndpoint(stack.IPv4ProtocolNumber).Stats()
	if ip.Drops[stack.DropUnknownOutputEndpoint] != 1 || ip.TotalDrops() != 1 {
		t.Errorf("IP drops = %v, want exactly one unknown_output_endpoint", ip.Drops)
	}
	if n := in.Frames().Outstanding(); n != 0 {
		t.Errorf("%d frames leaked", n)
	}
}

func TestDisabledNICDropsEverything(t *testing.T) {
	tn := newTestNet(t, 2)
	tn.s.NIC(1).Disable()
	in := tn.links[1]
	_ = in.Peer().WriteFrame(frame(in.LinkAddress(), 2))
	in.PollAll(tn.w)
	if st := tn.s.NIC(1).Stats(); st.RXDisabled != 1 {
		t.Errorf("RXDisabled = %d, want 1", st.RXDisabled)
	}
	if tn.links[2].calls != 0 {
		t.Errorf("disabled NIC forwarded a frame")
	}
	if n := in.Frames().Outstanding(); n != 0 {
		t.Errorf("%d frames leaked", n)
	}
}

func TestForwardingBatchAllocatesNothing(t *testing.T) {
	tn := newTestNet(t, 2)
	in := tn.links[1]
	pool := memlink.NewRing(2*stack.BatchSize, 2048)
	f := frame(in.LinkAddress(), 2)
	batch := stack.MakePacketBufferList(stack.BatchSize)
	out := tn.links[2].Peer()
	run := func() {
		for i := 0; i < stack.BatchSize; i++ {
			pkt := pool.Get()
			pkt.SetLen(len(f))
			copy(pkt.Data(), f)
			batch.PushBack(pkt)
		}
		_, _ = in.Peer().WritePackets(batch)
		batch.Reset()
		in.Poll(tn.w, 0)
		out.Discard()
	}
	run() // warm up: grow every slice once
	if allocs := testing.AllocsPerRun(100, run); allocs != 0 {
		t.Errorf("one batch through the stack: %v allocs, want 0", allocs)
	}
}

func TestNICAddresses(t *testing.T) {
	tn := newTestNet(t, 2)
	n1, n2 := tn.s.NIC(1), tn.s.NIC(2)
	a := netip.MustParsePrefix("198.18.0.1/24")
	if err := n1.AddAddress(a); err != nil {
		t.Fatalf("AddAddress(%v): %v", a, err)
	}
	if err := n2.AddAddress(a); !errors.Is(err, stack.ErrDuplicateAddress) {
		t.Errorf("AddAddress of a duplicate on another NIC: err = %v, want ErrDuplicateAddress", err)
	}
	if !n1.HasAddress(a.Addr()) || n2.HasAddress(a.Addr()) {
		t.Errorf("HasAddress wrong after add")
	}
	if !tn.s.IsLocalAddress4(a.Addr().As4()) {
		t.Errorf("IsLocalAddress4(%v) = false", a.Addr())
	}
	if got := n1.PrimaryAddress(netip.MustParseAddr("198.18.0.77")); got != a.Addr() {
		t.Errorf("PrimaryAddress = %v, want %v", got, a.Addr())
	}
	r, ok := tn.s.Routes().LookupRoute(netip.MustParseAddr("198.18.0.200"))
	if !ok || r.Prefix != a.Masked() || r.Source != stack.RouteSourceConnected || len(r.NextHops) != 1 || r.NextHops[0].NIC != 1 || r.NextHops[0].Gateway.IsValid() {
		t.Errorf("connected route = %+v, %v; want on-link %v via NIC 1", r, ok, a.Masked())
	}
	if err := n1.RemoveAddress(a.Addr()); err != nil {
		t.Fatalf("RemoveAddress: %v", err)
	}
	if _, ok := tn.s.Routes().LookupRoute(netip.MustParseAddr("198.18.0.200")); ok {
		t.Errorf("connected route survived the removal of its address")
	}
	if tn.s.IsLocalAddress4(a.Addr().As4()) {
		t.Errorf("address still local after removal")
	}
	if err := n1.RemoveAddress(a.Addr()); !errors.Is(err, stack.ErrNoSuchAddress) {
		t.Errorf("second RemoveAddress: err = %v, want ErrNoSuchAddress", err)
	}
}

func TestCreateNICErrors(t *testing.T) {
	tn := newTestNet(t, 1)
	a, _ := memlink.NewPair(memlink.Options{}, memlink.Options{})
	if _, err := tn.s.CreateNIC(1, "other", a); !errors.Is(err, stack.ErrNICExists) {
		t.Errorf("CreateNIC with a used ID: err = %v, want ErrNICExists", err)
	}
	if _, err := tn.s.CreateNIC(2, "eth1", a); !errors.Is(err, stack.ErrNICExists) {
		t.Errorf("CreateNIC with a used name: err = %v, want ErrNICExists", err)
	}
	if _, err := tn.s.CreateNIC(0, "zero", a); err == nil {
		t.Errorf("CreateNIC(0) succeeded; 0 is reserved")
	}
}

// TestConnectedRoutesFollowAddresses: the same subnet on two NICs keeps one
// connected route that survives removing either address, and a connected
// route takes the prefix over from a static one.
func TestConnectedRoutesFollowAddresses(t *testing.T) {
	tn := newTestNet(t, 2)
	n1, n2 := tn.s.NIC(1), tn.s.NIC(2)
	p := netip.MustParsePrefix("198.18.0.0/24")
	if err := tn.s.Routes().Add(stack.Route{Prefix: p, NextHops: []stack.NextHop{{Gateway: netip.MustParseAddr("198.19.0.1"), NIC: 2}}}); err != nil {
		t.Fatal(err)
	}
	route := func() (stack.Route, bool) { return tn.s.Routes().Get(p) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(n1.AddAddress(netip.MustParsePrefix("198.18.0.1/24")))
	if r, _ := route(); r.Source != stack.RouteSourceConnected || r.NextHops[0].NIC != 1 {
		t.Errorf("after NIC 1 got 198.18.0.1/24: route %+v, want connected via NIC 1", r)
	}
	must(n2.AddAddress(netip.MustParsePrefix("198.18.0.2/24")))
	if r, _ := route(); r.NextHops[0].NIC != 1 {
		t.Errorf("NIC 2's address on the same subnet took the route: %+v", r)
	}
	must(n1.RemoveAddress(netip.MustParseAddr("198.18.0.1")))
	if r, ok := route(); !ok || r.Source != stack.RouteSourceConnected || r.NextHops[0].NIC != 2 {
		t.Errorf("after NIC 1 lost its address: route %+v (%v), want connected via NIC 2", r, ok)
	}
	must(n2.RemoveAddress(netip.MustParseAddr("198.18.0.2")))
	if r, ok := route(); ok {
		t.Errorf("connected route %+v survived the last address", r)
	}
}

func TestAddAddressRejectsNonUnicast(t *testing.T) {
	tn := newTestNet(t, 1)
	for _, a := range []string{"0.0.0.0/8", "224.0.0.1/4", "::/64", "ff02::1/64", "198.18.0.1/0", "::ffff:198.18.0.1/120"} {
		if err := tn.s.NIC(1).AddAddress(netip.MustParsePrefix(a)); err == nil {
			t.Errorf("AddAddress(%s) succeeded", a)
		}
	}
}
