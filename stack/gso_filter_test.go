package stack_test

import (
	"bytes"
	"testing"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/stack"
)

// filterLink is a GSO-capable link that takes super-packets only of the
// types in accept (stack.GSOTypeFilter), like a PACKET_MMAP port whose
// device has TSO off, and counts how often the stack asks.
type filterLink struct {
	*batchLink
	accept map[stack.GSOType]bool
	asked  int
}

var _ stack.GSOTypeFilter = (*filterLink)(nil)

func (l *filterLink) AcceptsGSO(t stack.GSOType) bool {
	l.asked++
	return l.accept[t]
}

// TestGSOTypeFilter: a link that takes GSO but refuses TCPv4 super-packets
// gets them cut by the stack, byte for byte as for a link without GSO, and
// TCPv6 super-packets, which it accepts, whole. The filter is asked once per
// super-packet and never for an ordinary packet.
func TestGSOTypeFilter(t *testing.T) {
	var fl *filterLink
	n := newGSONetWrapped(t, 0, func(i int, l *batchLink) stack.LinkEndpoint {
		if i != gsoCapable {
			return l
		}
		fl = &filterLink{batchLink: l, accept: map[stack.GSOType]bool{stack.GSOTCPv6: true}}
		return fl
	})

	// Refused: TCPv4 is segmented in software.
	p := superSpec{egress: gsoCapable, mss: 1448, payload: 10*1448 + 7, df: true, needsCsum: true, flags: header.TCPFlagPSH}
	net, g, l4, hl := p.build()
	want := refSegment(net, l4, hl, p.mss, false, gsoCapable)
	n.inject(t, net, g)
	got := n.host[gsoCapable].DrainBytes()
	if len(got) != len(want) {
		t.Fatalf("TCPv4 refused by the link: got %d frames, want %d segments", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("TCPv4 segment %d of %d:\n got %x\nwant %x", i, len(want), got[i], want[i])
		}
	}
	if s := n.nic[gsoCapable].Stats(); s.TXGSOSegmented != 1 || s.TXGSOSegments != uint64(len(want)) {
		t.Errorf("TCPv4: TXGSOSegmented %d, TXGSOSegments %d; want 1, %d", s.TXGSOSegmented, s.TXGSOSegments, len(want))
	}
	if fl.asked != 1 {
		t.Errorf("AcceptsGSO called %d times for one super-packet, want 1", fl.asked)
	}

	// Accepted: TCPv6 passes whole with its metadata.
	p6 := superSpec{v6: true, egress: gsoCapable, mss: 1428, payload: 20000, df: true, needsCsum: true}
	net6, g6, _, _ := p6.build()
	n.inject(t, net6, g6)
	pkts := n.host[gsoCapable].Drain()
	if len(pkts) != 1 {
		t.Fatalf("TCPv6 accepted by the link: got %d frames, want the super-packet whole", len(pkts))
	}
	if pkts[0].GSO != g6 || len(pkts[0].Data()) != 14+len(net6) {
		t.Errorf("TCPv6: frame of %d bytes with GSO %+v, want %d bytes with %+v", len(pkts[0].Data()), pkts[0].GSO, 14+len(net6), g6)
	}
	pkts[0].Release()
	if s := n.nic[gsoCapable].Stats(); s.TXGSOSegmented != 1 {
		t.Errorf("TCPv6: TXGSOSegmented %d, want still 1", s.TXGSOSegmented)
	}

	// An ordinary packet does not ask the filter.
	asked := fl.asked
	small := superSpec{egress: gsoCapable, mss: 1448, payload: 100}
	net1, _, _, _ := small.build()
	n.inject(t, net1, stack.GSO{})
	if f := n.host[gsoCapable].Discard(); f != 1 {
		t.Errorf("ordinary packet: %d frames, want 1", f)
	}
	if fl.asked != asked {
		t.Errorf("AcceptsGSO called %d times for an ordinary packet, want 0", fl.asked-asked)
	}
}
