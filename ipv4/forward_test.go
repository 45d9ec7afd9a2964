package ipv4_test

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"testing"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/ipv4"
	"github.com/nexthop-router/nexthop/link/memlink"
	"github.com/nexthop-router/nexthop/stack"
)

// wantFrames compares frames byte for byte and prints both on mismatch.
func wantFrames(t *testing.T, what string, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d frames, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("%s frame %d:\n got %s\nwant %s", what, i, hex.EncodeToString(got[i]), hex.EncodeToString(want[i]))
		}
	}
}

// TestForward covers RFC 1812 forwarding decisions: every case injects one
// frame from host 1 and asserts the exact bytes that leave (on host 2 for
// forwarded packets, back to host 1 for ICMP errors) and the one counter
// that moved.
func TestForward(t *testing.T) {
	udp := udpPayload(32)
	normal := pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, payload: udp}
	withTTL := func(p pktSpec, ttl uint8) pktSpec { p.ttl = ttl; return p }
	withDst := func(p pktSpec, d [4]byte) pktSpec { p.dst = d; return p }
	withSrc := func(p pktSpec, s [4]byte) pktSpec { p.src = s; return p }
	// Record Route (not copied) and a NOP: forwarded as received.
	rr := []byte{header.IPv4OptionNOP, header.IPv4OptionRecordRoute, 7, 4, 0, 0, 0, 0}
	withOpts := normal
	withOpts.options = rr

	const noDrop = -1
	cases := []struct {
		name  string
		pkt   pktSpec
		frame func(ip []byte) []byte // default fromHost(1, ip)
		// forwardTo: host that must receive forwarded(ip) (0: none).
		forwardTo int
		// icmp: the error host 1 must receive (type 0 = none).
		icmpType header.ICMPv4Type
		icmpCode header.ICMPv4Code
		icmpRest uint32
		drop     int // stack.DropReason or noDrop
	}{
		{name: "unicast via gateway", pkt: normal, forwardTo: 2, drop: noDrop},
		{name: "on-link destination", pkt: withDst(normal, hostIP(3)), forwardTo: 3, drop: noDrop},
		{name: "TTL 2 leaves with 1", pkt: withTTL(normal, 2), forwardTo: 2, drop: noDrop},
		{name: "options forwarded as received", pkt: withOpts, forwardTo: 2, drop: noDrop},
		{name: "TTL 1 time exceeded", pkt: withTTL(normal, 1), icmpType: header.ICMPv4TimeExceeded, drop: int(stack.DropExhaustedTTL)},
		{name: "TTL 0 time exceeded", pkt: withTTL(normal, 0), icmpType: header.ICMPv4TimeExceeded, drop: int(stack.DropExhaustedTTL)},
		{name: "no route net unreachable", pkt: withDst(normal, unroutedIP), icmpType: header.ICMPv4DstUnreachable, icmpCode: header.ICMPv4NetUnreachable, drop: int(stack.DropUnrouteable)},
		// The route is looked up before the TTL is checked (Linux:
		// ip_route_input before ip_forward; the same order as ipv6).
		{name: "no route beats TTL 1 (Linux order)", pkt: withTTL(withDst(normal, unroutedIP), 1), icmpType: header.ICMPv4DstUnreachable, icmpCode: header.ICMPv4NetUnreachable, drop: int(stack.DropUnrouteable)},
		{name: "blackhole route beats TTL 1", pkt: withTTL(withDst(normal, blackholeIP), 1), drop: int(stack.DropRouteBlackhole)},
		{name: "unreachable route beats TTL 1", pkt: withTTL(withDst(normal, unreachableIP), 1), icmpType: header.ICMPv4DstUnreachable, icmpCode: header.ICMPv4HostUnreachable, drop: int(stack.DropRouteUnreachable)},
		{name: "directed broadcast refused before TTL 1", pkt: withTTL(withDst(normal, [4]byte{198, 18, 3, 255}), 1), drop: int(stack.DropInvalidDestination)},
		{name: "blackhole route", pkt: withDst(normal, blackholeIP), drop: int(stack.DropRouteBlackhole)},
		{name: "unreachable route", pkt: withDst(normal, unreachableIP), icmpType: header.ICMPv4DstUnreachable, icmpCode: header.ICMPv4HostUnreachable, drop: int(stack.DropRouteUnreachable)},
		{name: "prohibit route", pkt: withDst(normal, prohibitIP), icmpType: header.ICMPv4DstUnreachable, icmpCode: header.ICMPv4AdminProhibited, drop: int(stack.DropRouteProhibit)},
		{name: "source 0/8", pkt: withSrc(normal, [4]byte{0, 1, 2, 3}), drop: int(stack.DropInitializingSource)},
		{name: "source 127/8", pkt: withSrc(normal, [4]byte{127, 0, 0, 1}), drop: int(stack.DropInvalidSource)},
		{name: "source 240/4", pkt: withSrc(normal, [4]byte{240, 0, 0, 1}), drop: int(stack.DropInvalidSource)},
		{name: "source multicast", pkt: withSrc(normal, [4]byte{224, 0, 0, 5}), drop: int(stack.DropInvalidSource)},
		{name: "source limited broadcast", pkt: withSrc(normal, [4]byte{255, 255, 255, 255}), drop: int(stack.DropInvalidSource)},
		{name: "source subnet broadcast", pkt: withSrc(normal, [4]byte{198, 18, 1, 255}), drop: int(stack.DropInvalidSource)},
		// RFC 1812 §5.3.7: the broadcast address of any attached subnet,
		// not only the ingress one (it would be forwarded before).
		{name: "source broadcast of another NIC's subnet", pkt: withSrc(normal, [4]byte{198, 18, 3, 255}), drop: int(stack.DropInvalidSource)},
		{name: "source broadcast of the egress NIC's subnet", pkt: withSrc(normal, [4]byte{198, 18, 2, 255}), drop: int(stack.DropInvalidSource)},
		{name: "source 169.254/16", pkt: withSrc(normal, [4]byte{169, 254, 1, 1}), drop: int(stack.DropLinkLocalSource)},
		{name: "destination 0/8", pkt: withDst(normal, [4]byte{0, 0, 0, 1}), drop: int(stack.DropInvalidDestination)},
		{name: "destination 127/8", pkt: withDst(normal, [4]byte{127, 0, 0, 1}), drop: int(stack.DropInvalidDestination)},
		{name: "destination 240/4", pkt: withDst(normal, [4]byte{240, 0, 0, 1}), drop: int(stack.DropInvalidDestination)},
		{name: "destination 169.254/16", pkt: withDst(normal, [4]byte{169, 254, 9, 9}), drop: int(stack.DropLinkLocalDestination)},
		{name: "destination limited broadcast", pkt: withDst(normal, [4]byte{255, 255, 255, 255}), drop: int(stack.DropInvalidDestination)},
		{name: "destination multicast", pkt: withDst(normal, [4]byte{239, 1, 2, 3}), drop: int(stack.DropInvalidDestination)},
		{name: "directed broadcast off by default", pkt: withDst(normal, [4]byte{198, 18, 3, 255}), drop: int(stack.DropInvalidDestination)},
		{name: "broadcast of ingress subnet", pkt: withDst(normal, [4]byte{198, 18, 1, 255}), drop: int(stack.DropInvalidDestination)},
		{
			name: "unicast IP in link broadcast frame", pkt: normal, drop: int(stack.DropBroadcastFrame),
			frame: func(ip []byte) []byte { return eth(stack.BroadcastLinkAddress, hostMAC(1), header.EtherTypeIPv4, ip) },
		},
		{
			name: "unicast IP in link multicast frame", pkt: normal, drop: int(stack.DropBroadcastFrame),
			frame: func(ip []byte) []byte {
				return eth(stack.LinkAddress{1, 0, 0x5e, 0, 0, 1}, hostMAC(1), header.EtherTypeIPv4, ip)
			},
		},
		{
			// RFC 1812 §4.3.2.7: never an ICMP error about an ICMP error.
			name: "no error about an ICMP error",
			pkt: pktSpec{src: hostIP(1), dst: remoteIP, ttl: 1, proto: header.IPv4ProtocolICMP,
				payload: icmpError(7, hostIP(1), normal.build(), header.ICMPv4DstUnreachable, 3, 0)[20:]},
			drop: int(stack.DropExhaustedTTL),
		},
		{
			name: "no error about a non-initial fragment",
			pkt:  pktSpec{src: hostIP(1), dst: remoteIP, ttl: 1, fragOff: 64, payload: udp},
			drop: int(stack.DropExhaustedTTL),
		},
		{
			name: "error about an initial fragment",
			pkt:  pktSpec{src: hostIP(1), dst: remoteIP, ttl: 1, flags: header.IPv4FlagMoreFragments, payload: udp},
			drop: int(stack.DropExhaustedTTL), icmpType: header.ICMPv4TimeExceeded,
		},
		{
			name:      "ICMP echo in transit is forwarded",
			pkt:       pktSpec{src: hostIP(1), dst: remoteIP, ttl: 9, proto: header.IPv4ProtocolICMP, payload: echoRequest(1, 2, []byte("ping"))},
			forwardTo: 2, drop: noDrop,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newNet(t, netOpts{})
			ip := tc.pkt.build()
			frame := fromHost(1, ip)
			if tc.frame != nil {
				frame = tc.frame(ip)
			}
			n.inject(1, frame)

			var want [numNICs + 1][][]byte
			if tc.forwardTo != 0 {
				want[tc.forwardTo] = [][]byte{toHost(tc.forwardTo, forwarded(ip))}
			}
			got1 := n.out(1)
			if tc.icmpType != 0 {
				id := uint16(0)
				if len(got1) == 1 {
					id = ipID(got1[0])
				}
				want[1] = [][]byte{toHost(1, icmpError(id, routerIP(1), ip, tc.icmpType, tc.icmpCode, tc.icmpRest))}
			}
			wantFrames(t, "to host 1", got1, want[1])
			for i := 2; i <= numNICs; i++ {
				wantFrames(t, "to host "+string(rune('0'+i)), n.out(i), want[i])
			}

			st := n.ep(1).Stats()
			wantOnlyDrop(t, st, tc.drop, 1)
			wantFwd := uint64(0)
			if tc.forwardTo != 0 {
				wantFwd = 1
			}
			if st.Forwarded != wantFwd || (wantFwd == 1 && st.ForwardedBytes != uint64(len(ip))) {
				t.Errorf("Forwarded = %d (%d bytes), want %d (%d bytes)", st.Forwarded, st.ForwardedBytes, wantFwd, len(ip))
			}
			if st.PacketsReceived != 1 || st.ValidPacketsReceived != 1 {
				t.Errorf("PacketsReceived %d, ValidPacketsReceived %d; want 1, 1", st.PacketsReceived, st.ValidPacketsReceived)
			}
			ic := n.totalICMP()
			var sent uint64
			for _, v := range ic.Sent {
				sent += v
			}
			if tc.icmpType != 0 {
				if ic.SentOf(tc.icmpType) != 1 || sent != 1 {
					t.Errorf("ICMP sent by type %v, want one of type %d", ic.Sent, tc.icmpType)
				}
			} else if sent != 0 {
				t.Errorf("ICMP sent by type %v, want none", ic.Sent)
			}
		})
	}
}

// TestForwardTTLAndChecksumExhaustive forwards every TTL from 2 to 255 with
// a spread of header contents and checks the incremental checksum against a
// full recomputation.
func TestForwardTTLAndChecksumExhaustive(t *testing.T) {
	n := newNet(t, netOpts{})
	for ttl := 2; ttl <= 255; ttl++ {
		p := pktSpec{src: hostIP(1), dst: remoteIP, ttl: uint8(ttl), id: uint16(ttl * 257), tos: uint8(ttl), payload: udpPayload(ttl % 7)}
		ip := p.build()
		n.inject(1, fromHost(1, ip))
		got := n.out(2)
		if len(got) != 1 || !bytes.Equal(got[0], toHost(2, forwarded(ip))) {
			t.Fatalf("TTL %d: forwarded frame wrong or missing: %x", ttl, got)
		}
		if !header.IPv4(got[0][14:]).IsChecksumValid() {
			t.Fatalf("TTL %d: checksum invalid after forwarding", ttl)
		}
	}
	if st := n.ep(1).Stats(); st.Forwarded != 254 || st.TotalDrops() != 0 {
		t.Errorf("Forwarded %d drops %d, want 254 and 0", st.Forwarded, st.TotalDrops())
	}
}

// TestPacketTooBigDF: a DF packet larger than the egress MTU gets
// Fragmentation Needed with the next-hop MTU (RFC 1191), never MTU 0, and
// is exempt from the rate limit.
func TestPacketTooBigDF(t *testing.T) {
	var mtu [numNICs + 1]uint32
	mtu[2] = 1280
	n := newNet(t, netOpts{mtu: mtu, ipv4: ipv4.Options{ICMPBurst: 1, ICMPRate: 1}})
	p := pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, flags: header.IPv4FlagDontFragment, payload: udpPayload(1300)}
	ip := p.build()
	var frames [][]byte
	for range 5 {
		frames = append(frames, fromHost(1, ip))
	}
	n.inject(1, frames...)
	got := n.out(1)
	if len(got) != 5 {
		t.Fatalf("got %d Fragmentation Needed, want 5 (exempt from rate limit)", len(got))
	}
	for _, g := range got {
		want := toHost(1, icmpError(ipID(g), routerIP(1), ip, header.ICMPv4DstUnreachable, header.ICMPv4FragmentationNeeded, 1280))
		wantFrames(t, "frag needed", [][]byte{g}, [][]byte{want})
		if m := header.ICMPv4(g[34:]).MTU(); m != 1280 {
			t.Errorf("next-hop MTU %d, want 1280", m)
		}
	}
	if q := len(got[0]) - 14 - 28; q != 548 {
		t.Errorf("quoted %d bytes, want 548 (576-byte error)", q)
	}
	if len(n.out(2)) != 0 {
		t.Error("DF packet was forwarded")
	}
	wantOnlyDrop(t, n.ep(1).Stats(), int(stack.DropPacketTooBig), 5)
	if ic := n.totalICMP(); ic.RateLimited != 0 {
		t.Errorf("RateLimited %d, want 0", ic.RateLimited)
	}
}

// TestICMPRateLimit: a burst of TTL-exceeded packets gets only the bucket's
// burst of errors; the rest are counted as rate limited. Time refills it.
func TestICMPRateLimit(t *testing.T) {
	n := newNet(t, netOpts{ipv4: ipv4.Options{ICMPRate: 1000, ICMPBurst: 3}})
	ip := pktSpec{src: hostIP(1), dst: remoteIP, ttl: 1, payload: udpPayload(8)}.build()
	var frames [][]byte
	for range 10 {
		frames = append(frames, fromHost(1, ip))
	}
	n.inject(1, frames...)
	if got := len(n.out(1)); got != 3 {
		t.Errorf("sent %d Time Exceeded, want the burst of 3", got)
	}
	ic := n.totalICMP()
	if ic.RateLimited != 7 || ic.SentOf(header.ICMPv4TimeExceeded) != 3 {
		t.Errorf("RateLimited %d sent %d, want 7 and 3", ic.RateLimited, ic.SentOf(header.ICMPv4TimeExceeded))
	}
	wantOnlyDrop(t, n.ep(1).Stats(), int(stack.DropExhaustedTTL), 10)
	n.clock.Advance(2_000_000) // 2 ms: two tokens at 1000/s
	n.inject(1, frames[:5]...)
	if got := len(n.out(1)); got != 2 {
		t.Errorf("after 2 ms sent %d, want 2", got)
	}
}

// TestDirectedBroadcastConfigured: with ForwardDirectedBroadcast the packet
// leaves the attached subnet's NIC in a link broadcast frame.
func TestDirectedBroadcastConfigured(t *testing.T) {
	n := newNet(t, netOpts{ipv4: ipv4.Options{ForwardDirectedBroadcast: true}})
	ip := pktSpec{src: hostIP(1), dst: [4]byte{198, 18, 3, 255}, ttl: 64, payload: udpPayload(4)}.build()
	n.inject(1, fromHost(1, ip))
	want := eth(stack.BroadcastLinkAddress, routerMAC(3), header.EtherTypeIPv4, forwarded(ip))
	wantFrames(t, "directed broadcast", n.out(3), [][]byte{want})
	wantOnlyDrop(t, n.ep(1).Stats(), -1, 0)
	// Back into the subnet it came from: still refused.
	ip2 := pktSpec{src: hostIP(1), dst: [4]byte{198, 18, 1, 255}, ttl: 64, payload: udpPayload(4)}.build()
	n.inject(1, fromHost(1, ip2))
	wantFrames(t, "ingress-subnet broadcast", n.out(1), nil)
	wantOnlyDrop(t, n.ep(1).Stats(), int(stack.DropInvalidDestination), 1)
}

// TestForwardingDisabledPerNIC: with forwarding off on the ingress NIC a
// transit packet is dropped; other NICs still forward.
func TestForwardingDisabledPerNIC(t *testing.T) {
	n := newNet(t, netOpts{})
	if prev := n.ep(1).SetForwarding(false); !prev {
		t.Fatal("forwarding was off by default")
	}
	ip := pktSpec{src: hostIP(1), dst: hostIP(2), ttl: 64, payload: udpPayload(4)}.build()
	n.inject(1, fromHost(1, ip))
	wantFrames(t, "forwarding off", n.out(2), nil)
	wantOnlyDrop(t, n.ep(1).Stats(), int(stack.DropInvalidDestination), 1)
	ip3 := pktSpec{src: hostIP(3), dst: hostIP(2), ttl: 64, payload: udpPayload(4)}.build()
	n.inject(3, fromHost(3, ip3))
	wantFrames(t, "from NIC 3", n.out(2), [][]byte{toHost(2, forwarded(ip3))})
}

// TestForwardBatchAllocs: a batch of 64 forwarded packets reaches the
// egress link in one WritePackets (DESIGN §2.4) and allocates nothing.
func TestForwardBatchAllocs(t *testing.T) {
	n := newNet(t, netOpts{})
	ip := pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, payload: udpPayload(22)}.build()
	frame := fromHost(1, ip)
	// A ring like a link's RX ring: a FramePool holds released frames
	// back in leak-check mode, which would show up as allocations.
	pool := memlink.NewRing(2*stack.BatchSize, 2048)
	list := stack.MakePacketBufferList(stack.BatchSize)
	run := func() {
		for range stack.BatchSize {
			pkt := pool.Get()
			pkt.SetLen(len(frame))
			copy(pkt.Data(), frame)
			list.PushBack(pkt)
		}
		n.nics[1].DeliverNetworkPackets(n.w, &list)
		n.host[2].Discard()
	}
	before := n.router[2].Stats()
	run()
	if st := n.router[2].Stats(); st.WriteCalls-before.WriteCalls != 1 || st.TXFrames-before.TXFrames != stack.BatchSize {
		t.Errorf("a batch of %d left in %d WritePackets calls (%d frames), want 1 call",
			stack.BatchSize, st.WriteCalls-before.WriteCalls, st.TXFrames-before.TXFrames)
	}
	if allocs := testing.AllocsPerRun(100, run); allocs != 0 && !raceEnabled {
		t.Errorf("forwarding a batch of %d allocates %.1f times", stack.BatchSize, allocs)
	}
	if st := n.ep(1).Stats(); st.Forwarded != 102*stack.BatchSize || st.TotalDrops() != 0 {
		t.Errorf("Forwarded %d drops %d", st.Forwarded, st.TotalDrops())
	}
	if calls := n.router[2].Stats().WriteCalls - before.WriteCalls; calls != 102 {
		t.Errorf("102 batches took %d WritePackets calls, want 102", calls)
	}
	if pool.Outstanding() != 0 {
		t.Errorf("%d frames leaked", pool.Outstanding())
	}
}

// TestICMPErrorSourceAsymmetric: the route back to the offending packet's
// source leaves by NIC 3 although the packet came in on NIC 1, so the
// error leaves NIC 3 with the router's NIC 3 address as its source (RFC
// 1812 §4.3.2.4: "the IP address of the interface the error leaves by"),
// never with the ingress address 198.18.1.1.
func TestICMPErrorSourceAsymmetric(t *testing.T) {
	asym := [4]byte{198, 20, 0, 7} // routed back via host 3
	cases := []struct {
		name     string
		pkt      pktSpec
		mtu2     uint32
		icmpType header.ICMPv4Type
		icmpCode header.ICMPv4Code
		icmpRest uint32
		drop     stack.DropReason
	}{
		{
			name:     "time exceeded",
			pkt:      pktSpec{src: asym, dst: remoteIP, ttl: 1, payload: udpPayload(16)},
			icmpType: header.ICMPv4TimeExceeded, icmpCode: header.ICMPv4TTLExceeded,
			drop: stack.DropExhaustedTTL,
		},
		{
			name:     "net unreachable",
			pkt:      pktSpec{src: asym, dst: unroutedIP, ttl: 64, payload: udpPayload(16)},
			icmpType: header.ICMPv4DstUnreachable, icmpCode: header.ICMPv4NetUnreachable,
			drop: stack.DropUnrouteable,
		},
		{
			name:     "fragmentation needed",
			pkt:      pktSpec{src: asym, dst: remoteIP, ttl: 64, flags: header.IPv4FlagDontFragment, payload: udpPayload(700)},
			mtu2:     576,
			icmpType: header.ICMPv4DstUnreachable, icmpCode: header.ICMPv4FragmentationNeeded, icmpRest: 576,
			drop: stack.DropPacketTooBig,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mtu [numNICs + 1]uint32
			mtu[2] = tc.mtu2
			n := newNet(t, netOpts{mtu: mtu})
			back := stack.Route{Prefix: netip.MustParsePrefix("198.20.0.0/16"), NextHops: []stack.NextHop{{Gateway: netip.AddrFrom4(hostIP(3)), NIC: 3}}}
			if err := n.s.Routes().Add(back); err != nil {
				t.Fatalf("Routes().Add(%v): %v", back.Prefix, err)
			}
			ip := tc.pkt.build()
			n.inject(1, fromHost(1, ip))
			got := n.out(3)
			var id uint16
			if len(got) == 1 {
				id = ipID(got[0])
			}
			// Built with routerIP(3): the same bytes with routerIP(1) (the
			// ingress address) differ in the source and the checksum.
			want := toHost(3, icmpError(id, routerIP(3), ip, tc.icmpType, tc.icmpCode, tc.icmpRest))
			wantFrames(t, "error via NIC 3", got, [][]byte{want})
			wantFrames(t, "to host 1 (ingress)", n.out(1), nil)
			wantFrames(t, "to host 2", n.out(2), nil)
			wantOnlyDrop(t, n.ep(1).Stats(), int(tc.drop), 1)
			if ic := n.totalICMP(); ic.SentOf(tc.icmpType) != 1 {
				t.Errorf("ICMP sent %v, want one of type %d", ic.Sent, tc.icmpType)
			}
			if ps := n.ep(3).Stats().PacketsSent; ps != 1 {
				t.Errorf("NIC 3 PacketsSent = %d, want 1 (the error)", ps)
			}
		})
	}
}
