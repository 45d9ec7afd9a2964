package ipv6_test

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/ipv6"
	"github.com/nexthop-router/nexthop/ndp"
	"github.com/nexthop-router/nexthop/stack"
)

func nsMsg(src, dst, target netip.Addr, slla stack.LinkAddress) []byte {
	b := make([]byte, 32)
	n := header.EncodeNDPNeighborSolicit(b, header.NDPNeighborSolicitFields{Target: target.As16(), SourceLinkAddr: slla}, src.As16(), dst.As16())
	return b[:n]
}

func naMsg(src, dst, target netip.Addr, tlla stack.LinkAddress, solicited, override bool) []byte {
	b := make([]byte, 32)
	n := header.EncodeNDPNeighborAdvert(b, header.NDPNeighborAdvertFields{
		Target: target.As16(), Solicited: solicited, Override: override, TargetLinkAddr: tlla,
	}, src.As16(), dst.As16())
	return b[:n]
}

func snMAC(a netip.Addr) stack.LinkAddress {
	return ndp.MulticastLinkAddress(ndp.SolicitedNode(a.As16()))
}

func snAddr(a netip.Addr) netip.Addr { return netip.AddrFrom16(ndp.SolicitedNode(a.As16())) }

// ndpPkt wraps an NDP message from src to dst with Hop Limit 255.
func ndpPkt(ethDst stack.LinkAddress, src, dst netip.Addr, m []byte) pkt {
	return pkt{ethDst: ethDst, src: src, dst: dst, hop: 255, next: header.IPv6ProtocolICMPv6, payload: m}
}

func checkNA(t *testing.T, o out, src, dst netip.Addr, ethDst stack.LinkAddress, solicited bool) {
	t.Helper()
	if o.eth.Dst() != ethDst || o.eth.Src() != rMAC1 {
		t.Errorf("NA Ethernet %v → %v, want %v → %v", stack.LinkAddress(o.eth.Src()), stack.LinkAddress(o.eth.Dst()), rMAC1, ethDst)
	}
	if o.ip.SrcAddr() != src || o.ip.DstAddr() != dst || o.ip.HopLimit() != 255 {
		t.Errorf("NA %v → %v hop %d, want %v → %v hop 255", o.ip.SrcAddr(), o.ip.DstAddr(), o.ip.HopLimit(), src, dst)
	}
	if o.icmp == nil || o.icmp.Type() != header.ICMPv6NeighborAdvert || o.icmp.Code() != 0 {
		t.Fatalf("not a Neighbor Advertisement")
	}
	if err := header.ValidateNDP(o.icmp); err != nil {
		t.Fatalf("ValidateNDP: %v", err)
	}
	na := header.NDPNeighborAdvert(o.icmp.MessageBody())
	if !na.Router() || na.Solicited() != solicited || !na.Override() {
		t.Errorf("NA flags R=%v S=%v O=%v, want R=true S=%v O=true", na.Router(), na.Solicited(), na.Override(), solicited)
	}
	if na.Target() != src {
		t.Errorf("NA target %v, want %v", na.Target(), src)
	}
	it := header.NewNDPOptionIterator(na.Options())
	opt, ok := it.Next()
	mac, isLL := opt.LinkLayerAddress()
	if !ok || opt.Type != header.NDPOptionTargetLinkLayerAddress || !isLL || mac != rMAC1 {
		t.Errorf("NA lacks Target Link-Layer Address %v", rMAC1)
	}
}

func TestNeighborSolicitationAnswered(t *testing.T) {
	for _, target := range []netip.Addr{rAddr1, rLL1} {
		t.Run(target.String(), func(t *testing.T) {
			r := newRouter(t, routerConfig{noStatic: true})
			src := hAddr1
			if target.IsLinkLocalUnicast() {
				src = hLL1
			}
			r.inject(1, ndpPkt(snMAC(target), src, snAddr(target), nsMsg(src, snAddr(target), target, hMAC1)).frame())
			got := r.drain(1)
			if len(got) != 1 {
				t.Fatalf("host1 got %d frames, want one NA", len(got))
			}
			checkNA(t, got[0], target, src, hMAC1, true)
			// The solicitation's source link-layer option made a STALE entry.
			e, ok := r.nic[1].Neighbors(stack.IPv6ProtocolNumber).Entry(src)
			if !ok || e.State != stack.NeighborStale || e.LinkAddr != hMAC1 {
				t.Errorf("neighbour %v = %+v (found %v), want STALE %v", src, e, ok, hMAC1)
			}
			// Besides the answer, Enable's announcements were NAs too.
			ann := r.announced(1)
			ns := r.ep(1).NDPStats()
			if ns.NeighborSolicitsReceived != 1 || ns.NeighborAdvertsSent != 1+ann {
				t.Errorf("NDP stats %+v, want 1 NS received, %d NAs sent", ns, 1+ann)
			}
			is := r.ep(1).ICMPStats()
			if is.Received[ipv6.KindNeighborSolicit] != 1 || is.Sent[ipv6.KindNeighborAdvert] != 1+ann {
				t.Errorf("ICMP stats NS received %d, NA sent %d", is.Received[ipv6.KindNeighborSolicit], is.Sent[ipv6.KindNeighborAdvert])
			}
			s := r.ep(1).Stats()
			checkDrops(t, "ep1", s, nil)
			if s.PacketsDelivered != 1 || s.PacketsSent != 1+ann {
				t.Errorf("PacketsDelivered %d PacketsSent %d, want 1, %d", s.PacketsDelivered, s.PacketsSent, 1+ann)
			}
		})
	}
}

func TestNDPValidation(t *testing.T) {
	good := func() pkt {
		return ndpPkt(snMAC(rAddr1), hAddr1, snAddr(rAddr1), nsMsg(hAddr1, snAddr(rAddr1), rAddr1, hMAC1))
	}
	tests := []struct {
		name  string
		p     pkt
		stat  func(s ndp.Stats) uint64
		icmpc func(s ipv6.ICMPv6Stats) uint64
		drop  bool
	}{
		{
			name: "hop limit 254",
			p:    func() pkt { p := good(); p.hop = 254; return p }(),
			stat: func(s ndp.Stats) uint64 { return s.InvalidHopLimit }, drop: true,
		},
		{
			name: "code 1",
			p: func() pkt {
				p := good()
				p.payload[1] = 1
				header.ICMPv6(p.payload).UpdateChecksum(p.src.As16(), p.dst.As16())
				return p
			}(),
			stat: func(s ndp.Stats) uint64 { return s.InvalidCode }, drop: true,
		},
		{
			name:  "bad checksum",
			p:     func() pkt { p := good(); p.payload[8] ^= 1; return p }(),
			icmpc: func(s ipv6.ICMPv6Stats) uint64 { return s.ChecksumErrors }, drop: true,
		},
		{
			name: "too short",
			p: func() pkt {
				p := good()
				p.payload = p.payload[:20]
				header.ICMPv6(p.payload).UpdateChecksum(p.src.As16(), p.dst.As16())
				return p
			}(),
			stat: func(s ndp.Stats) uint64 { return s.Invalid }, drop: true,
		},
		{
			name: "option of length zero",
			p: func() pkt {
				p := good()
				p.payload[25] = 0
				header.ICMPv6(p.payload).UpdateChecksum(p.src.As16(), p.dst.As16())
				return p
			}(),
			stat: func(s ndp.Stats) uint64 { return s.Invalid }, drop: true,
		},
		{
			name: "multicast target",
			p:    ndpPkt(snMAC(rAddr1), hAddr1, snAddr(rAddr1), nsMsg(hAddr1, snAddr(rAddr1), ndp.AllNodes, hMAC1)),
			stat: func(s ndp.Stats) uint64 { return s.Invalid }, drop: true,
		},
		{
			name: "DAD probe with a link-layer option",
			p:    ndpPkt(snMAC(rAddr1), netip.IPv6Unspecified(), snAddr(rAddr1), nsMsg(netip.IPv6Unspecified(), snAddr(rAddr1), rAddr1, hMAC1)),
			stat: func(s ndp.Stats) uint64 { return s.Invalid }, drop: true,
		},
		{
			name: "target not ours",
			p:    ndpPkt(snMAC(rAddr1), hAddr1, snAddr(rAddr1), nsMsg(hAddr1, snAddr(rAddr1), netip.MustParseAddr("2001:db8:1::1:1"), hMAC1)),
			stat: func(s ndp.Stats) uint64 { return s.TargetNotLocal },
		},
		{
			name: "solicited NA to a multicast destination",
			p:    ndpPkt(stack.LinkAddress{0x33, 0x33, 0, 0, 0, 1}, hAddr1, ndp.AllNodes, naMsg(hAddr1, ndp.AllNodes, hAddr1, hMAC1, true, true)),
			stat: func(s ndp.Stats) uint64 { return s.Invalid }, drop: true,
		},
		{
			name: "NA for our own address",
			p:    ndpPkt(rMAC1, hAddr1, rAddr1, naMsg(hAddr1, rAddr1, rAddr1, hMAC1, false, true)),
			stat: func(s ndp.Stats) uint64 { return s.DuplicateAddress },
		},
		{
			name: "redirect ignored",
			p: func() pkt {
				m := make([]byte, 40)
				m[0] = byte(header.ICMPv6Redirect)
				copy(m[8:], remote.AsSlice())
				copy(m[24:], remote.AsSlice())
				header.ICMPv6(m).UpdateChecksum(hLL1.As16(), rLL1.As16())
				return ndpPkt(rMAC1, hLL1, rLL1, m)
			}(),
			stat: func(s ndp.Stats) uint64 { return s.RedirectsReceived },
		},
		{
			name: "router solicitation with RAs off",
			p: func() pkt {
				m := make([]byte, 8)
				m[0] = byte(header.ICMPv6RouterSolicit)
				header.ICMPv6(m).UpdateChecksum(hLL1.As16(), ndp.AllRouters.As16())
				return ndpPkt(stack.LinkAddress{0x33, 0x33, 0, 0, 0, 2}, hLL1, ndp.AllRouters, m)
			}(),
			stat: func(s ndp.Stats) uint64 { return s.RouterSolicitsReceived },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouter(t, routerConfig{noStatic: true})
			r.inject(1, tc.p.frame())
			if got := r.drain(1); len(got) != 0 {
				t.Errorf("host1 got %d frames (type %d), want none", len(got), got[0].icmp.Type())
			}
			if tc.stat != nil {
				if n := tc.stat(r.ep(1).NDPStats()); n != 1 {
					t.Errorf("NDP counter = %d, want 1 (stats %+v)", n, r.ep(1).NDPStats())
				}
			}
			if tc.icmpc != nil {
				if n := tc.icmpc(r.ep(1).ICMPStats()); n != 1 {
					t.Errorf("ICMP counter = %d, want 1", n)
				}
			}
			s := r.ep(1).Stats()
			if tc.drop {
				checkDrops(t, "ep1", s, dropCounts{stack.DropMalformed: 1})
			} else {
				checkDrops(t, "ep1", s, nil)
				if s.PacketsDelivered != 1 {
					t.Errorf("PacketsDelivered = %d, want 1", s.PacketsDelivered)
				}
			}
			if n := len(r.nic[1].Neighbors(stack.IPv6ProtocolNumber).Entries()); n != 0 {
				t.Errorf("%d neighbour entries, want none", n)
			}
		})
	}
}

func TestDuplicateAddressDetectionDefended(t *testing.T) {
	r := newRouter(t, routerConfig{noStatic: true})
	any := netip.IPv6Unspecified()
	r.inject(1, ndpPkt(snMAC(rAddr1), any, snAddr(rAddr1), nsMsg(any, snAddr(rAddr1), rAddr1, stack.LinkAddress{})).frame())
	got := r.drain(1)
	if len(got) != 1 {
		t.Fatalf("host1 got %d frames, want one NA to all-nodes", len(got))
	}
	checkNA(t, got[0], rAddr1, ndp.AllNodes, stack.LinkAddress{0x33, 0x33, 0, 0, 0, 1}, false)
	if n := r.ep(1).NDPStats().DuplicateAddress; n != 1 {
		t.Errorf("DuplicateAddress = %d, want 1", n)
	}
}

// forwardUnresolved sends a packet to hAddr2 through a router without
// static neighbours and returns the Neighbor Solicitation it sends.
func forwardUnresolved(t *testing.T, r *router) out {
	t.Helper()
	r.inject(1, pkt{src: hAddr1, dst: hAddr2, next: header.IPv6ProtocolUDP, payload: udp(14)}.frame())
	got := r.drain(2)
	if len(got) != 1 {
		t.Fatalf("host2 got %d frames, want one NS", len(got))
	}
	o := got[0]
	if o.eth.Dst() != snMAC(hAddr2) || o.eth.Src() != rMAC2 {
		t.Errorf("NS Ethernet %v → %v, want %v → %v", stack.LinkAddress(o.eth.Src()), stack.LinkAddress(o.eth.Dst()), rMAC2, snMAC(hAddr2))
	}
	if o.ip.SrcAddr() != rAddr2 || o.ip.DstAddr() != snAddr(hAddr2) || o.ip.HopLimit() != 255 {
		t.Errorf("NS %v → %v hop %d, want %v → %v hop 255", o.ip.SrcAddr(), o.ip.DstAddr(), o.ip.HopLimit(), rAddr2, snAddr(hAddr2))
	}
	if o.icmp == nil || o.icmp.Type() != header.ICMPv6NeighborSolicit || header.ValidateNDP(o.icmp) != nil {
		t.Fatalf("not a valid Neighbor Solicitation")
	}
	ns := header.NDPNeighborSolicit(o.icmp.MessageBody())
	if ns.Target() != hAddr2 {
		t.Errorf("NS target %v, want %v", ns.Target(), hAddr2)
	}
	it := header.NewNDPOptionIterator(ns.Options())
	opt, _ := it.Next()
	if mac, ok := opt.LinkLayerAddress(); !ok || opt.Type != header.NDPOptionSourceLinkLayerAddress || mac != rMAC2 {
		t.Errorf("NS lacks Source Link-Layer Address %v", rMAC2)
	}
	return o
}

func TestNeighborResolution(t *testing.T) {
	r := newRouter(t, routerConfig{noStatic: true})
	forwardUnresolved(t, r)
	if e, _ := r.nic[2].Neighbors(stack.IPv6ProtocolNumber).Entry(hAddr2); e.State != stack.NeighborIncomplete {
		t.Fatalf("entry state %v, want incomplete", e.State)
	}
	// host2 answers; the queued packet leaves with the hop limit spent.
	r.inject(2, ndpPkt(rMAC2, hAddr2, rAddr2, naMsg(hAddr2, rAddr2, hAddr2, hMAC2, true, true)).withEthSrc(hMAC2).frame())
	got := r.drain(2)
	if len(got) != 1 {
		t.Fatalf("host2 got %d frames after the NA, want the queued packet", len(got))
	}
	if got[0].eth.Dst() != hMAC2 || got[0].ip.HopLimit() != 63 || got[0].ip.NextHeader() != header.IPv6ProtocolUDP {
		t.Errorf("queued packet: Ethernet dst %v hop %d", stack.LinkAddress(got[0].eth.Dst()), got[0].ip.HopLimit())
	}
	if e, _ := r.nic[2].Neighbors(stack.IPv6ProtocolNumber).Entry(hAddr2); e.State != stack.NeighborReachable || e.LinkAddr != hMAC2 {
		t.Errorf("entry %+v, want REACHABLE %v", e, hMAC2)
	}
	if n := r.ep(2).NDPStats(); n.NeighborSolicitsSent != 1 || n.NeighborAdvertsReceived != 1 {
		t.Errorf("NDP stats %+v", n)
	}

	// An unsolicited NA without Override keeps the address and marks it
	// STALE; with Override it replaces the address (RFC 4861 §7.2.5).
	newMAC := stack.LinkAddress{0x02, 0, 0, 0, 2, 9}
	r.inject(2, ndpPkt(rMAC2, hAddr2, rAddr2, naMsg(hAddr2, rAddr2, hAddr2, newMAC, false, false)).withEthSrc(hMAC2).frame())
	if e, _ := r.nic[2].Neighbors(stack.IPv6ProtocolNumber).Entry(hAddr2); e.LinkAddr != hMAC2 || e.State != stack.NeighborStale {
		t.Errorf("after NA without O: %+v, want STALE %v", e, hMAC2)
	}
	r.inject(2, ndpPkt(rMAC2, hAddr2, rAddr2, naMsg(hAddr2, rAddr2, hAddr2, newMAC, false, true)).withEthSrc(hMAC2).frame())
	if e, _ := r.nic[2].Neighbors(stack.IPv6ProtocolNumber).Entry(hAddr2); e.LinkAddr != newMAC {
		t.Errorf("after NA with O: %+v, want %v", e, newMAC)
	}
	r.inject(1, pkt{src: hAddr1, dst: hAddr2, next: header.IPv6ProtocolUDP, payload: udp(14)}.frame())
	if got := r.drain(2); len(got) != 1 || got[0].eth.Dst() != newMAC {
		t.Errorf("after override the packet went to %v, want %v", stack.LinkAddress(got[0].eth.Dst()), newMAC)
	}
	checkDrops(t, "ep1", r.ep(1).Stats(), nil)
	checkDrops(t, "ep2", r.ep(2).Stats(), nil)
}

func TestNeighborResolutionFailure(t *testing.T) {
	r := newRouter(t, routerConfig{noStatic: true})
	// host1 must be resolvable for the error to reach it.
	r.nic[1].Neighbors(stack.IPv6ProtocolNumber).AddStatic(hAddr1, hMAC1)
	forwardUnresolved(t, r)
	cfg := stack.DefaultNUDConfig()
	for i := 2; i <= cfg.MaxMulticastProbes; i++ {
		r.tick(cfg.RetransTimer)
		if got := r.drain(2); len(got) != 1 || got[0].icmp.Type() != header.ICMPv6NeighborSolicit {
			t.Fatalf("retransmission %d: host2 got %d frames, want one NS", i, len(got))
		}
	}
	r.tick(cfg.RetransTimer)
	if got := r.drain(2); len(got) != 0 {
		t.Errorf("host2 got %d frames after the last probe", len(got))
	}
	got := r.drain(1)
	if len(got) != 1 {
		t.Fatalf("host1 got %d frames, want Destination Unreachable code 3", len(got))
	}
	o := got[0]
	if o.icmp.Type() != header.ICMPv6DstUnreachable || o.icmp.Code() != header.ICMPv6AddressUnreachable {
		t.Errorf("got type/code %d/%d, want 1/3", o.icmp.Type(), o.icmp.Code())
	}
	if o.ip.SrcAddr() != rAddr1 || o.ip.DstAddr() != hAddr1 || o.eth.Dst() != hMAC1 {
		t.Errorf("error %v → %v (MAC %v)", o.ip.SrcAddr(), o.ip.DstAddr(), stack.LinkAddress(o.eth.Dst()))
	}
	if q := header.IPv6(o.icmp.Payload()); len(q) < 40 || q.DstAddr() != hAddr2 || q.HopLimit() != 63 {
		t.Errorf("quoted packet is not the forwarded one")
	}
	// Counted once, on the ingress endpoint like every forwarding drop.
	checkDrops(t, "ep1", r.ep(1).Stats(), dropCounts{stack.DropHostUnreachable: 1})
	checkDrops(t, "ep2", r.ep(2).Stats(), nil)
	if e, _ := r.nic[2].Neighbors(stack.IPv6ProtocolNumber).Entry(hAddr2); e.State != stack.NeighborFailed {
		t.Errorf("entry state %v, want failed", e.State)
	}
}

// TestResolutionCountsEachPacketOnce: packets forwarded to an unresolved
// next hop count neither as forwarded (ingress) nor as sent (egress) while
// they wait; when the next hop answers, exactly the queued ones count, and
// when it never does, each counts once as host_unreachable on the ingress
// endpoint. Packets pushed out of the bounded queue count once as
// neighbor_queue_full and never as forwarded (DESIGN §3).
func TestResolutionCountsEachPacketOnce(t *testing.T) {
	const sent = 5
	queued := uint64(stack.DefaultNUDConfig().MaxQueuedPackets)
	overflow := sent - queued
	for _, tc := range []struct {
		name    string
		resolve bool
	}{{"resolved", true}, {"failed", false}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouter(t, routerConfig{noStatic: true})
			r.nic[1].Neighbors(stack.IPv6ProtocolNumber).AddStatic(hAddr1, hMAC1)
			frame := pkt{src: hAddr1, dst: hAddr2, next: header.IPv6ProtocolUDP, payload: udp(14)}.frame()
			size := uint64(len(frame) - header.EthernetMinimumSize)
			for range sent {
				r.inject(1, frame)
			}
			r.drain(2) // the NS
			egressSent := func() uint64 {
				// PacketsSent includes the NDP messages NIC 2 sent.
				n := r.ep(2).NDPStats()
				return r.ep(2).Stats().PacketsSent - n.Sent()
			}
			check := func(what string, fwd uint64, drops dropCounts) {
				t.Helper()
				in := r.ep(1).Stats()
				if in.Forwarded != fwd || in.ForwardedBytes != fwd*size || egressSent() != fwd {
					t.Errorf("%s: ingress Forwarded %d (%d bytes), egress sent %d; want %d (%d bytes) and %d",
						what, in.Forwarded, in.ForwardedBytes, egressSent(), fwd, fwd*size, fwd)
				}
				checkDrops(t, what+": ep1", in, drops)
				checkDrops(t, what+": ep2", r.ep(2).Stats(), nil)
			}
			check("waiting", 0, dropCounts{stack.DropNeighborQueueFull: overflow})
			if tc.resolve {
				r.inject(2, ndpPkt(rMAC2, hAddr2, rAddr2, naMsg(hAddr2, rAddr2, hAddr2, hMAC2, true, true)).withEthSrc(hMAC2).frame())
				if got := r.drain(2); uint64(len(got)) != queued {
					t.Fatalf("host2 got %d frames after the NA, want the %d queued", len(got), queued)
				}
				check("resolved", queued, dropCounts{stack.DropNeighborQueueFull: overflow})
				r.inject(1, frame)
				check("direct", queued+1, dropCounts{stack.DropNeighborQueueFull: overflow})
				return
			}
			for range stack.DefaultNUDConfig().MaxMulticastProbes {
				r.tick(stack.DefaultNUDConfig().RetransTimer)
			}
			if got := r.drain(1); uint64(len(got)) != queued {
				t.Errorf("host1 got %d frames, want %d Destination Unreachable", len(got), queued)
			}
			check("failed", 0, dropCounts{stack.DropNeighborQueueFull: overflow, stack.DropHostUnreachable: queued})
		})
	}
}

func TestRouterAdvertisements(t *testing.T) {
	ra := ndp.RAConfig{
		Enabled:     true,
		MaxInterval: 30 * time.Second,
		MinInterval: 10 * time.Second,
		MTU:         1500,
		Prefixes:    []ndp.RAPrefix{{Prefix: netip.MustParsePrefix("2001:db8:1::/64")}},
	}
	r := newRouter(t, routerConfig{opts: ipv6.Options{RouterAdvertisements: map[string]ndp.RAConfig{"eth1": ra}}})
	checkRA := func(o out, dst netip.Addr, ethDst stack.LinkAddress) {
		t.Helper()
		if o.eth.Dst() != ethDst || o.ip.SrcAddr() != rLL1 || o.ip.DstAddr() != dst || o.ip.HopLimit() != 255 {
			t.Errorf("RA %v → %v (MAC %v) hop %d, want %v → %v (%v) hop 255",
				o.ip.SrcAddr(), o.ip.DstAddr(), stack.LinkAddress(o.eth.Dst()), o.ip.HopLimit(), rLL1, dst, ethDst)
		}
		if o.icmp.Type() != header.ICMPv6RouterAdvert || header.ValidateNDP(o.icmp) != nil {
			t.Fatalf("not a valid Router Advertisement")
		}
		body := header.NDPRouterAdvert(o.icmp.MessageBody())
		if body.CurHopLimit() != 64 || body.RouterLifetime() != 90 {
			t.Errorf("RA hop limit %d lifetime %d, want 64, 90", body.CurHopLimit(), body.RouterLifetime())
		}
		var pfx, mtu, sll bool
		it := header.NewNDPOptionIterator(body.Options())
		for opt, ok := it.Next(); ok; opt, ok = it.Next() {
			if pi, ok := opt.PrefixInformation(); ok {
				pfx = pi.Prefix() == netip.MustParsePrefix("2001:db8:1::/64") && pi.OnLink() && pi.Autonomous() &&
					pi.ValidLifetime() == 2592000 && pi.PreferredLifetime() == 604800
			}
			if m, ok := opt.MTU(); ok {
				mtu = m == 1500
			}
			if mac, ok := opt.LinkLayerAddress(); ok {
				sll = mac == rMAC1
			}
		}
		if !pfx || !mtu || !sll {
			t.Errorf("RA options: prefix %v, MTU %v, source link-layer %v", pfx, mtu, sll)
		}
	}
	allNodesMAC := stack.LinkAddress{0x33, 0x33, 0, 0, 0, 1}

	// The first advertisement goes out at the first Tick; the first three
	// are at most 16 s apart.
	r.s.Tick()
	got := r.drain(1)
	if len(got) != 1 {
		t.Fatalf("first Tick: host1 got %d frames, want one RA", len(got))
	}
	checkRA(got[0], ndp.AllNodes, allNodesMAC)
	if n := len(r.drain(2)); n != 0 {
		t.Errorf("eth2 (RAs off) sent %d frames", n)
	}
	r.tick(ndp.MaxInitialRtrAdvertInterval)
	if got := r.drain(1); len(got) != 1 {
		t.Errorf("after 16 s: %d RAs, want 1", len(got))
	}
	// Later ones are within [MinInterval, MaxInterval].
	r.tick(ndp.MaxInitialRtrAdvertInterval)
	r.drain(1)
	r.tick(ra.MinInterval - time.Second)
	if got := r.drain(1); len(got) != 0 {
		t.Errorf("before MinInterval: %d RAs, want 0", len(got))
	}
	r.tick(ra.MaxInterval - ra.MinInterval + time.Second)
	if got := r.drain(1); len(got) != 1 {
		t.Errorf("by MaxInterval: %d RAs, want 1", len(got))
	}

	// A solicitation from a unicast source is answered unicast, after a
	// random delay of at most MaxRADelayTime (TestRouterSolicitationDelay
	// checks the exact times).
	rs := make([]byte, 16)
	n := header.EncodeNDPRouterSolicit(rs, header.NDPRouterSolicitFields{SourceLinkAddr: hMAC1}, hLL1.As16(), ndp.AllRouters.As16())
	r.inject(1, ndpPkt(stack.LinkAddress{0x33, 0x33, 0, 0, 0, 2}, hLL1, ndp.AllRouters, rs[:n]).frame())
	if got := r.drain(1); len(got) != 0 {
		t.Fatalf("RS: host1 got %d frames at once, want the RA delayed", len(got))
	}
	r.tick(ndp.MaxRADelayTime)
	got = r.drain(1)
	if len(got) != 1 {
		t.Fatalf("RS: host1 got %d frames within MaxRADelayTime, want one RA", len(got))
	}
	checkRA(got[0], hLL1, hMAC1)

	// A solicitation from :: brings the next multicast RA forward, no
	// sooner than 3 s after the last (plus the random delay).
	next0, _ := r.ep(1).NDP().NextRA()
	n = header.EncodeNDPRouterSolicit(rs, header.NDPRouterSolicitFields{}, [16]byte{}, ndp.AllRouters.As16())
	r.inject(1, ndpPkt(stack.LinkAddress{0x33, 0x33, 0, 0, 0, 2}, netip.IPv6Unspecified(), ndp.AllRouters, rs[:n]).frame())
	if got := r.drain(1); len(got) != 0 {
		t.Errorf("RS from ::: %d immediate frames, want 0", len(got))
	}
	if next, _ := r.ep(1).NDP().NextRA(); next >= next0 {
		t.Errorf("RS from :: did not bring the next RA forward")
	}
	r.tick(ndp.MinDelayBetweenRAs)
	if got := r.drain(1); len(got) != 1 {
		t.Errorf("3 s after RS from ::: %d RAs, want 1", len(got))
	}
	if s := r.ep(1).NDPStats(); s.RouterSolicitsReceived != 2 || s.RouterAdvertsSent != 6 {
		t.Errorf("NDP stats: %d RS received, %d RA sent; want 2, 6", s.RouterSolicitsReceived, s.RouterAdvertsSent)
	}
	checkDrops(t, "ep1", r.ep(1).Stats(), nil)
}

// TestResolutionFailureErrorSameNIC: the Destination Unreachable for a
// failed resolution leaves through the NIC whose neighbour cache failed
// (the source is on that NIC's subnet). The cache calls the endpoint under
// its lock, so the error must be sent after the cache's Tick, not from
// inside it (this deadlocked; found by FuzzIngress6).
func TestResolutionFailureErrorSameNIC(t *testing.T) {
	r := newRouter(t, routerConfig{noStatic: true})
	src := netip.MustParseAddr("2001:db8:2::7") // on NIC 2's subnet, arriving on NIC 1
	r.inject(1, pkt{src: src, dst: hAddr2, next: header.IPv6ProtocolUDP, payload: udp(14)}.frame())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range stack.DefaultNUDConfig().MaxMulticastProbes + 1 {
			r.tick(stack.DefaultNUDConfig().RetransTimer)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Stack.Tick deadlocked sending the error")
	}
	checkDrops(t, "ep1", r.ep(1).Stats(), dropCounts{stack.DropHostUnreachable: 1})
	checkDrops(t, "ep2", r.ep(2).Stats(), nil)
	// The error waits for src's resolution on NIC 2: NSes for hAddr2 and src.
	var targets []netip.Addr
	for _, o := range r.drain(2) {
		if o.icmp != nil && o.icmp.Type() == header.ICMPv6NeighborSolicit {
			targets = append(targets, header.NDPNeighborSolicit(o.icmp.MessageBody()).Target())
		}
	}
	if len(targets) == 0 || targets[len(targets)-1] != src {
		t.Errorf("NS targets %v, want the last for %v (the error's next hop)", targets, src)
	}
}

// unsolicitedNA is the frame a router with MAC mac sends to announce
// target (RFC 4861 §7.2.6): to ff02::1 (33:33:00:00:00:01) from target,
// Hop Limit 255, flags R=1 S=0 O=1, Target Link-Layer Address mac.
func unsolicitedNA(mac stack.LinkAddress, target netip.Addr) []byte {
	na := make([]byte, 32)
	n := header.EncodeNDPNeighborAdvert(na, header.NDPNeighborAdvertFields{
		Target: target.As16(), Router: true, Override: true, TargetLinkAddr: mac,
	}, target.As16(), ndp.AllNodes.As16())
	b := make([]byte, header.EthernetMinimumSize+header.IPv6MinimumSize+n)
	header.EncodeEthernet(b, stack.LinkAddress{0x33, 0x33, 0, 0, 0, 1}, mac, header.EtherTypeIPv6)
	header.EncodeIPv6(b[header.EthernetMinimumSize:], header.IPv6Fields{
		PayloadLength: uint16(n), NextHeader: header.IPv6ProtocolICMPv6, HopLimit: 255,
		Src: target.As16(), Dst: ndp.AllNodes.As16(),
	})
	copy(b[header.EthernetMinimumSize+header.IPv6MinimumSize:], na[:n])
	return b
}

// TestUnsolicitedNAOnEnable: enabling a NIC announces each of its unicast
// addresses (global and link-local) with one unsolicited Neighbor
// Advertisement to all-nodes, IPv6's gratuitous ARP; Announce does it
// again, e.g. for an address added while running.
func TestUnsolicitedNAOnEnable(t *testing.T) {
	r := newRouter(t, routerConfig{})
	for id, want := range map[int][][]byte{
		1: {unsolicitedNA(rMAC1, rAddr1), unsolicitedNA(rMAC1, rLL1)},
		2: {unsolicitedNA(rMAC2, rAddr2), unsolicitedNA(rMAC2, rLL2)},
	} {
		got := r.announce[id]
		if len(got) != len(want) {
			t.Fatalf("NIC %d announced %d frames, want %d", id, len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("NIC %d announcement %d:\n got %x\nwant %x", id, i, got[i], want[i])
			}
			// Flags on the wire: R (0x80) and O (0x20), S (0x40) clear.
			if f := got[i][header.EthernetMinimumSize+header.IPv6MinimumSize+4]; f != 0xa0 {
				t.Errorf("NIC %d announcement %d: flags %#02x, want 0xa0", id, i, f)
			}
		}
		if s := r.ep(id).NDPStats(); s.UnsolicitedAdvertsSent != 2 || s.NeighborAdvertsSent != 2 {
			t.Errorf("NIC %d NDP stats %+v, want 2 unsolicited NAs", id, s)
		}
		checkDrops(t, "ep", r.ep(id).Stats(), nil)
	}

	// An address added at run time is announced by Announce, with the
	// others again (as ARP's Announce does).
	added := netip.MustParseAddr("2001:db8:1::5")
	if err := r.nic[1].AddAddress(netip.PrefixFrom(added, 64)); err != nil {
		t.Fatalf("AddAddress(%v): %v", added, err)
	}
	r.s.RunControl(r.ep(1).Announce)
	got := r.host[1].DrainBytes()
	want := [][]byte{unsolicitedNA(rMAC1, rAddr1), unsolicitedNA(rMAC1, rLL1), unsolicitedNA(rMAC1, added)}
	if len(got) != len(want) {
		t.Fatalf("Announce sent %d frames, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("Announce frame %d:\n got %x\nwant %x", i, got[i], want[i])
		}
	}
	if n := len(r.host[2].DrainBytes()); n != 0 {
		t.Errorf("NIC 2 sent %d frames on NIC 1's Announce", n)
	}
}

// TestRouterSolicitationDelay: every Router Advertisement that answers a
// Router Solicitation waits a random delay in [0, MaxRADelayTime], and a
// multicast one also keeps MinDelayBetweenRAs after the previous multicast
// RA; when the next scheduled multicast RA comes sooner, it is the answer
// (RFC 4861 §6.2.6). The router's random source is seeded, and a twin
// with the same seed predicts each draw: one interval per multicast RA,
// one delay per solicitation (ndp.Endpoint.SetRand).
func TestRouterSolicitationDelay(t *testing.T) {
	const seed = 42
	ra := ndp.RAConfig{Enabled: true, MaxInterval: 1800 * time.Second, MinInterval: 1350 * time.Second}
	interval := func(twin *rand.Rand) time.Duration {
		return time.Duration(twin.Int64N(int64(ra.MaxInterval-ra.MinInterval) + 1))
	}
	delay := func(t *testing.T, twin *rand.Rand) time.Duration {
		t.Helper()
		d := time.Duration(twin.Int64N(int64(ndp.MaxRADelayTime) + 1))
		if d < time.Millisecond {
			t.Fatalf("seed %d draws a delay of %v: too short to tell from none, pick another seed", seed, d)
		}
		return d
	}
	allNodesMAC := stack.LinkAddress{0x33, 0x33, 0, 0, 0, 1}
	unicastRS := func() []byte {
		rs := make([]byte, 16)
		n := header.EncodeNDPRouterSolicit(rs, header.NDPRouterSolicitFields{SourceLinkAddr: hMAC1}, hLL1.As16(), ndp.AllRouters.As16())
		return ndpPkt(stack.LinkAddress{0x33, 0x33, 0, 0, 0, 2}, hLL1, ndp.AllRouters, rs[:n]).frame()
	}
	unspecifiedRS := func() []byte {
		rs := make([]byte, 8)
		n := header.EncodeNDPRouterSolicit(rs, header.NDPRouterSolicitFields{}, [16]byte{}, ndp.AllRouters.As16())
		return ndpPkt(stack.LinkAddress{0x33, 0x33, 0, 0, 0, 2}, netip.IPv6Unspecified(), ndp.AllRouters, rs[:n]).frame()
	}
	// wantRA asserts what host1 received: nothing (dst invalid) or one
	// RA from rLL1 to dst.
	wantRA := func(t *testing.T, r *router, what string, dst netip.Addr, ethDst stack.LinkAddress) {
		t.Helper()
		got := r.drain(1)
		if !dst.IsValid() {
			if len(got) != 0 {
				t.Fatalf("%s: host1 got %d frames, want none", what, len(got))
			}
			return
		}
		if len(got) != 1 {
			t.Fatalf("%s: host1 got %d frames, want one RA", what, len(got))
		}
		o := got[0]
		if o.icmp == nil || o.icmp.Type() != header.ICMPv6RouterAdvert || o.ip.SrcAddr() != rLL1 || o.ip.DstAddr() != dst || o.eth.Dst() != ethDst {
			t.Fatalf("%s: got %v → %v (MAC %v), want an RA from %v to %v (%v)", what, o.ip.SrcAddr(), o.ip.DstAddr(), stack.LinkAddress(o.eth.Dst()), rLL1, dst, ethDst)
		}
	}
	next := func(r *router) time.Duration {
		n, _ := r.ep(1).NDP().NextRA()
		return time.Duration(n)
	}
	now := func(r *router) time.Duration { return time.Duration(r.clock.NowNanos()) }

	tests := []struct {
		name string
		run  func(t *testing.T, r *router, twin *rand.Rand, lastMC time.Duration)
	}{
		{
			name: "unicast answer after the random delay",
			run: func(t *testing.T, r *router, twin *rand.Rand, lastMC time.Duration) {
				r.tick(10 * time.Second)
				scheduled := next(r)
				r.inject(1, unicastRS())
				d := delay(t, twin)
				wantRA(t, r, "at once", netip.Addr{}, stack.LinkAddress{})
				r.tick(d - time.Nanosecond)
				wantRA(t, r, "1 ns before the delay", netip.Addr{}, stack.LinkAddress{})
				r.tick(time.Nanosecond)
				wantRA(t, r, "at the delay", hLL1, hMAC1)
				if next(r) != scheduled {
					t.Errorf("a unicast answer moved the multicast schedule")
				}
			},
		},
		{
			name: "repeated solicitation: one answer, delay from the first",
			run: func(t *testing.T, r *router, twin *rand.Rand, lastMC time.Duration) {
				r.tick(10 * time.Second)
				r.inject(1, unicastRS(), unicastRS())
				d := delay(t, twin)
				delay(t, twin) // drawn by the second, unused
				r.tick(d)
				wantRA(t, r, "at the first delay", hLL1, hMAC1)
				r.tick(ndp.MaxRADelayTime)
				wantRA(t, r, "later", netip.Addr{}, stack.LinkAddress{})
			},
		},
		{
			name: "from :: long after the last multicast RA: now plus the delay",
			run: func(t *testing.T, r *router, twin *rand.Rand, lastMC time.Duration) {
				r.tick(10 * time.Second)
				at := now(r)
				r.inject(1, unspecifiedRS())
				d := delay(t, twin)
				if next(r) != at+d {
					t.Fatalf("next RA at %v, want %v (now + delay %v)", next(r)-at, d, d)
				}
				r.tick(d - time.Nanosecond)
				wantRA(t, r, "1 ns before the delay", netip.Addr{}, stack.LinkAddress{})
				r.tick(time.Nanosecond)
				wantRA(t, r, "at the delay", ndp.AllNodes, allNodesMAC)
				// The interval timer restarts as if unsolicited.
				if want := at + d + ra.MinInterval + interval(twin); next(r) != want {
					t.Errorf("next RA %v after the answer, want %v", next(r)-at-d, want-at-d)
				}
			},
		},
		{
			name: "from :: within MinDelayBetweenRAs: last + 3 s + the delay",
			run: func(t *testing.T, r *router, twin *rand.Rand, lastMC time.Duration) {
				r.tick(time.Second)
				r.inject(1, unspecifiedRS())
				d := delay(t, twin)
				due := lastMC + ndp.MinDelayBetweenRAs + d
				if next(r) != due {
					t.Fatalf("next RA %v after the last, want %v (3 s + delay %v)", next(r)-lastMC, due-lastMC, d)
				}
				r.tick(due - now(r) - time.Nanosecond)
				wantRA(t, r, "1 ns early", netip.Addr{}, stack.LinkAddress{})
				r.tick(time.Nanosecond)
				wantRA(t, r, "at 3 s + delay", ndp.AllNodes, allNodesMAC)
			},
		},
		{
			name: "the scheduled multicast RA is sooner: it answers",
			run: func(t *testing.T, r *router, twin *rand.Rand, lastMC time.Duration) {
				scheduled := next(r)
				r.tick(scheduled - now(r) - time.Millisecond) // no RA yet
				wantRA(t, r, "before the schedule", netip.Addr{}, stack.LinkAddress{})
				r.inject(1, unicastRS())
				delay(t, twin) // ≥ 1 ms: later than the schedule
				if next(r) != scheduled {
					t.Errorf("next RA moved by %v, want unchanged", next(r)-scheduled)
				}
				r.tick(time.Millisecond)
				wantRA(t, r, "at the schedule", ndp.AllNodes, allNodesMAC)
				r.tick(ndp.MaxRADelayTime)
				wantRA(t, r, "after", netip.Addr{}, stack.LinkAddress{})
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouter(t, routerConfig{opts: ipv6.Options{RouterAdvertisements: map[string]ndp.RAConfig{"eth1": ra}}})
			r.ep(1).NDP().SetRand(rand.New(rand.NewPCG(seed, 1)))
			twin := rand.New(rand.NewPCG(seed, 1))
			// Four multicast RAs: the three initial ones 16 s apart,
			// then the interval is in [MinInterval, MaxInterval].
			r.s.Tick()
			for i := 2; i <= 4; i++ {
				interval(twin)
				r.tick(ndp.MaxInitialRtrAdvertInterval)
			}
			lastMC := now(r)
			if want := lastMC + ra.MinInterval + interval(twin); next(r) != want {
				t.Fatalf("after 4 RAs the next is %v away, want %v", next(r)-lastMC, want-lastMC)
			}
			if s := r.ep(1).NDPStats(); s.RouterAdvertsSent != 4 {
				t.Fatalf("RouterAdvertsSent = %d, want 4", s.RouterAdvertsSent)
			}
			r.drain(1)
			tc.run(t, r, twin, lastMC)
			checkDrops(t, "ep1", r.ep(1).Stats(), nil)
		})
	}
}
