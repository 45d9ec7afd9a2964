package stack_test

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/nexthop-router/nexthop/link/memlink"
	"github.com/nexthop-router/nexthop/stack"
)

// recordProto is a test protocol on any EtherType whose endpoints record
// every HandlePackets call (the first payload byte of each packet and the
// metadata the NIC set) and release the packets.
type recordProto struct {
	num   stack.NetworkProtocolNumber
	calls *[][]recorded
}

type recorded struct {
	tag                 byte
	proto               stack.NetworkProtocolNumber
	nic                 stack.NICID
	pktType             stack.PacketType
	linkOff, networkOff int
}

func (p *recordProto) Number() stack.NetworkProtocolNumber { return p.num }
func (p *recordProto) MinimumPacketSize() int              { return 1 }
func (p *recordProto) ParseAddresses([]byte) (netip.Addr, netip.Addr) {
	return netip.Addr{}, netip.Addr{}
}
func (p *recordProto) NewEndpoint(nic *stack.NIC) stack.NetworkEndpoint {
	return &recordEP{p: p}
}

type recordEP struct{ p *recordProto }

func (e *recordEP) Enable() error        { return nil }
func (e *recordEP) Disable()             {}
func (e *recordEP) Enabled() bool        { return true }
func (e *recordEP) DefaultTTL() uint8    { return 64 }
func (e *recordEP) MTU() uint32          { return 1500 }
func (e *recordEP) Close()               {}
func (e *recordEP) Stats() stack.IPStats { return stack.IPStats{} }
func (e *recordEP) HandlePackets(w *stack.Worker, pkts []*stack.PacketBuffer) {
	var call []recorded
	for _, pkt := range pkts {
		call = append(call, recorded{
			tag: pkt.Data()[0], proto: pkt.NetworkProtocol, nic: pkt.NICID, pktType: pkt.PktType,
			linkOff: pkt.LinkHeaderOffset, networkOff: pkt.NetworkHeaderOffset,
		})
		pkt.Release()
	}
	*e.p.calls = append(*e.p.calls, call)
}

// TestDispatchSortsBatchByProtocol checks that a batch is handed to each
// protocol in one call with its packets in arrival order, both when it
// mixes protocols and when it holds one, with the headers and metadata
// set, and that the frames the NIC refuses never reach a protocol.
func TestDispatchSortsBatchByProtocol(t *testing.T) {
	var v4calls, v6calls [][]recorded
	s := stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{
			func(*stack.Stack) stack.NetworkProtocol {
				return &recordProto{num: stack.IPv4ProtocolNumber, calls: &v4calls}
			},
			func(*stack.Stack) stack.NetworkProtocol {
				return &recordProto{num: stack.IPv6ProtocolNumber, calls: &v6calls}
			},
		},
		Clock: stack.NewFakeClock(),
	})
	rt, host := memlink.NewPair(memlink.Options{}, memlink.Options{})
	nic, err := s.CreateNIC(1, "eth1", rt)
	if err != nil {
		t.Fatalf("CreateNIC: %v", err)
	}
	if err := nic.Enable(); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	w, err := s.NewWorker()
	if err != nil {
		t.Fatalf("NewWorker: %v", err)
	}
	mk := func(dst stack.LinkAddress, proto stack.NetworkProtocolNumber, tag byte) []byte {
		b := make([]byte, 60)
		copy(b[0:6], dst[:])
		src := host.LinkAddress()
		copy(b[6:12], src[:])
		binary.BigEndian.PutUint16(b[12:14], uint16(proto))
		b[14] = tag
		return b
	}
	me := rt.LinkAddress()
	mcast := stack.LinkAddress{0x33, 0x33, 0, 0, 0, 1}
	other := stack.LinkAddress{0x02, 0xbb, 0, 0, 0, 9}
	send := func(frames ...[]byte) {
		t.Helper()
		for _, f := range frames {
			if err := host.WriteFrame(f); err != nil {
				t.Fatal(err)
			}
		}
		if n := rt.Poll(w, 0); n != len(frames) {
			t.Fatalf("Poll delivered %d frames, want %d in one batch", n, len(frames))
		}
	}
	send(
		mk(me, stack.IPv4ProtocolNumber, 1),
		mk(me, stack.IPv6ProtocolNumber, 2),
		make([]byte, 10), // runt
		mk(stack.BroadcastLinkAddress, stack.IPv4ProtocolNumber, 3),
		mk(other, stack.IPv6ProtocolNumber, 99), // not for us
		mk(me, 0x88cc, 98),                      // no protocol
		mk(mcast, stack.IPv6ProtocolNumber, 4),
	)
	head := stack.DefaultHeadroom
	want4 := []recorded{
		{1, stack.IPv4ProtocolNumber, 1, stack.PacketHost, head, head + 14},
		{3, stack.IPv4ProtocolNumber, 1, stack.PacketBroadcast, head, head + 14},
	}
	want6 := []recorded{
		{2, stack.IPv6ProtocolNumber, 1, stack.PacketHost, head, head + 14},
		{4, stack.IPv6ProtocolNumber, 1, stack.PacketMulticast, head, head + 14},
	}
	if len(v4calls) != 1 || !equalRecords(v4calls[0], want4) {
		t.Errorf("mixed batch: IPv4 calls = %+v, want one call with %+v", v4calls, want4)
	}
	if len(v6calls) != 1 || !equalRecords(v6calls[0], want6) {
		t.Errorf("mixed batch: IPv6 calls = %+v, want one call with %+v", v6calls, want6)
	}
	if st := nic.Stats(); st.RXFrames != 7 || st.RXRunt != 1 || st.RXNotForUs != 1 || st.RXUnknownEtherType != 1 {
		t.Errorf("NIC stats = %+v, want 7 frames: 1 runt, 1 not for us, 1 unknown EtherType", st)
	}

	v4calls, v6calls = nil, nil
	send(mk(me, stack.IPv6ProtocolNumber, 5), mk(other, stack.IPv4ProtocolNumber, 97), mk(me, stack.IPv6ProtocolNumber, 6))
	want6 = []recorded{
		{5, stack.IPv6ProtocolNumber, 1, stack.PacketHost, head, head + 14},
		{6, stack.IPv6ProtocolNumber, 1, stack.PacketHost, head, head + 14},
	}
	if len(v4calls) != 0 || len(v6calls) != 1 || !equalRecords(v6calls[0], want6) {
		t.Errorf("IPv6-only batch: IPv4 calls %+v, IPv6 calls %+v; want no IPv4 call and one IPv6 call with %+v", v4calls, v6calls, want6)
	}
	if n := host.Frames().Outstanding(); n != 0 {
		t.Errorf("%d frames leaked", n)
	}
}

func equalRecords(a, b []recorded) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLocalAddressForms checks that every form of the local-address test
// agrees, for addresses that differ from a local one in one byte at either
// end (the last byte is also what the quick filter looks at).
func TestLocalAddressForms(t *testing.T) {
	tn := newTestNet(t, 2)
	for i, p := range []string{"198.18.0.1/24", "198.19.5.231/24", "2001:db8::1/64", "2001:db8:1::e7/64"} {
		if err := tn.s.NIC(stack.NICID(1 + i%2)).AddAddress(netip.MustParsePrefix(p)); err != nil {
			t.Fatalf("AddAddress(%s): %v", p, err)
		}
	}
	for _, c := range []struct {
		addr  string
		local bool
	}{
		{"198.18.0.1", true}, {"198.19.5.231", true}, {"198.18.0.2", false}, {"199.18.0.1", false},
		{"198.19.5.1", false}, {"198.19.5.137", false},
		{"2001:db8::1", true}, {"2001:db8:1::e7", true}, {"2001:db8::2", false}, {"3001:db8::1", false},
		{"2001:db8:1::1", false}, {"2001:db8:1::87", false},
	} {
		a := netip.MustParseAddr(c.addr)
		if a.Is4() {
			b := a.As4()
			if got := tn.s.IsLocalAddress4(b); got != c.local {
				t.Errorf("IsLocalAddress4(%v) = %v, want %v", a, got, c.local)
			}
			if got := tn.s.IsLocalAddress4Word(binary.BigEndian.Uint32(b[:])); got != c.local {
				t.Errorf("IsLocalAddress4Word(%v) = %v, want %v", a, got, c.local)
			}
			continue
		}
		b := a.As16()
		if got := tn.s.IsLocalAddress6(b); got != c.local {
			t.Errorf("IsLocalAddress6(%v) = %v, want %v", a, got, c.local)
		}
		if got := tn.s.IsLocalAddress6At(&b); got != c.local {
			t.Errorf("IsLocalAddress6At(%v) = %v, want %v", a, got, c.local)
		}
	}
}

// A one-protocol batch whose last frame is rejected (an EtherType the
// stack does not run, or a protocol with no endpoint on this NIC) goes to
// the kept frames' protocol: a review found it indexed eps[-1] or a nil
// endpoint, a crash anyone on the segment could trigger.
func TestDispatchBatchEndingInRejectedFrame(t *testing.T) {
	for _, c := range []struct {
		name string
		last uint16
	}{{"LLDP", 0x88cc}, {"IPv6 without an endpoint", uint16(stack.IPv6ProtocolNumber)}} {
		t.Run(c.name, func(t *testing.T) { dispatchTrailing(t, c.last) })
	}
}

func dispatchTrailing(t *testing.T, lastEtherType uint16) {
	var v4calls [][]recorded
	s := stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{
			func(*stack.Stack) stack.NetworkProtocol {
				return &recordProto{num: stack.IPv4ProtocolNumber, calls: &v4calls}
			},
		},
		Clock: stack.NewFakeClock(),
	})
	rt, host := memlink.NewPair(memlink.Options{}, memlink.Options{})
	nic, _ := s.CreateNIC(1, "eth1", rt)
	nic.Enable()
	w, _ := s.NewWorker()
	mk := func(proto uint16, tag byte) []byte {
		b := make([]byte, 60)
		me := rt.LinkAddress()
		copy(b[0:6], me[:])
		binary.BigEndian.PutUint16(b[12:14], proto)
		b[14] = tag
		return b
	}
	for _, last := range []uint16{lastEtherType} {
		v4calls = nil
		host.WriteFrame(mk(uint16(stack.IPv4ProtocolNumber), 1))
		host.WriteFrame(mk(last, 2))
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("last EtherType %#x: panic: %v", last, r)
				}
			}()
			rt.Poll(w, 0)
		}()
		if len(v4calls) != 1 {
			t.Errorf("last EtherType %#x: IPv4 calls = %d, want 1", last, len(v4calls))
		}
	}
}
