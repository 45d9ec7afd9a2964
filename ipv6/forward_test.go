package ipv6_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/ipv6"
	"github.com/nexthop-router/nexthop/stack"
)

// wantICMP is an ICMPv6 error the router must send back to host1.
type wantICMP struct {
	typ   header.ICMPv6Type
	code  header.ICMPv6Code
	rest  uint32     // MTU or pointer
	src   netip.Addr // zero: rAddr1
	dst   netip.Addr // zero: hAddr1
	quote int        // expected quoted bytes; 0: the whole packet
}

func TestForwarding(t *testing.T) {
	defaultRoute := []stack.Route{{Prefix: netip.MustParsePrefix("::/0"), NextHops: []stack.NextHop{{Gateway: hAddr2, NIC: 2}}}}
	hbhUnknown := func(action byte) []byte {
		// Option type with the action in the top bits, 2 data bytes.
		return hbh(header.IPv6ProtocolUDP, action<<6|0x1e, 2, 0xaa, 0xbb)
	}
	big := udp(1400 - 40 - 8)
	tests := []struct {
		name      string
		p         pkt
		routes    []stack.Route
		fwdOff    bool
		mtu2      uint32
		forwarded bool // out on host2 with hop limit - 1
		err       *wantICMP
		drops     dropCounts
		options   func(t *testing.T, s stack.IPStats)
	}{
		{
			name:      "forwarded via gateway",
			p:         pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14)},
			forwarded: true,
		},
		{
			name:      "forwarded on-link",
			p:         pkt{src: hAddr1, dst: hAddr2, next: header.IPv6ProtocolUDP, payload: udp(14), hop: 2},
			forwarded: true,
		},
		{
			name:      "padding trimmed",
			p:         pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(2), pad: 10},
			forwarded: true,
		},
		{
			name:  "hop limit 1: time exceeded",
			p:     pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14), hop: 1},
			err:   &wantICMP{typ: header.ICMPv6TimeExceeded, code: header.ICMPv6HopLimitExceeded},
			drops: dropCounts{stack.DropExhaustedTTL: 1},
		},
		{
			name:  "hop limit 0: time exceeded",
			p:     pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14), hop0: true},
			err:   &wantICMP{typ: header.ICMPv6TimeExceeded, code: header.ICMPv6HopLimitExceeded},
			drops: dropCounts{stack.DropExhaustedTTL: 1},
		},
		{
			name:  "time exceeded quotes at most 1280 bytes",
			p:     pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: big, hop: 1},
			err:   &wantICMP{typ: header.ICMPv6TimeExceeded, quote: 1280 - 48},
			drops: dropCounts{stack.DropExhaustedTTL: 1},
		},
		{
			name:  "no route: unreachable code 0",
			p:     pkt{src: hAddr1, dst: noRoute, next: header.IPv6ProtocolUDP, payload: udp(14)},
			err:   &wantICMP{typ: header.ICMPv6DstUnreachable, code: header.ICMPv6NoRoute},
			drops: dropCounts{stack.DropUnrouteable: 1},
		},
		{
			name:  "no route beats hop limit 1 (Linux order)",
			p:     pkt{src: hAddr1, dst: noRoute, next: header.IPv6ProtocolUDP, payload: udp(14), hop: 1},
			err:   &wantICMP{typ: header.ICMPv6DstUnreachable, code: header.ICMPv6NoRoute},
			drops: dropCounts{stack.DropUnrouteable: 1},
		},
		{
			name:   "blackhole route: silent",
			p:      pkt{src: hAddr1, dst: netip.MustParseAddr("2001:db8:66::1"), next: header.IPv6ProtocolUDP, payload: udp(14)},
			routes: []stack.Route{{Prefix: netip.MustParsePrefix("2001:db8:66::/48"), Type: stack.RouteBlackhole}},
			drops:  dropCounts{stack.DropRouteBlackhole: 1},
		},
		{
			name:   "unreachable route: code 0",
			p:      pkt{src: hAddr1, dst: netip.MustParseAddr("2001:db8:66::1"), next: header.IPv6ProtocolUDP, payload: udp(14)},
			routes: []stack.Route{{Prefix: netip.MustParsePrefix("2001:db8:66::/48"), Type: stack.RouteUnreachable}},
			err:    &wantICMP{typ: header.ICMPv6DstUnreachable, code: header.ICMPv6NoRoute},
			drops:  dropCounts{stack.DropRouteUnreachable: 1},
		},
		{
			name:   "prohibit route: code 1",
			p:      pkt{src: hAddr1, dst: netip.MustParseAddr("2001:db8:66::1"), next: header.IPv6ProtocolUDP, payload: udp(14)},
			routes: []stack.Route{{Prefix: netip.MustParsePrefix("2001:db8:66::/48"), Type: stack.RouteProhibit}},
			err:    &wantICMP{typ: header.ICMPv6DstUnreachable, code: header.ICMPv6AdminProhibited},
			drops:  dropCounts{stack.DropRouteProhibit: 1},
		},
		{
			name:  "too big: packet too big with the egress MTU",
			p:     pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: big},
			mtu2:  1280,
			err:   &wantICMP{typ: header.ICMPv6PacketTooBig, rest: 1280, quote: 1280 - 48},
			drops: dropCounts{stack.DropPacketTooBig: 1},
		},
		{
			name:      "exactly the egress MTU is forwarded",
			p:         pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(1280 - 48)},
			mtu2:      1280,
			forwarded: true,
		},
		{
			name:  "source unspecified",
			p:     pkt{src: netip.IPv6Unspecified(), dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14)},
			drops: dropCounts{stack.DropInitializingSource: 1},
		},
		{
			name:  "source multicast",
			p:     pkt{src: netip.MustParseAddr("ff0e::1"), dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14)},
			drops: dropCounts{stack.DropInvalidSource: 1},
		},
		{
			name:  "source loopback",
			p:     pkt{src: netip.IPv6Loopback(), dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14)},
			drops: dropCounts{stack.DropInvalidSource: 1},
		},
		{
			// RFC 4291 §2.5.2: never a destination, not even with a
			// default route that would carry it.
			name:   "destination unspecified: never forwarded",
			p:      pkt{src: hAddr1, dst: netip.IPv6Unspecified(), next: header.IPv6ProtocolUDP, payload: udp(14)},
			routes: defaultRoute,
			drops:  dropCounts{stack.DropInvalidDestination: 1},
		},
		{
			name:   "destination IPv4-mapped",
			p:      pkt{src: hAddr1, dst: netip.MustParseAddr("::ffff:198.18.2.2"), next: header.IPv6ProtocolUDP, payload: udp(14)},
			routes: defaultRoute,
			drops:  dropCounts{stack.DropInvalidDestination: 1},
		},
		{
			name:   "source IPv4-mapped",
			p:      pkt{src: netip.MustParseAddr("::ffff:198.18.1.2"), dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14)},
			routes: defaultRoute,
			drops:  dropCounts{stack.DropInvalidSource: 1},
		},
		{
			// Only ::ffff:0:0/96: the IPv4-compatible ::198.18.2.2
			// (deprecated, RFC 4291 §2.5.5.1) and ::ffff:0:0:0/96 (SIIT)
			// are routed like any other address.
			name:      "destination next to the IPv4-mapped prefix is forwarded",
			p:         pkt{src: hAddr1, dst: netip.MustParseAddr("::ffff:0:c612:202"), next: header.IPv6ProtocolUDP, payload: udp(14)},
			routes:    defaultRoute,
			forwarded: true,
		},
		{
			name:  "destination loopback",
			p:     pkt{src: hAddr1, dst: netip.IPv6Loopback(), next: header.IPv6ProtocolUDP, payload: udp(14)},
			drops: dropCounts{stack.DropInvalidDestination: 1},
		},
		{
			name:  "source link-local: beyond scope",
			p:     pkt{src: hLL1, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14)},
			err:   &wantICMP{typ: header.ICMPv6DstUnreachable, code: header.ICMPv6BeyondScope, src: rLL1, dst: hLL1},
			drops: dropCounts{stack.DropLinkLocalSource: 1},
		},
		{
			name:  "destination link-local not ours",
			p:     pkt{src: hAddr1, dst: netip.MustParseAddr("fe80::99"), next: header.IPv6ProtocolUDP, payload: udp(14)},
			drops: dropCounts{stack.DropLinkLocalDestination: 1},
		},
		{
			name:  "destination multicast global scope: not routed",
			p:     pkt{ethDst: stack.LinkAddress{0x33, 0x33, 0, 0, 0, 1}, src: hAddr1, dst: netip.MustParseAddr("ff0e::1"), next: header.IPv6ProtocolUDP, payload: udp(14)},
			drops: dropCounts{stack.DropInvalidDestination: 1},
		},
		{
			name:  "destination multicast link-local scope: not routed",
			p:     pkt{ethDst: stack.LinkAddress{0x33, 0x33, 0, 0, 0, 0xfb}, src: hAddr1, dst: netip.MustParseAddr("ff02::fb"), next: header.IPv6ProtocolUDP, payload: udp(14)},
			drops: dropCounts{stack.DropInvalidDestination: 1},
		},
		{
			name:  "destination multicast interface-local scope",
			p:     pkt{ethDst: stack.LinkAddress{0x33, 0x33, 0, 0, 0, 1}, src: hAddr1, dst: netip.MustParseAddr("ff01::1"), next: header.IPv6ProtocolUDP, payload: udp(14)},
			drops: dropCounts{stack.DropInvalidDestination: 1},
		},
		{
			name:  "unicast packet in a broadcast frame",
			p:     pkt{ethDst: stack.BroadcastLinkAddress, src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14)},
			drops: dropCounts{stack.DropBroadcastFrame: 1},
		},
		{
			name:   "forwarding disabled",
			p:      pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14)},
			fwdOff: true,
			drops:  dropCounts{stack.DropInvalidDestination: 1},
		},
		{
			name:  "version 4 in an IPv6 frame",
			p:     pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14), version: 4},
			drops: dropCounts{stack.DropMalformed: 1},
		},
		{
			name:  "payload length past the frame",
			p:     pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14), lenDelta: 1},
			drops: dropCounts{stack.DropMalformed: 1},
		},
		{
			name:      "hop-by-hop unknown option 00: skipped and forwarded",
			p:         pkt{src: hAddr1, dst: remote, next: header.IPv6ExtHopByHop, payload: append(hbhUnknown(0), udp(4)...)},
			forwarded: true,
			options: func(t *testing.T, s stack.IPStats) {
				if s.OptionUnknownReceived != 1 {
					t.Errorf("OptionUnknownReceived = %d, want 1", s.OptionUnknownReceived)
				}
			},
		},
		{
			name:  "hop-by-hop unknown option 01: silent discard",
			p:     pkt{src: hAddr1, dst: remote, next: header.IPv6ExtHopByHop, payload: append(hbhUnknown(1), udp(4)...)},
			drops: dropCounts{stack.DropExtensionHeaderProblem: 1},
		},
		{
			name:  "hop-by-hop unknown option 10: parameter problem 2",
			p:     pkt{src: hAddr1, dst: remote, next: header.IPv6ExtHopByHop, payload: append(hbhUnknown(2), udp(4)...)},
			err:   &wantICMP{typ: header.ICMPv6ParamProblem, code: header.ICMPv6UnrecognizedOption, rest: 42},
			drops: dropCounts{stack.DropExtensionHeaderProblem: 1},
		},
		{
			name:  "hop-by-hop unknown option 11: parameter problem 2",
			p:     pkt{src: hAddr1, dst: remote, next: header.IPv6ExtHopByHop, payload: append(hbhUnknown(3), udp(4)...)},
			err:   &wantICMP{typ: header.ICMPv6ParamProblem, code: header.ICMPv6UnrecognizedOption, rest: 42},
			drops: dropCounts{stack.DropExtensionHeaderProblem: 1},
		},
		{
			name:  "hop-by-hop jumbo payload is not supported",
			p:     pkt{src: hAddr1, dst: remote, next: header.IPv6ExtHopByHop, payload: append(hbh(header.IPv6ProtocolUDP, 0xc2, 4, 0, 1, 0, 0), udp(4)...)},
			err:   &wantICMP{typ: header.ICMPv6ParamProblem, code: header.ICMPv6UnrecognizedOption, rest: 42},
			drops: dropCounts{stack.DropExtensionHeaderProblem: 1},
		},
		{
			name:      "hop-by-hop router alert: forwarded",
			p:         pkt{src: hAddr1, dst: remote, next: header.IPv6ExtHopByHop, payload: append(hbh(header.IPv6ProtocolUDP, 5, 2, 0, 0), udp(4)...)},
			forwarded: true,
			options: func(t *testing.T, s stack.IPStats) {
				if s.OptionRouterAlertReceived != 1 {
					t.Errorf("OptionRouterAlertReceived = %d, want 1", s.OptionRouterAlertReceived)
				}
			},
		},
		{
			name: "hop-by-hop length runs past the packet",
			// Hdr Ext Len 4 claims 40 bytes; the packet has 8.
			p:     pkt{src: hAddr1, dst: remote, next: header.IPv6ExtHopByHop, payload: []byte{17, 4, 1, 4, 0, 0, 0, 0}},
			err:   &wantICMP{typ: header.ICMPv6ParamProblem, code: header.ICMPv6ErroneousHeaderField, rest: 41},
			drops: dropCounts{stack.DropExtensionHeaderProblem: 1},
		},
		{
			name: "hop-by-hop option runs past the header",
			// PadN of length 9 in an 8-byte header.
			p:     pkt{src: hAddr1, dst: remote, next: header.IPv6ExtHopByHop, payload: append([]byte{17, 0, 1, 9, 0, 0, 0, 0}, udp(4)...)},
			err:   &wantICMP{typ: header.ICMPv6ParamProblem, code: header.ICMPv6ErroneousHeaderField, rest: 42},
			drops: dropCounts{stack.DropExtensionHeaderProblem: 1},
		},
		{
			name: "routing and destination options forwarded untouched",
			// Destination Options (PadN) → Routing (type 4, segments
			// left 1, lying about nothing) → UDP.
			p: pkt{src: hAddr1, dst: remote, next: header.IPv6ExtDestination, payload: append(append(
				[]byte{43, 0, 1, 4, 0, 0, 0, 0},
				17, 0, 4, 1, 0, 0, 0, 0), udp(4)...)},
			forwarded: true,
		},
		{
			name: "no error about an ICMPv6 error",
			p: pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolICMPv6, hop: 1,
				payload: icmp(header.ICMPv6DstUnreachable, 0, 0, make([]byte, 48), hAddr1, remote)},
			drops: dropCounts{stack.DropExhaustedTTL: 1},
		},
		{
			name: "error about an echo request",
			p: pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolICMPv6, hop: 1,
				payload: icmp(header.ICMPv6EchoRequest, 0, 1, nil, hAddr1, remote)},
			err:   &wantICMP{typ: header.ICMPv6TimeExceeded},
			drops: dropCounts{stack.DropExhaustedTTL: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouter(t, routerConfig{mtu2: tc.mtu2})
			for _, rt := range tc.routes {
				if err := r.s.Routes().Add(rt); err != nil {
					t.Fatalf("Routes().Add(%v): %v", rt.Prefix, err)
				}
			}
			if tc.fwdOff {
				r.ep(1).SetForwarding(false)
			}
			f := tc.p.frame()
			r.inject(1, f)
			in := f[header.EthernetMinimumSize:]
			if n := header.IPv6MinimumSize + int(header.IPv6(in).PayloadLength()); n < len(in) {
				in = in[:n]
			}

			got2 := r.drain(2)
			if tc.forwarded {
				if len(got2) != 1 {
					t.Fatalf("host2 got %d frames, want 1", len(got2))
				}
				o := got2[0]
				if o.eth.Dst() != hMAC2 || o.eth.Src() != rMAC2 {
					t.Errorf("Ethernet %v → %v, want %v → %v", stack.LinkAddress(o.eth.Src()), stack.LinkAddress(o.eth.Dst()), rMAC2, hMAC2)
				}
				want := append([]byte(nil), in...)
				want[7]--
				if !bytes.Equal(o.ip, want) {
					t.Errorf("forwarded packet\n got % x\nwant % x", []byte(o.ip), want)
				}
				if len(o.raw) != header.EthernetMinimumSize+len(want) {
					t.Errorf("frame length %d, want %d (padding not trimmed)", len(o.raw), header.EthernetMinimumSize+len(want))
				}
			} else if len(got2) != 0 {
				t.Errorf("host2 got %d frames, want none", len(got2))
			}

			got1 := r.drain(1)
			if tc.err == nil {
				if len(got1) != 0 {
					t.Errorf("host1 got %d frames (first ICMPv6 type %d), want none", len(got1), got1[0].icmp.Type())
				}
			} else {
				if len(got1) != 1 {
					t.Fatalf("host1 got %d frames, want 1 ICMPv6 error", len(got1))
				}
				checkError(t, got1[0], *tc.err, in)
			}

			s1 := r.ep(1).Stats()
			checkDrops(t, "ep1", s1, tc.drops)
			checkDrops(t, "ep2", r.ep(2).Stats(), nil)
			wantFwd := uint64(0)
			if tc.forwarded {
				wantFwd = 1
			}
			if s1.Forwarded != wantFwd {
				t.Errorf("ep1 Forwarded = %d, want %d", s1.Forwarded, wantFwd)
			}
			if tc.forwarded && s1.ForwardedBytes != uint64(len(in)) {
				t.Errorf("ep1 ForwardedBytes = %d, want %d", s1.ForwardedBytes, len(in))
			}
			if s1.PacketsReceived != 1 {
				t.Errorf("ep1 PacketsReceived = %d, want 1", s1.PacketsReceived)
			}
			if tc.options != nil {
				tc.options(t, s1)
			}
			wantErrs := uint64(0)
			if tc.err != nil {
				wantErrs = 1
				if is := r.ep(1).ICMPStats(); is.Sent[ipv6.KindOf(tc.err.typ)] != 1 {
					t.Errorf("ICMPStats().Sent[%v] = %d, want 1", ipv6.KindOf(tc.err.typ), is.Sent[ipv6.KindOf(tc.err.typ)])
				}
			}
			var sent uint64
			for _, n := range r.ep(1).ICMPStats().Sent {
				sent += n
			}
			if sent != wantErrs+r.announced(1) { // plus Enable's unsolicited NAs
				t.Errorf("ep1 ICMPv6 sent %d messages, want %d", sent, wantErrs+r.announced(1))
			}
		})
	}
}

// checkError checks an ICMPv6 error from the router to host1 about the
// invoking packet in.
func checkError(t *testing.T, o out, w wantICMP, in []byte) {
	t.Helper()
	src, dst := w.src, w.dst
	if !src.IsValid() {
		src = rAddr1
	}
	if !dst.IsValid() {
		dst = hAddr1
	}
	if o.eth.Dst() != hMAC1 || o.eth.Src() != rMAC1 {
		t.Errorf("Ethernet %v → %v, want %v → %v", stack.LinkAddress(o.eth.Src()), stack.LinkAddress(o.eth.Dst()), rMAC1, hMAC1)
	}
	if o.ip.SrcAddr() != src || o.ip.DstAddr() != dst {
		t.Errorf("error %v → %v, want %v → %v", o.ip.SrcAddr(), o.ip.DstAddr(), src, dst)
	}
	if o.ip.HopLimit() != 64 {
		t.Errorf("error Hop Limit %d, want 64", o.ip.HopLimit())
	}
	if o.icmp == nil {
		t.Fatalf("not ICMPv6: Next Header %d", o.ip.NextHeader())
	}
	if o.icmp.Type() != w.typ || o.icmp.Code() != w.code {
		t.Errorf("ICMPv6 type/code %d/%d, want %d/%d", o.icmp.Type(), o.icmp.Code(), w.typ, w.code)
	}
	if got := binary.BigEndian.Uint32(o.icmp[4:]); got != w.rest {
		t.Errorf("ICMPv6 MTU/pointer %d, want %d", got, w.rest)
	}
	quote := w.quote
	if quote == 0 {
		quote = len(in)
	}
	if !bytes.Equal(o.icmp.Payload(), in[:quote]) {
		t.Errorf("quoted %d bytes, want the first %d of the invoking packet", len(o.icmp.Payload()), quote)
	}
	if len(o.ip) > header.IPv6MinimumMTU {
		t.Errorf("error is %d bytes, more than the minimum MTU", len(o.ip))
	}
}

// TestICMPErrorSourceAsymmetric6: the route back to the offending packet's
// source leaves by NIC 2 although the packet came in on NIC 1, so the
// error leaves NIC 2 from the router's NIC 2 address (RFC 4443 §2.2: the
// source of an error to a unicast packet is the address it was sent to,
// or else an address of the router, chosen as for any packet it sends,
// i.e. on the egress interface), never from the ingress address rAddr1.
func TestICMPErrorSourceAsymmetric6(t *testing.T) {
	asym := netip.MustParseAddr("2001:db8:98::7") // routed back via host2
	tests := []struct {
		name  string
		p     pkt
		mtu2  uint32
		err   wantICMP
		drops dropCounts
	}{
		{
			name:  "time exceeded",
			p:     pkt{src: asym, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14), hop: 1},
			err:   wantICMP{typ: header.ICMPv6TimeExceeded, code: header.ICMPv6HopLimitExceeded},
			drops: dropCounts{stack.DropExhaustedTTL: 1},
		},
		{
			name:  "no route",
			p:     pkt{src: asym, dst: noRoute, next: header.IPv6ProtocolUDP, payload: udp(14)},
			err:   wantICMP{typ: header.ICMPv6DstUnreachable, code: header.ICMPv6NoRoute},
			drops: dropCounts{stack.DropUnrouteable: 1},
		},
		{
			name:  "packet too big",
			p:     pkt{src: asym, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(1300)},
			mtu2:  1280,
			err:   wantICMP{typ: header.ICMPv6PacketTooBig, rest: 1280, quote: 1280 - 48},
			drops: dropCounts{stack.DropPacketTooBig: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouter(t, routerConfig{mtu2: tc.mtu2})
			back := stack.Route{Prefix: netip.MustParsePrefix("2001:db8:98::/48"), NextHops: []stack.NextHop{{Gateway: hAddr2, NIC: 2}}}
			if err := r.s.Routes().Add(back); err != nil {
				t.Fatalf("Routes().Add(%v): %v", back.Prefix, err)
			}
			f := tc.p.frame()
			r.inject(1, f)
			in := f[header.EthernetMinimumSize:]
			if got := r.drain(1); len(got) != 0 {
				t.Errorf("host1 (ingress) got %d frames, want none", len(got))
			}
			got := r.drain(2)
			if len(got) != 1 {
				t.Fatalf("host2 got %d frames, want the ICMPv6 error", len(got))
			}
			o := got[0]
			if o.eth.Dst() != hMAC2 || o.eth.Src() != rMAC2 {
				t.Errorf("Ethernet %v → %v, want %v → %v", stack.LinkAddress(o.eth.Src()), stack.LinkAddress(o.eth.Dst()), rMAC2, hMAC2)
			}
			if o.ip.SrcAddr() != rAddr2 || o.ip.DstAddr() != asym {
				t.Errorf("error %v → %v, want %v → %v (not from the ingress %v)", o.ip.SrcAddr(), o.ip.DstAddr(), rAddr2, asym, rAddr1)
			}
			if o.icmp.Type() != tc.err.typ || o.icmp.Code() != tc.err.code || binary.BigEndian.Uint32(o.icmp[4:]) != tc.err.rest {
				t.Errorf("ICMPv6 %d/%d rest %d, want %d/%d rest %d", o.icmp.Type(), o.icmp.Code(), binary.BigEndian.Uint32(o.icmp[4:]), tc.err.typ, tc.err.code, tc.err.rest)
			}
			quote := tc.err.quote
			if quote == 0 {
				quote = len(in)
			}
			if !bytes.Equal(o.icmp.Payload(), in[:quote]) {
				t.Errorf("quoted %d bytes, want the first %d of the invoking packet", len(o.icmp.Payload()), quote)
			}
			checkDrops(t, "ep1", r.ep(1).Stats(), tc.drops)
			checkDrops(t, "ep2", r.ep(2).Stats(), nil)
		})
	}
}
