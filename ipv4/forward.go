package ipv4

import (
	"encoding/binary"
	"net/netip"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/stack"
)

// forward routes a validated transit packet, in the order Linux uses
// (ip_route_input, then ip_forward) and the same order as package ipv6:
// link-layer and address checks, route lookup and route type, egress NIC,
// TTL, MTU, and only then the in-place rewrite (RFC 1812 §5.2.1, §5.3). So
// an unroutable packet with TTL 1 gets Destination Unreachable, not Time
// Exceeded.
//
// eg is the batch's memo of where route entries lead.
func (e *Endpoint) forward(w *stack.Worker, st *stack.IPStats, pkt *stack.PacketBuffer, h header.IPv4, eg *egress) {
	// A unicast IP packet in a link-layer broadcast or multicast frame is
	// not for a router to pass on (RFC 1812 §5.3.4).
	if pkt.PktType != stack.PacketHost {
		st.Drop(stack.DropBroadcastFrame)
		pkt.Release()
		return
	}
	// The addresses as words: [4]byte locals live in memory (the compiler
	// keeps only arrays of one element in registers), and their byte
	// stores and word reloads stall the pipeline.
	src, dst := addrWord(h[12:16]), addrWord(h[16:20])
	// Martian sources and destinations (RFC 1812 §5.3.7, §4.2.2.11,
	// RFC 3927 §7).
	if r, bad := martianSourceWord(src); bad {
		st.Drop(r)
		pkt.Release()
		return
	}
	if r, bad := martianDestinationWord(dst); bad {
		st.Drop(r)
		pkt.Release()
		return
	}
	// The broadcast address of any attached subnet, not only the
	// ingress one, names no single host (RFC 1812 §5.3.7). Such an
	// address ends in binary 11 (see isBroadcastOnAnyNIC).
	if src&3 == 3 && e.p.isBroadcastOnAnyNIC(h.SourceAddress()) {
		st.Drop(stack.DropInvalidSource)
		pkt.Release()
		return
	}
	fib := e.s.Routes().Lookup4(h.DestinationAddress())
	var nh *stack.NextHop
	var out *Endpoint
	if fib != nil && fib == eg.fib {
		// Entries are interned: a batch's packets mostly share a few.
		nh, out = eg.nh, eg.out
	} else {
		if fib == nil {
			st.Drop(stack.DropUnrouteable)
			e.sendICMPError(w, pkt, header.ICMPv4DstUnreachable, header.ICMPv4NetUnreachable, 0)
			pkt.Release()
			return
		}
		if fib.Type != stack.RouteUnicast || len(fib.NextHops) == 0 {
			e.dropByRouteType(w, st, pkt, fib.Type)
			return
		}
		nh = &fib.NextHops[0]
		if len(fib.NextHops) > 1 {
			hash := pkt.Hash
			if hash == 0 {
				hash = flowHash(h)
			}
			nh = fib.NextHop(hash)
		}
		out = e.p.endpoint(nh.NIC)
		if len(fib.NextHops) == 1 {
			*eg = egress{fib: fib, nh: nh, out: out}
		}
	}
	if out == nil || !out.enabled.Load() || !out.nic.Enabled() {
		st.Drop(stack.DropUnknownOutputEndpoint)
		pkt.Release()
		return
	}
	gw := nh.Gateway
	broadcast := false
	if !gw.IsValid() {
		gw = netip.AddrFrom4(h.DestinationAddress())
		// A directed broadcast to an attached subnet (RFC 1812
		// §5.3.5.2): never back out of the subnet it came from, and to
		// another subnet only when configured.
		if isSubnetBroadcast(out.nic, h.DestinationAddress()) {
			if out == e || !e.p.opts.ForwardDirectedBroadcast {
				st.Drop(stack.DropInvalidDestination)
				pkt.Release()
				return
			}
			broadcast = true
		}
	}
	// RFC 1812 §5.3.1: a transit packet whose TTL would reach zero is
	// discarded with Time Exceeded; it is never sent on with TTL 0.
	if h.TTL() <= 1 {
		st.Drop(stack.DropExhaustedTTL)
		e.sendICMPError(w, pkt, header.ICMPv4TimeExceeded, header.ICMPv4TTLExceeded, 0)
		pkt.Release()
		return
	}
	tl := len(h)
	if pkt.GSO.Type != stack.GSONone {
		// A super-packet (TSO/GRO) leaves as segments, cut by a link
		// that takes GSO or by the stack at egress (NIC.WriteEthernet).
		// The largest segment is held to the MTU like a packet of its
		// size; one whose headers contradict its GSO metadata cannot be
		// cut at all.
		seg, ok := stack.GSOSegmentLen(pkt)
		if !ok {
			st.Drop(stack.DropGSOUnsupported)
			pkt.Release()
			return
		}
		if mtu := int(out.mtu.Load()); seg > mtu {
			st.Drop(stack.DropPacketTooBig)
			e.sendICMPError(w, pkt, header.ICMPv4DstUnreachable, header.ICMPv4FragmentationNeeded, uint32(min(mtu, 0xffff)))
			pkt.Release()
			return
		}
	} else if mtu := int(out.mtu.Load()); tl > mtu {
		if h.DontFragment() {
			// RFC 1191 §4: the error carries the next-hop MTU. It is
			// exempt from rate limiting: PMTU discovery depends on it.
			st.Drop(stack.DropPacketTooBig)
			e.sendICMPError(w, pkt, header.ICMPv4DstUnreachable, header.ICMPv4FragmentationNeeded, uint32(min(mtu, 0xffff)))
			pkt.Release()
			return
		}
		h.DecrementTTL()
		ok, sent := out.fragment(w, pkt, h, mtu, gw, broadcast)
		if !ok {
			st.Drop(stack.DropPacketTooBig)
			return
		}
		if sent {
			st.Forwarded++
			st.ForwardedBytes += uint64(tl)
		}
		return
	}
	h.DecrementTTL()
	// Forwarded (here, on the ingress endpoint) and PacketsSent (on the
	// egress one) count the packet only when it goes to the link now; one
	// that waits for its next hop is counted by HandleResolved when it
	// leaves, or as a drop if it never does.
	sent := true
	if broadcast {
		out.nic.WriteEthernet(w, pkt, stack.BroadcastLinkAddress, stack.IPv4ProtocolNumber)
	} else {
		pkt.TransitBytes = uint32(tl)
		sent = out.nic.WriteToNextHop(w, gw, pkt)
	}
	if sent {
		st.Forwarded++
		st.ForwardedBytes += uint64(tl)
		out.stats[w.ID()].PacketsSent++
	}
}

// egress remembers, for one batch, where the last route entry with a
// single next hop leads, so the packets that share it (entries are
// interned, so most of a batch does) skip the entry's checks and the
// endpoint table. A zero egress remembers nothing.
type egress struct {
	fib *stack.FIBEntry
	nh  *stack.NextHop
	out *Endpoint
}

// dropByRouteType handles a non-unicast route: blackhole drops silently,
// unreachable and prohibit answer with ICMP (RFC 1812 §5.2.7.1; codes 1 and
// 13 as Linux uses for `ip route add unreachable|prohibit`).
func (e *Endpoint) dropByRouteType(w *stack.Worker, st *stack.IPStats, pkt *stack.PacketBuffer, t stack.RouteType) {
	switch t {
	case stack.RouteBlackhole:
		st.Drop(stack.DropRouteBlackhole)
	case stack.RouteUnreachable:
		st.Drop(stack.DropRouteUnreachable)
		e.sendICMPError(w, pkt, header.ICMPv4DstUnreachable, header.ICMPv4HostUnreachable, 0)
	case stack.RouteProhibit:
		st.Drop(stack.DropRouteProhibit)
		e.sendICMPError(w, pkt, header.ICMPv4DstUnreachable, header.ICMPv4AdminProhibited, 0)
	default:
		st.Drop(stack.DropErrors)
	}
	pkt.Release()
}

// addrWord is the IPv4 address in b (4 bytes) as a big-endian word.
func addrWord(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// martianSourceWord reports whether a (a big-endian word) must never be
// the source of a forwarded packet, and the reason to count.
func martianSourceWord(a uint32) (stack.DropReason, bool) {
	switch {
	case a>>24 == 0:
		return stack.DropInitializingSource, true
	case a>>24 == 127, a>>24 >= 224: // loopback, multicast, class E, broadcast
		return stack.DropInvalidSource, true
	case a>>16 == 169<<8|254:
		return stack.DropLinkLocalSource, true
	}
	return 0, false
}

// martianDestinationWord is martianSourceWord for destinations; multicast
// and broadcast destinations were filtered before forwarding.
func martianDestinationWord(a uint32) (stack.DropReason, bool) {
	switch {
	case a>>24 == 0, a>>24 == 127, a>>24 >= 240:
		return stack.DropInvalidDestination, true
	case a>>16 == 169<<8|254:
		return stack.DropLinkLocalDestination, true
	}
	return 0, false
}

// martianSource reports whether a must never be the source of a forwarded
// packet, and the reason to count.
func martianSource(a [4]byte) (stack.DropReason, bool) {
	return martianSourceWord(binary.BigEndian.Uint32(a[:]))
}

// isSubnetBroadcast reports whether a is the broadcast address of one of
// nic's subnets (prefixes shorter than /31 have one, RFC 3021).
func isSubnetBroadcast(nic *stack.NIC, a [4]byte) bool {
	// Every broadcast address of a /30 or shorter prefix is odd: the
	// cheap test keeps the prefix walk off most packets.
	if a[3]&1 == 0 {
		return false
	}
	p, ok := nic.OnLinkPrefix(netip.AddrFrom4(a))
	if !ok || p.Bits() >= 31 {
		return false
	}
	host := ^uint32(0) >> p.Bits()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	return v&host == host
}

// flowHash is a cheap hash of the addresses and protocol for ECMP when the
// link supplied none; ports are left out so fragments of a flow stay
// together.
func flowHash(h header.IPv4) uint32 {
	s, d := h.SourceAddress(), h.DestinationAddress()
	x := uint32(s[0])<<24 | uint32(s[1])<<16 | uint32(s[2])<<8 | uint32(s[3])
	y := uint32(d[0])<<24 | uint32(d[1])<<16 | uint32(d[2])<<8 | uint32(d[3])
	v := (x*0x9e3779b1 ^ y) * 0x85ebca6b
	v ^= uint32(h.Protocol()) * 0xc2b2ae35
	return v ^ v>>16
}
