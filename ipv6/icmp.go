package ipv6

import (
	"errors"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/ndp"
	"github.com/nexthop-router/nexthop/stack"
)

func ndpMulticastMAC(a [16]byte) stack.LinkAddress { return ndp.MulticastLinkAddress(a) }

// icmpErrorHeader is the IPv6 header plus the 8-byte ICMPv6 header of an
// error; the quote of the invoking packet fills the rest of the minimum
// MTU (RFC 4443 §2.4(c)).
const (
	icmpErrorHeader = header.IPv6MinimumSize + header.ICMPv6MinimumSize
	maxQuote        = header.IPv6MinimumMTU - icmpErrorHeader
)

// sendError sends an ICMPv6 error about pkt (data at its IPv6 header, not
// yet modified, except for resolution failures) to its source, following
// RFC 4443 §2.4: never about an ICMPv6 error or a Redirect, never to an
// unspecified, multicast or own source, never for a multicast destination
// or a link-layer multicast frame except Packet Too Big and Parameter
// Problem code 2; rate limited except Packet Too Big. The source is the
// router's address on the NIC the error leaves through. pkt stays the
// caller's.
func (e *Endpoint) sendError(w *stack.Worker, pkt *stack.PacketBuffer, typ header.ICMPv6Type, code header.ICMPv6Code, param uint32) {
	ist := &e.icmp[w.ID()]
	h := header.IPv6(pkt.Data())
	src := h.SourceAddress()
	if src[0] == 0xff || isUnspecified(src[:]) || isLoopback(src[:]) || e.proto.s.IsLocalAddress6(src) {
		ist.Suppressed++
		return
	}
	exempt := typ == header.ICMPv6PacketTooBig ||
		(typ == header.ICMPv6ParamProblem && code == header.ICMPv6UnrecognizedOption)
	if (h[24] == 0xff || pkt.PktType != stack.PacketHost) && !exempt {
		ist.Suppressed++
		return
	}
	if isErrorOrRedirect(h) {
		ist.Suppressed++
		return
	}
	if typ != header.ICMPv6PacketTooBig && !e.proto.errLimit.Allow(w.Now()) {
		ist.RateLimited++
		return
	}
	var ingress *Endpoint
	if pkt.NICID > 0 && pkt.NICID < stack.MaxNICs {
		ingress = e.proto.eps[pkt.NICID].Load()
	}
	out, next, ok := e.routeOut(src, ingress)
	if !ok {
		ist.NoRoute++
		return
	}
	// The egress NIC's address on the next hop's subnet; but a global
	// sender behind a link-local gateway must get a global source, or
	// the error dies at the next router (RFC 4007 scope rules).
	near := next
	if next.IsLinkLocalUnicast() && !isLinkLocal(src[:]) {
		near = h.SrcAddr()
	}
	from := out.nic.PrimaryAddress(near)
	if !from.IsValid() {
		ist.NoRoute++
		return
	}
	quote := min(len(h), maxQuote)
	reply := e.proto.s.Frames().Get()
	reply.SetLen(icmpErrorHeader + quote)
	b := reply.Data()
	header.EncodeIPv6(b, header.IPv6Fields{
		PayloadLength: uint16(header.ICMPv6MinimumSize + quote),
		NextHeader:    header.IPv6ProtocolICMPv6,
		HopLimit:      e.proto.hopLimit,
		Src:           from.As16(),
		Dst:           src,
	})
	copy(b[icmpErrorHeader:], h[:quote])
	header.EncodeICMPv6(b[header.IPv6MinimumSize:], typ, code, param, from.As16(), src)
	out.icmp[w.ID()].Sent[KindOf(typ)]++
	out.output(w, next, reply)
}

// isErrorOrRedirect reports whether the packet is an ICMPv6 error or
// Redirect (RFC 4443 §2.4(e.1-2)). A chain that cannot be walked is not
// known to be one, and is answered, as Linux does.
func isErrorOrRedirect(h header.IPv6) bool {
	var proto uint8
	off := header.IPv6MinimumSize
	if h.NextHeader() == header.IPv6ProtocolICMPv6 {
		proto = header.IPv6ProtocolICMPv6
	} else {
		walk, err := header.WalkIPv6Extensions(h)
		if err != nil || walk.NonFirstFragment {
			return false
		}
		proto, off = walk.Protocol, walk.Offset
	}
	if proto != header.IPv6ProtocolICMPv6 || off >= len(h) {
		return false
	}
	t := header.ICMPv6Type(h[off])
	return t.IsError() || t == header.ICMPv6Redirect
}

// deliver processes a packet for the router itself: the whole extension
// header chain, then the upper layer. It takes ownership of pkt.
func (e *Endpoint) deliver(w *stack.Worker, st *stack.IPStats, pkt *stack.PacketBuffer, h header.IPv6, mcast bool) {
	walk, err := header.WalkIPv6Extensions(h)
	if err != nil {
		code := header.ICMPv6ErroneousHeaderField
		if errors.Is(err, header.ErrExtHeaderOrder) {
			// A Next Header field naming Hop-by-Hop after the first
			// header (RFC 8200 §4: code 1, pointing at that field).
			code = header.ICMPv6UnrecognizedNextHeader
		}
		e.sendError(w, pkt, header.ICMPv6ParamProblem, code, uint32(walk.ErrPointer))
		e.drop(st, pkt, stack.DropExtensionHeaderProblem)
		return
	}
	for i := range walk.N {
		hdr := walk.Headers[i]
		switch hdr.Type {
		case header.IPv6ExtHopByHop, header.IPv6ExtDestination:
			if !e.options(w, st, pkt, h, hdr, mcast) {
				return
			}
		case header.IPv6ExtRouting:
			// No routing type is implemented; one with Segments Left
			// non-zero is an error at its type field (RFC 8200 §4.4).
			if hdr.Length >= 4 && h[hdr.Offset+3] != 0 {
				e.sendError(w, pkt, header.ICMPv6ParamProblem, header.ICMPv6ErroneousHeaderField, uint32(hdr.Offset+2))
				e.drop(st, pkt, stack.DropExtensionHeaderProblem)
				return
			}
		case header.IPv6ExtFragment:
			f := hdr.Fragment(h)
			if f.FragmentOffset() != 0 || f.More() {
				// No reassembly for local delivery (see the package doc).
				e.drop(st, pkt, stack.DropUnknownProtocol)
				return
			}
		}
	}
	switch walk.Protocol {
	case header.IPv6ProtocolICMPv6:
		e.receiveICMP(w, st, pkt, h, walk.Offset, mcast)
	case header.IPv6NoNextHeader:
		st.PacketsDelivered++
		pkt.Release()
	case header.IPv6ProtocolUDP, header.IPv6ProtocolTCP:
		// No socket listens: Port Unreachable, as IPv4 answers and as
		// Linux does for UDP (RFC 4443 §3.1 code 4), so traceroute -U
		// and -T end alike for both versions.
		if !mcast {
			e.sendError(w, pkt, header.ICMPv6DstUnreachable, header.ICMPv6PortUnreachable, 0)
		}
		e.drop(st, pkt, stack.DropUnknownProtocol)
	default:
		// Point at the Next Header field that names the protocol.
		ptr := 6
		if walk.N > 0 {
			ptr = walk.Headers[walk.N-1].Offset
		}
		e.sendError(w, pkt, header.ICMPv6ParamProblem, header.ICMPv6UnrecognizedNextHeader, uint32(ptr))
		e.drop(st, pkt, stack.DropUnknownProtocol)
	}
}

// receiveICMP checks an ICMPv6 message for the router and answers it:
// echo requests get a reply, NDP goes to ndp, everything else is
// consumed. It takes ownership of pkt.
func (e *Endpoint) receiveICMP(w *stack.Worker, st *stack.IPStats, pkt *stack.PacketBuffer, h header.IPv6, off int, mcast bool) {
	ist := &e.icmp[w.ID()]
	m := header.ICMPv6(h[off:])
	if header.ValidateICMPv6(m) != nil {
		ist.Malformed++
		e.drop(st, pkt, stack.DropMalformed)
		return
	}
	if !pkt.RXChecksumValidated && !m.IsChecksumValid(h.SourceAddress(), h.DestinationAddress()) {
		ist.ChecksumErrors++
		e.drop(st, pkt, stack.DropMalformed)
		return
	}
	t := m.Type()
	ist.Received[KindOf(t)]++
	switch t {
	case header.ICMPv6EchoRequest:
		e.echoReply(w, pkt, h, m)
	case header.ICMPv6RouterSolicit, header.ICMPv6RouterAdvert, header.ICMPv6NeighborSolicit,
		header.ICMPv6NeighborAdvert, header.ICMPv6Redirect:
		if !e.ndp.HandleMessage(w, pkt, h, m) {
			e.drop(st, pkt, stack.DropMalformed)
			return
		}
	}
	st.PacketsDelivered++
	pkt.Release()
}

// echoReply answers an echo request (RFC 4443 §4.2) from the address it
// was sent to, or for a multicast request from the NIC's address nearest
// the requester. pkt stays the caller's.
func (e *Endpoint) echoReply(w *stack.Worker, pkt *stack.PacketBuffer, h header.IPv6, m header.ICMPv6) {
	src := h.SourceAddress()
	if isUnspecified(src[:]) {
		return
	}
	out, next, ok := e.routeOut(src, e)
	if !ok {
		e.icmp[w.ID()].NoRoute++
		return
	}
	from := h.DestinationAddress()
	if from[0] == 0xff {
		a := e.nic.PrimaryAddress(h.SrcAddr())
		if !a.IsValid() {
			e.icmp[w.ID()].NoRoute++
			return
		}
		from = a.As16()
	}
	reply := e.proto.s.Frames().Get()
	reply.SetLen(header.IPv6MinimumSize + len(m))
	b := reply.Data()
	header.EncodeIPv6(b, header.IPv6Fields{
		TrafficClass:  h.TrafficClass(),
		PayloadLength: uint16(len(m)),
		NextHeader:    header.IPv6ProtocolICMPv6,
		HopLimit:      e.proto.hopLimit,
		Src:           from,
		Dst:           src,
	})
	r := header.ICMPv6(b[header.IPv6MinimumSize:])
	copy(r, m)
	r.SetType(header.ICMPv6EchoReply)
	r.SetCode(0)
	r.UpdateChecksum(from, src)
	out.icmp[w.ID()].Sent[KindEchoReply]++
	out.output(w, next, reply)
}
