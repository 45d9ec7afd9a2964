package ipv6_test

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/ipv6"
	"github.com/nexthop-router/nexthop/ndp"
	"github.com/nexthop-router/nexthop/stack"
)

func TestLinkLocalAddress(t *testing.T) {
	r := newRouter(t, routerConfig{})
	for id, want := range map[int]netip.Addr{1: rLL1, 2: rLL2} {
		if !r.nic[id].HasAddress(want) {
			t.Errorf("NIC %d addresses %v, want the EUI-64 link-local %v", id, r.nic[id].Addresses(), want)
		}
	}
	// Link-local addresses get no connected route (never routed).
	if fe := r.s.Routes().Lookup6(rLL1.As16()); fe != nil {
		t.Errorf("route for %v exists: %+v", rLL1, fe)
	}
	// Enabling again does not add a second one.
	if err := r.nic[1].Enable(); err != nil {
		t.Fatalf("second Enable: %v", err)
	}
	n := 0
	for _, p := range r.nic[1].Addresses() {
		if p.Addr().IsLinkLocalUnicast() {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d link-local addresses after a second Enable, want 1", n)
	}
}

func TestLocalDelivery(t *testing.T) {
	allNodesMAC := stack.LinkAddress{0x33, 0x33, 0, 0, 0, 1}
	tests := []struct {
		name      string
		p         pkt
		reply     bool       // an echo reply to host1
		replySrc  netip.Addr // the reply's source
		replyDst  netip.Addr // zero: hAddr1
		err       *wantICMP
		drops     dropCounts
		delivered uint64
		icmp      func(t *testing.T, s ipv6.ICMPv6Stats)
	}{
		{
			name: "echo to the NIC's address", p: echo(hAddr1, rAddr1),
			reply: true, replySrc: rAddr1, delivered: 1,
		},
		{
			name: "echo to another NIC's address (weak host)", p: echo(hAddr1, rAddr2),
			reply: true, replySrc: rAddr2, delivered: 1,
		},
		{
			name: "echo to the link-local address", p: echo(hLL1, rLL1),
			reply: true, replySrc: rLL1, replyDst: hLL1, delivered: 1,
		},
		{
			name: "echo to all-nodes", p: func() pkt {
				p := echo(hAddr1, ndp.AllNodes)
				p.ethDst = allNodesMAC
				return p
			}(),
			reply: true, replySrc: rAddr1, delivered: 1,
		},
		{
			name: "echo with a bad checksum",
			p: func() pkt {
				p := echo(hAddr1, rAddr1)
				p.payload[2] ^= 0xff
				return p
			}(),
			drops: dropCounts{stack.DropMalformed: 1},
			icmp: func(t *testing.T, s ipv6.ICMPv6Stats) {
				if s.ChecksumErrors != 1 {
					t.Errorf("ChecksumErrors = %d, want 1", s.ChecksumErrors)
				}
			},
		},
		{
			name:  "ICMPv6 shorter than 8 bytes",
			p:     pkt{src: hAddr1, dst: rAddr1, next: header.IPv6ProtocolICMPv6, payload: []byte{128, 0, 0, 0}},
			drops: dropCounts{stack.DropMalformed: 1},
		},
		{
			// Like IPv4 (and UDP), so traceroute6 -T ends as for IPv4.
			name:  "TCP: port unreachable",
			p:     pkt{src: hAddr1, dst: rAddr1, next: header.IPv6ProtocolTCP, payload: make([]byte, 20)},
			err:   &wantICMP{typ: header.ICMPv6DstUnreachable, code: header.ICMPv6PortUnreachable},
			drops: dropCounts{stack.DropUnknownProtocol: 1},
		},
		{
			name:  "TCP after a destination options header: port unreachable",
			p:     pkt{src: hAddr1, dst: rAddr1, next: header.IPv6ExtDestination, payload: append([]byte{header.IPv6ProtocolTCP, 0, 1, 4, 0, 0, 0, 0}, make([]byte, 20)...)},
			err:   &wantICMP{typ: header.ICMPv6DstUnreachable, code: header.ICMPv6PortUnreachable},
			drops: dropCounts{stack.DropUnknownProtocol: 1},
		},
		{
			name:  "GRE: parameter problem 1 at the Next Header field",
			p:     pkt{src: hAddr1, dst: rAddr1, next: 47, payload: make([]byte, 20)},
			err:   &wantICMP{typ: header.ICMPv6ParamProblem, code: header.ICMPv6UnrecognizedNextHeader, rest: 6},
			drops: dropCounts{stack.DropUnknownProtocol: 1},
		},
		{
			name:  "unknown protocol after a destination options header",
			p:     pkt{src: hAddr1, dst: rAddr1, next: header.IPv6ExtDestination, payload: []byte{132, 0, 1, 4, 0, 0, 0, 0}},
			err:   &wantICMP{typ: header.ICMPv6ParamProblem, code: header.ICMPv6UnrecognizedNextHeader, rest: 40},
			drops: dropCounts{stack.DropUnknownProtocol: 1},
		},
		{
			name:  "UDP: port unreachable",
			p:     pkt{src: hAddr1, dst: rAddr1, next: header.IPv6ProtocolUDP, payload: udp(10)},
			err:   &wantICMP{typ: header.ICMPv6DstUnreachable, code: header.ICMPv6PortUnreachable},
			drops: dropCounts{stack.DropUnknownProtocol: 1},
		},
		{
			name:      "no next header",
			p:         pkt{src: hAddr1, dst: rAddr1, next: header.IPv6NoNextHeader},
			delivered: 1,
		},
		{
			name: "extension header chain runs past the packet",
			// Destination Options claiming 16 bytes in a packet of 8.
			p:     pkt{src: hAddr1, dst: rAddr1, next: header.IPv6ExtDestination, payload: []byte{59, 1, 1, 4, 0, 0, 0, 0}},
			err:   &wantICMP{typ: header.ICMPv6ParamProblem, code: header.ICMPv6ErroneousHeaderField, rest: 41},
			drops: dropCounts{stack.DropExtensionHeaderProblem: 1},
		},
		{
			name: "hop-by-hop after another header",
			// Destination Options whose Next Header is Hop-by-Hop (0).
			p:     pkt{src: hAddr1, dst: rAddr1, next: header.IPv6ExtDestination, payload: []byte{0, 0, 1, 4, 0, 0, 0, 0, 59, 0, 1, 4, 0, 0, 0, 0}},
			err:   &wantICMP{typ: header.ICMPv6ParamProblem, code: header.ICMPv6UnrecognizedNextHeader, rest: 40},
			drops: dropCounts{stack.DropExtensionHeaderProblem: 1},
		},
		{
			name:  "destination option 10 for us: parameter problem 2",
			p:     pkt{src: hAddr1, dst: rAddr1, next: header.IPv6ExtDestination, payload: []byte{59, 0, 0x9e, 2, 0, 0, 1, 0}},
			err:   &wantICMP{typ: header.ICMPv6ParamProblem, code: header.ICMPv6UnrecognizedOption, rest: 42},
			drops: dropCounts{stack.DropExtensionHeaderProblem: 1},
		},
		{
			name:  "routing header with segments left for us",
			p:     pkt{src: hAddr1, dst: rAddr1, next: header.IPv6ExtRouting, payload: []byte{59, 0, 4, 1, 0, 0, 0, 0}},
			err:   &wantICMP{typ: header.ICMPv6ParamProblem, code: header.ICMPv6ErroneousHeaderField, rest: 42},
			drops: dropCounts{stack.DropExtensionHeaderProblem: 1},
		},
		{
			name:  "non-atomic fragment for us: no reassembly",
			p:     pkt{src: hAddr1, dst: rAddr1, next: header.IPv6ExtFragment, payload: []byte{58, 0, 0, 1, 0, 0, 0, 7, 128, 0, 0, 0, 0, 0, 0, 0}},
			drops: dropCounts{stack.DropUnknownProtocol: 1},
		},
		{
			name:  "multicast group we did not join",
			p:     pkt{ethDst: stack.LinkAddress{0x33, 0x33, 0xff, 0, 0, 9}, src: hAddr1, dst: netip.MustParseAddr("ff02::1:ff00:9"), next: header.IPv6NoNextHeader},
			drops: dropCounts{stack.DropInvalidDestination: 1},
		},
		{
			name:      "our solicited-node group",
			p:         pkt{ethDst: stack.LinkAddress{0x33, 0x33, 0xff, 0, 0, 1}, src: hAddr1, dst: netip.MustParseAddr("ff02::1:ff00:1"), next: header.IPv6NoNextHeader},
			delivered: 1,
		},
		{
			name:      "all-routers",
			p:         pkt{ethDst: stack.LinkAddress{0x33, 0x33, 0, 0, 0, 2}, src: hAddr1, dst: ndp.AllRouters, next: header.IPv6NoNextHeader},
			delivered: 1,
		},
		{
			name:  "UDP to all-nodes: no error for a multicast destination",
			p:     pkt{ethDst: allNodesMAC, src: hAddr1, dst: ndp.AllNodes, next: header.IPv6ProtocolUDP, payload: udp(4)},
			drops: dropCounts{stack.DropUnknownProtocol: 1},
			icmp: func(t *testing.T, s ipv6.ICMPv6Stats) {
				if s.Suppressed != 0 {
					t.Errorf("Suppressed = %d, want 0 (not even attempted)", s.Suppressed)
				}
			},
		},
		{
			name:  "TCP to all-nodes: no error for a multicast destination",
			p:     pkt{ethDst: allNodesMAC, src: hAddr1, dst: ndp.AllNodes, next: header.IPv6ProtocolTCP, payload: make([]byte, 20)},
			drops: dropCounts{stack.DropUnknownProtocol: 1},
			icmp: func(t *testing.T, s ipv6.ICMPv6Stats) {
				if s.Suppressed != 0 {
					t.Errorf("Suppressed = %d, want 0 (not even attempted)", s.Suppressed)
				}
			},
		},
		{
			name:  "GRE to all-nodes: parameter problem 1 suppressed",
			p:     pkt{ethDst: allNodesMAC, src: hAddr1, dst: ndp.AllNodes, next: 47, payload: make([]byte, 20)},
			drops: dropCounts{stack.DropUnknownProtocol: 1},
			icmp: func(t *testing.T, s ipv6.ICMPv6Stats) {
				if s.Suppressed != 1 {
					t.Errorf("Suppressed = %d, want 1", s.Suppressed)
				}
			},
		},
		{
			name:  "option 10 to all-nodes: parameter problem 2 is sent",
			p:     pkt{ethDst: allNodesMAC, src: hAddr1, dst: ndp.AllNodes, next: header.IPv6ExtDestination, payload: []byte{59, 0, 0x9e, 2, 0, 0, 1, 0}},
			err:   &wantICMP{typ: header.ICMPv6ParamProblem, code: header.ICMPv6UnrecognizedOption, rest: 42},
			drops: dropCounts{stack.DropExtensionHeaderProblem: 1},
		},
		{
			name:  "option 11 to all-nodes: no error",
			p:     pkt{ethDst: allNodesMAC, src: hAddr1, dst: ndp.AllNodes, next: header.IPv6ExtDestination, payload: []byte{59, 0, 0xde, 2, 0, 0, 1, 0}},
			drops: dropCounts{stack.DropExtensionHeaderProblem: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouter(t, routerConfig{})
			f := tc.p.frame()
			r.inject(1, f)
			in := f[header.EthernetMinimumSize:]
			got := r.drain(1)
			switch {
			case tc.reply:
				if len(got) != 1 {
					t.Fatalf("host1 got %d frames, want an echo reply", len(got))
				}
				o := got[0]
				dst := tc.replyDst
				if !dst.IsValid() {
					dst = hAddr1
				}
				if o.ip.SrcAddr() != tc.replySrc || o.ip.DstAddr() != dst {
					t.Errorf("reply %v → %v, want %v → %v", o.ip.SrcAddr(), o.ip.DstAddr(), tc.replySrc, dst)
				}
				if o.eth.Dst() != hMAC1 || o.eth.Src() != rMAC1 {
					t.Errorf("reply Ethernet %v → %v", stack.LinkAddress(o.eth.Src()), stack.LinkAddress(o.eth.Dst()))
				}
				if o.ip.HopLimit() != 64 {
					t.Errorf("reply Hop Limit %d, want 64", o.ip.HopLimit())
				}
				req := header.ICMPv6(tc.p.payload)
				if o.icmp.Type() != header.ICMPv6EchoReply || o.icmp.Code() != 0 {
					t.Errorf("reply type/code %d/%d", o.icmp.Type(), o.icmp.Code())
				}
				if o.icmp.Ident() != req.Ident() || o.icmp.Sequence() != req.Sequence() || !bytes.Equal(o.icmp.Payload(), req.Payload()) {
					t.Errorf("reply id/seq/data differ from the request")
				}
				if s := r.ep(1).ICMPStats(); s.Received[ipv6.KindEchoRequest] != 1 || s.Sent[ipv6.KindEchoReply] != 1 {
					t.Errorf("ICMP echo request received %d, reply sent %d; want 1, 1", s.Received[ipv6.KindEchoRequest], s.Sent[ipv6.KindEchoReply])
				}
			case tc.err != nil:
				if len(got) != 1 {
					t.Fatalf("host1 got %d frames, want 1 ICMPv6 error", len(got))
				}
				checkError(t, got[0], *tc.err, in)
			default:
				if len(got) != 0 {
					t.Errorf("host1 got %d frames, want none", len(got))
				}
			}
			if n := len(r.drain(2)); n != 0 {
				t.Errorf("host2 got %d frames, want none", n)
			}
			s := r.ep(1).Stats()
			checkDrops(t, "ep1", s, tc.drops)
			if s.PacketsDelivered != tc.delivered {
				t.Errorf("PacketsDelivered = %d, want %d", s.PacketsDelivered, tc.delivered)
			}
			if s.Forwarded != 0 {
				t.Errorf("Forwarded = %d, want 0", s.Forwarded)
			}
			if tc.icmp != nil {
				tc.icmp(t, r.ep(1).ICMPStats())
			}
		})
	}
}

func TestICMPRateLimit(t *testing.T) {
	r := newRouter(t, routerConfig{opts: ipv6.Options{ICMPRateLimit: 1, ICMPBurst: 2}, mtu2: 1280})
	var frames [][]byte
	for range 5 {
		frames = append(frames, pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14), hop: 1}.frame())
	}
	r.inject(1, frames...)
	if got := r.drain(1); len(got) != 2 {
		t.Errorf("time exceeded: host1 got %d errors, want 2 (the burst)", len(got))
	}
	if s := r.ep(1).ICMPStats(); s.RateLimited != 3 {
		t.Errorf("RateLimited = %d, want 3", s.RateLimited)
	}
	checkDrops(t, "ep1", r.ep(1).Stats(), dropCounts{stack.DropExhaustedTTL: 5})

	// Packet Too Big is exempt: PMTUD must not be starved.
	frames = frames[:0]
	for range 5 {
		frames = append(frames, pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(1300)}.frame())
	}
	r.inject(1, frames...)
	got := r.drain(1)
	if len(got) != 5 {
		t.Fatalf("packet too big: host1 got %d errors, want 5", len(got))
	}
	for _, o := range got {
		if o.icmp.Type() != header.ICMPv6PacketTooBig || o.icmp.MTU() != 1280 {
			t.Errorf("got type %d MTU %d, want Packet Too Big MTU 1280", o.icmp.Type(), o.icmp.MTU())
		}
	}
	// A second later one token is back.
	r.clock.Advance(1e9)
	r.inject(1, pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14), hop: 1}.frame())
	if got := r.drain(1); len(got) != 1 {
		t.Errorf("after 1s: host1 got %d errors, want 1", len(got))
	}
}

func TestMTUChangeSeenAfterTick(t *testing.T) {
	r := newRouter(t, routerConfig{})
	r.rt[2].SetMTU(1300)
	r.s.Tick()
	r.inject(1, pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(1400)}.frame())
	got := r.drain(1)
	if len(got) != 1 || got[0].icmp.Type() != header.ICMPv6PacketTooBig || got[0].icmp.MTU() != 1300 {
		t.Fatalf("want one Packet Too Big with MTU 1300, got %d frames", len(got))
	}
}
