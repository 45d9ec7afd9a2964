package ipv6

import (
	"encoding/binary"
	"net/netip"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/stack"
)

// forward routes a transit packet (RFC 8200, RFC 4443): checks in the
// order of Linux's ip6_forward, then the hop-limit decrement and the
// egress NIC's TX batch. It takes ownership of pkt. eg is the batch's
// memo of where route entries lead.
func (e *Endpoint) forward(w *stack.Worker, st *stack.IPStats, pkt *stack.PacketBuffer, h header.IPv6, eg *egress) {
	// A unicast packet in a link-layer multicast or broadcast frame is not
	// forwarded (Linux: pkt_type != PACKET_HOST; RFC 1812 §5.3.4 for v4).
	if pkt.PktType != stack.PacketHost {
		e.drop(st, pkt, stack.DropBroadcastFrame)
		return
	}
	if isUnspecified(h[8:24]) {
		e.drop(st, pkt, stack.DropInitializingSource)
		return
	}
	if isLinkLocal(h[8:24]) {
		// The source cannot be reached beyond its link (RFC 4443 §3.1
		// code 2, RFC 4007 §9).
		e.sendError(w, pkt, header.ICMPv6DstUnreachable, header.ICMPv6BeyondScope, 0)
		e.drop(st, pkt, stack.DropLinkLocalSource)
		return
	}
	if h.NextHeader() == header.IPv6ExtHopByHop && !e.hopByHop(w, st, pkt, h, false) {
		return
	}
	fe := e.proto.s.Routes().Lookup6(h.DestinationAddress())
	var nh *stack.NextHop
	var out *Endpoint
	if fe != nil && fe == eg.fib {
		// Entries are interned: a batch's packets mostly share a few.
		nh, out = eg.nh, eg.out
	} else {
		if fe == nil {
			e.sendError(w, pkt, header.ICMPv6DstUnreachable, header.ICMPv6NoRoute, 0)
			e.drop(st, pkt, stack.DropUnrouteable)
			return
		}
		switch fe.Type {
		case stack.RouteUnicast:
		case stack.RouteBlackhole:
			e.drop(st, pkt, stack.DropRouteBlackhole)
			return
		case stack.RouteUnreachable:
			e.sendError(w, pkt, header.ICMPv6DstUnreachable, header.ICMPv6NoRoute, 0)
			e.drop(st, pkt, stack.DropRouteUnreachable)
			return
		default: // RouteProhibit
			e.sendError(w, pkt, header.ICMPv6DstUnreachable, header.ICMPv6AdminProhibited, 0)
			e.drop(st, pkt, stack.DropRouteProhibit)
			return
		}
		var hash uint32
		if len(fe.NextHops) > 1 {
			hash = pkt.Hash
			if hash == 0 {
				hash = flowHash(h)
			}
		}
		nh = fe.NextHop(hash)
		if nh == nil {
			e.drop(st, pkt, stack.DropUnknownOutputEndpoint)
			return
		}
		out = e.proto.eps[nh.NIC].Load()
		if len(fe.NextHops) == 1 {
			*eg = egress{fib: fe, nh: nh, out: out}
		}
	}
	if out == nil || !out.enabled.Load() || !out.nic.Enabled() {
		e.drop(st, pkt, stack.DropUnknownOutputEndpoint)
		return
	}
	if h.HopLimit() <= 1 {
		e.sendError(w, pkt, header.ICMPv6TimeExceeded, header.ICMPv6HopLimitExceeded, 0)
		e.drop(st, pkt, stack.DropExhaustedTTL)
		return
	}
	size := uint32(len(h))
	if pkt.GSO.Type != stack.GSONone {
		// A super-packet leaves as segments, cut by a link that takes
		// GSO or by the stack at egress (NIC.WriteEthernet); its largest
		// segment is what must fit the MTU. One whose headers contradict
		// its GSO metadata cannot be cut at all.
		seg, ok := stack.GSOSegmentLen(pkt)
		if !ok {
			e.drop(st, pkt, stack.DropGSOUnsupported)
			return
		}
		size = uint32(seg)
	}
	if mtu := out.mtu.Load(); size > mtu {
		// Routers never fragment IPv6 (RFC 8200 §5); the source learns
		// the egress MTU (RFC 4443 §3.2, RFC 8201).
		e.sendError(w, pkt, header.ICMPv6PacketTooBig, 0, mtu)
		e.drop(st, pkt, stack.DropPacketTooBig)
		return
	}
	h.DecrementHopLimit()
	next := nh.Gateway
	if !next.IsValid() {
		next = h.DstAddr()
	}
	// Forwarded (here, on the ingress endpoint) and PacketsSent (on the
	// egress one) count the packet only when it goes to the link now; one
	// that waits for its next hop is counted by HandleResolved when it
	// leaves, or as a drop if it never does.
	n := len(h)
	pkt.TransitBytes = uint32(n)
	if out.nic.WriteToNextHop(w, next, pkt) {
		st.Forwarded++
		st.ForwardedBytes += uint64(n)
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

// drop counts pkt under reason r and releases it.
func (e *Endpoint) drop(st *stack.IPStats, pkt *stack.PacketBuffer, r stack.DropReason) {
	st.Drop(r)
	pkt.Release()
}

// flowHash hashes the flow label and addresses (RFC 6438) for ECMP, when
// the link gave no hash.
func flowHash(h header.IPv6) uint32 {
	x := uint64(binary.BigEndian.Uint32(h[0:4])&0xfffff) | uint64(h[6])<<32
	for i := 8; i < 40; i += 8 {
		x ^= binary.LittleEndian.Uint64(h[i:])
		x *= 0x9e3779b97f4a7c15
	}
	return uint32(x>>32) ^ uint32(x)
}

// hopByHop processes the Hop-by-Hop Options header that every node on the
// path must examine (RFC 8200 §4.3). It reports whether pkt goes on; if
// not, pkt was counted and released.
func (e *Endpoint) hopByHop(w *stack.Worker, st *stack.IPStats, pkt *stack.PacketBuffer, h header.IPv6, mcast bool) bool {
	it := header.NewIPv6ExtHdrIterator(h)
	hdr, ok := it.Next()
	if !ok {
		// The header runs past the packet: its length field lies.
		e.sendError(w, pkt, header.ICMPv6ParamProblem, header.ICMPv6ErroneousHeaderField, uint32(it.ErrPointer()))
		e.drop(st, pkt, stack.DropExtensionHeaderProblem)
		return false
	}
	return e.options(w, st, pkt, h, hdr, mcast)
}

// options walks the TLV options of a Hop-by-Hop or Destination Options
// header and honours the action bits of unrecognised ones (RFC 8200 §4.2).
// It reports whether pkt goes on; if not, pkt was counted and released.
func (e *Endpoint) options(w *stack.Worker, st *stack.IPStats, pkt *stack.PacketBuffer, h header.IPv6, hdr header.IPv6ExtHdr, mcast bool) bool {
	oi := hdr.OptionIterator(h)
	for o, ok := oi.Next(); ok; o, ok = oi.Next() {
		switch o.Type {
		case header.IPv6OptionPad1, header.IPv6OptionPadN:
			continue
		case header.IPv6OptionRouterAlert:
			if hdr.Type == header.IPv6ExtHopByHop {
				st.OptionRouterAlertReceived++
				continue
			}
		}
		// Everything else is unrecognised, Jumbo Payload included: the
		// router does not do jumbograms, and RFC 2675 §3 has such nodes
		// treat the option as unknown (its action bits say: send
		// Parameter Problem unless multicast).
		st.OptionUnknownReceived++
		switch o.Action() {
		case header.IPv6OptionActionSkip:
			continue
		case header.IPv6OptionActionDiscard:
		case header.IPv6OptionActionDiscardICMP:
			e.sendError(w, pkt, header.ICMPv6ParamProblem, header.ICMPv6UnrecognizedOption, uint32(o.Offset))
		case header.IPv6OptionActionDiscardICMPNotMulticast:
			if !mcast {
				e.sendError(w, pkt, header.ICMPv6ParamProblem, header.ICMPv6UnrecognizedOption, uint32(o.Offset))
			}
		}
		e.drop(st, pkt, stack.DropExtensionHeaderProblem)
		return false
	}
	if oi.Err() != nil {
		e.sendError(w, pkt, header.ICMPv6ParamProblem, header.ICMPv6ErroneousHeaderField, uint32(oi.ErrOffset()))
		e.drop(st, pkt, stack.DropExtensionHeaderProblem)
		return false
	}
	return true
}

// routeOut picks the NIC and next hop for a packet the router originates
// to dst: link-local and multicast destinations leave through the NIC the
// conversation came in on (ingress, may be nil), others follow the route
// table. ok is false when there is no way out.
func (e *Endpoint) routeOut(dst [16]byte, ingress *Endpoint) (out *Endpoint, next netip.Addr, ok bool) {
	if dst[0] == 0xff || isLinkLocal(dst[:]) {
		if ingress == nil {
			return nil, netip.Addr{}, false
		}
		return ingress, netip.AddrFrom16(dst), true
	}
	nh := e.proto.s.Routes().Lookup6(dst).NextHop(0)
	if nh == nil {
		return nil, netip.Addr{}, false
	}
	out = e.proto.eps[nh.NIC].Load()
	if out == nil || !out.enabled.Load() || !out.nic.Enabled() {
		return nil, netip.Addr{}, false
	}
	next = nh.Gateway
	if !next.IsValid() {
		next = netip.AddrFrom16(dst)
	}
	return out, next, true
}

// output sends a packet the router made (data at its IPv6 header) from
// out's NIC to next, and counts it sent when it goes to the link now (one
// that waits for resolution is counted by HandleResolved). It takes
// ownership of pkt.
func (out *Endpoint) output(w *stack.Worker, next netip.Addr, pkt *stack.PacketBuffer) {
	pkt.NetworkProtocol = stack.IPv6ProtocolNumber
	if next.IsMulticast() {
		out.stats[w.ID()].PacketsSent++
		out.nic.WriteEthernet(w, pkt, ndpMulticastMAC(next.As16()), stack.IPv6ProtocolNumber)
		return
	}
	if out.nic.WriteToNextHop(w, next, pkt) {
		out.stats[w.ID()].PacketsSent++
	}
}
