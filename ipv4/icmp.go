package ipv4

import (
	"net/netip"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/stack"
)

// icmpErrorMaxSize bounds an ICMP error datagram: RFC 1812 §4.3.2.3 quotes
// as much of the offending packet as fits in 576 bytes.
const icmpErrorMaxSize = 576

// icmpErrorTOS is the TOS of ICMP errors: precedence 6, Internetwork
// Control (RFC 1812 §4.3.2.5), as Linux's IPTOS_PREC_INTERNETCONTROL.
const icmpErrorTOS = 0xc0

// icmpErrorAllowed applies RFC 1812 §4.3.2.7: no error about an ICMP
// error, a non-initial fragment, a packet sent to a broadcast or multicast
// address (IP or link layer), or from an address that is not one host
// (0/8, 127/8, multicast, broadcast, or the subnet broadcast of any NIC).
// Nor about a packet the router sent itself (NICID 0, or a source that is
// one of its addresses): an error about its own echo reply whose next hop
// did not answer would go to its own address, ask ARP for it, and fail
// again.
func (e *Endpoint) icmpErrorAllowed(pkt *stack.PacketBuffer, h header.IPv4) bool {
	if pkt.PktType != stack.PacketHost || pkt.NICID == 0 {
		return false
	}
	src, dst := h.SourceAddress(), h.DestinationAddress()
	if dst[0] >= 224 || src[0] >= 224 || src[0] == 0 || src[0] == 127 {
		return false
	}
	if h.FragmentOffset() != 0 {
		return false
	}
	if e.s.IsLocalAddress4(src) || e.p.isBroadcastOnAnyNIC(src) {
		return false
	}
	if h.Protocol() == header.IPv4ProtocolICMP {
		p := h[h.HeaderLength():]
		if len(p) < 1 || header.ICMPv4Type(p[0]).IsError() {
			return false
		}
	}
	return true
}

// routeOut finds where a packet the router originates for dst leaves: the
// egress endpoint and the neighbour to send it to.
func (e *Endpoint) routeOut(dst [4]byte) (*Endpoint, netip.Addr, bool) {
	fib := e.s.Routes().Lookup4(dst)
	nh := fib.NextHop(uint32(dst[3]))
	if nh == nil {
		return nil, netip.Addr{}, false
	}
	out := e.p.endpoint(nh.NIC)
	if out == nil || !out.enabled.Load() || !out.nic.Enabled() {
		return nil, netip.Addr{}, false
	}
	gw := nh.Gateway
	if !gw.IsValid() {
		gw = netip.AddrFrom4(dst)
	}
	return out, gw, true
}

// sendICMPError sends an ICMP error of type t and code c about pkt (whose
// data is a validated IPv4 packet) to its source; rest is the message's
// bytes 4–7 (next-hop MTU, pointer). The caller keeps pkt. Errors are
// rate limited except Fragmentation Needed. The source address is the
// router's address on the NIC the error leaves by (RFC 1812 §4.3.2.4).
func (e *Endpoint) sendICMPError(w *stack.Worker, pkt *stack.PacketBuffer, t header.ICMPv4Type, c header.ICMPv4Code, rest uint32) {
	ic := &e.icmp[w.ID()]
	h := header.IPv4(pkt.Data())
	if !e.icmpErrorAllowed(pkt, h) {
		ic.Suppressed++
		return
	}
	if !(t == header.ICMPv4DstUnreachable && c == header.ICMPv4FragmentationNeeded) && !e.p.limiter.Allow(w.Now()) {
		ic.RateLimited++
		return
	}
	dst := h.SourceAddress()
	out, gw, ok := e.routeOut(dst)
	if !ok {
		ic.Suppressed++
		return
	}
	from := out.nic.PrimaryAddress(netip.AddrFrom4(dst))
	if !from.IsValid() {
		from = e.nic.PrimaryAddress(netip.AddrFrom4(dst))
	}
	if !from.Is4() {
		ic.Suppressed++
		return
	}
	q := min(len(h), icmpErrorMaxSize-header.IPv4MinimumSize-header.ICMPv4MinimumSize)
	n := header.IPv4MinimumSize + header.ICMPv4MinimumSize + q
	f := e.s.Frames().Get()
	f.SetLen(n)
	b := f.Data()
	header.EncodeIPv4(b, header.IPv4Fields{
		TOS:         icmpErrorTOS,
		TotalLength: uint16(n),
		ID:          e.p.nextID(),
		TTL:         e.p.opts.DefaultTTL,
		Protocol:    header.IPv4ProtocolICMP,
		Src:         from.As4(),
		Dst:         dst,
	})
	copy(b[header.IPv4MinimumSize+header.ICMPv4MinimumSize:], h[:q])
	header.EncodeICMPv4(b[header.IPv4MinimumSize:], t, c, rest)
	f.NetworkProtocol = stack.IPv4ProtocolNumber
	ic.Sent[typeSlot(t)]++
	if out.nic.WriteToNextHop(w, gw, f) {
		out.stats[w.ID()].PacketsSent++
	}
}

// deliver handles a packet addressed to one of the router's addresses:
// ICMP echo is answered, other ICMP is counted, and any other protocol gets
// Destination Unreachable (port for UDP and TCP, protocol otherwise).
func (e *Endpoint) deliver(w *stack.Worker, st *stack.IPStats, pkt *stack.PacketBuffer, h header.IPv4) {
	defer pkt.Release()
	if h.IsFragment() {
		// The router terminates no protocol that needs reassembly; a
		// fragmented datagram for it is refused by policy.
		st.Drop(stack.DropPolicy)
		return
	}
	switch h.Protocol() {
	case header.IPv4ProtocolICMP:
		ic := &e.icmp[w.ID()]
		m := h.Payload()
		if header.ValidateICMPv4(m) != nil || !header.ICMPv4(m).IsChecksumValid() {
			ic.InErrors++
			st.Drop(stack.DropMalformed)
			return
		}
		t := header.ICMPv4(m).Type()
		ic.Received[typeSlot(t)]++
		st.PacketsDelivered++
		if t == header.ICMPv4Echo && header.ICMPv4(m).Code() == 0 {
			e.echoReply(w, h, m)
		}
	case header.IPv4ProtocolUDP, header.IPv4ProtocolTCP:
		st.Drop(stack.DropUnknownProtocol)
		e.sendICMPError(w, pkt, header.ICMPv4DstUnreachable, header.ICMPv4PortUnreachable, 0)
	default:
		st.Drop(stack.DropUnknownProtocol)
		e.sendICMPError(w, pkt, header.ICMPv4DstUnreachable, header.ICMPv4ProtoUnreachable, 0)
	}
}

// echoReply answers an Echo Request (RFC 792, RFC 1122 §3.2.2.6) from the
// address it was sent to, with the same identifier, sequence and data.
// Options of the request are not reflected.
func (e *Endpoint) echoReply(w *stack.Worker, h header.IPv4, m header.ICMPv4) {
	dst := h.SourceAddress()
	if _, bad := martianSource(dst); bad {
		return
	}
	out, gw, ok := e.routeOut(dst)
	if !ok {
		e.icmp[w.ID()].Suppressed++
		return
	}
	n := header.IPv4MinimumSize + len(m)
	f := e.s.Frames().Get()
	if !f.SetLen(n) {
		f.Release()
		return
	}
	b := f.Data()
	header.EncodeIPv4(b, header.IPv4Fields{
		TOS:         h.TOS(),
		TotalLength: uint16(n),
		ID:          e.p.nextID(),
		TTL:         e.p.opts.DefaultTTL,
		Protocol:    header.IPv4ProtocolICMP,
		Src:         h.DestinationAddress(),
		Dst:         dst,
	})
	r := header.ICMPv4(b[header.IPv4MinimumSize:])
	copy(r, m)
	r.SetType(header.ICMPv4EchoReply)
	r.UpdateChecksum()
	f.NetworkProtocol = stack.IPv4ProtocolNumber
	e.icmp[w.ID()].Sent[header.ICMPv4EchoReply]++
	if out.nic.WriteToNextHop(w, gw, f) {
		out.stats[w.ID()].PacketsSent++
	}
}
