package ndp

import (
	"errors"
	"net/netip"
	"sync"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/stack"
)

// HopLimit is the Hop Limit every NDP message is sent with and must arrive
// with (RFC 4861 §6.1, §7.1): a message that crossed a router cannot be
// from a neighbour.
const HopLimit = 255

// Stats are one worker's NDP counters of one NIC. They detail what the
// ipv6 endpoint counts as delivered (valid NDP) or as one DropMalformed
// (invalid NDP); the Invalid* counters say which check failed.
type Stats struct {
	// Messages received, by type, that passed validation.
	RouterSolicitsReceived   uint64
	RouterAdvertsReceived    uint64
	NeighborSolicitsReceived uint64
	NeighborAdvertsReceived  uint64
	// RedirectsReceived are valid Redirects, ignored: a router does not
	// change its routes on a Redirect (RFC 4861 §8.3 is for hosts).
	RedirectsReceived uint64

	// Messages sent, by type.
	RouterAdvertsSent    uint64
	NeighborSolicitsSent uint64
	NeighborAdvertsSent  uint64
	// UnsolicitedAdvertsSent counts the Neighbor Advertisements of
	// Announce (also counted in NeighborAdvertsSent), like ARP's
	// GratuitousSent.
	UnsolicitedAdvertsSent uint64

	// InvalidHopLimit counts messages discarded for a Hop Limit other
	// than 255; InvalidCode for a code other than 0; Invalid for any other
	// RFC 4861 §6.1/§7.1 check (length, options, address rules).
	InvalidHopLimit uint64
	InvalidCode     uint64
	Invalid         uint64

	// TargetNotLocal counts valid solicitations for an address this NIC
	// does not have (no answer; the router does no proxy NDP).
	TargetNotLocal uint64
	// DuplicateAddress counts advertisements or DAD probes from another
	// node for one of the router's own addresses: a configuration error
	// on the link worth an alert.
	DuplicateAddress uint64
	// SendFailed counts messages that could not be sent because the NIC
	// has no usable source address.
	SendFailed uint64

	_ [64]byte
}

// Add adds o's counters into s.
func (s *Stats) Add(o *Stats) {
	s.RouterSolicitsReceived += o.RouterSolicitsReceived
	s.RouterAdvertsReceived += o.RouterAdvertsReceived
	s.NeighborSolicitsReceived += o.NeighborSolicitsReceived
	s.NeighborAdvertsReceived += o.NeighborAdvertsReceived
	s.RedirectsReceived += o.RedirectsReceived
	s.RouterAdvertsSent += o.RouterAdvertsSent
	s.NeighborSolicitsSent += o.NeighborSolicitsSent
	s.NeighborAdvertsSent += o.NeighborAdvertsSent
	s.UnsolicitedAdvertsSent += o.UnsolicitedAdvertsSent
	s.InvalidHopLimit += o.InvalidHopLimit
	s.InvalidCode += o.InvalidCode
	s.Invalid += o.Invalid
	s.TargetNotLocal += o.TargetNotLocal
	s.DuplicateAddress += o.DuplicateAddress
	s.SendFailed += o.SendFailed
}

// Sent is the number of NDP packets sent.
func (s *Stats) Sent() uint64 {
	return s.RouterAdvertsSent + s.NeighborSolicitsSent + s.NeighborAdvertsSent
}

// Endpoint is NDP on one NIC. The data path calls HandleMessage on the
// worker that received the message; the neighbour cache calls
// LinkAddressRequest; the control path calls Tick for Router
// Advertisements.
type Endpoint struct {
	nic   *stack.NIC
	stats [stack.MaxWorkers]Stats

	// ra is the Router Advertisement state; its mutex is taken only by
	// Router Solicitations, Tick and configuration, never by forwarding.
	ra raState
}

// NewEndpoint creates NDP for nic with Router Advertisement configuration
// ra (the zero RAConfig: no advertisements, the RFC 4861 default for an
// interface until configured, §6.2.1 AdvSendAdvertisements=FALSE).
func NewEndpoint(nic *stack.NIC, ra RAConfig) *Endpoint {
	e := &Endpoint{nic: nic}
	e.ra.init(nic, ra)
	return e
}

// NIC is the endpoint's NIC.
func (e *Endpoint) NIC() *stack.NIC { return e.nic }

// Stats sums the per-worker counters.
func (e *Endpoint) Stats() Stats {
	var s Stats
	for i := range e.stats {
		s.Add(&e.stats[i])
	}
	return s
}

// ErrNoSourceAddress is returned when the NIC has no IPv6 address to send
// a solicitation from.
var ErrNoSourceAddress = errors.New("ndp: NIC has no IPv6 address")

// HandleMessage processes an NDP message (ICMPv6 types 133-137) that ipv6
// received on the endpoint's NIC. ip is the packet's IPv6 header view
// (trimmed to its Payload Length) and m the ICMPv6 message, whose checksum
// ipv6 has verified. It reports whether the message was valid (ipv6 counts
// it delivered) or was discarded (ipv6 counts one DropMalformed); either
// way pkt stays the caller's.
func (e *Endpoint) HandleMessage(w *stack.Worker, pkt *stack.PacketBuffer, ip header.IPv6, m header.ICMPv6) bool {
	st := &e.stats[w.ID()]
	if ip.HopLimit() != HopLimit {
		st.InvalidHopLimit++
		return false
	}
	if m.Code() != 0 {
		st.InvalidCode++
		return false
	}
	if header.ValidateNDP(m) != nil {
		st.Invalid++
		return false
	}
	src, dst := ip.SourceAddress(), ip.DestinationAddress()
	body := m.MessageBody()
	switch m.Type() {
	case header.ICMPv6NeighborSolicit:
		return e.handleNS(w, st, src, dst, header.NDPNeighborSolicit(body))
	case header.ICMPv6NeighborAdvert:
		return e.handleNA(w, st, dst, header.NDPNeighborAdvert(body))
	case header.ICMPv6RouterSolicit:
		return e.handleRS(w, st, src, header.NDPRouterSolicit(body))
	case header.ICMPv6RouterAdvert:
		if !isLinkLocal(src) {
			st.Invalid++
			return false
		}
		st.RouterAdvertsReceived++
		return true
	case header.ICMPv6Redirect:
		if !isLinkLocal(src) {
			st.Invalid++
			return false
		}
		st.RedirectsReceived++
		return true
	}
	st.Invalid++
	return false
}

// linkLayerOption returns the first Source (or Target) Link-Layer Address
// option of an options area that ValidateNDP accepted.
func linkLayerOption(opts []byte, typ uint8) (stack.LinkAddress, bool) {
	it := header.NewNDPOptionIterator(opts)
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		if o.Type != typ {
			continue
		}
		if mac, ok := o.LinkLayerAddress(); ok {
			return mac, true
		}
	}
	return stack.LinkAddress{}, false
}

// handleNS follows RFC 4861 §7.1.1 (validation) and §7.2.3-§7.2.4 (answer).
func (e *Endpoint) handleNS(w *stack.Worker, st *Stats, src, dst [16]byte, ns header.NDPNeighborSolicit) bool {
	target := ns.TargetAddress()
	if isMulticast(target) {
		st.Invalid++
		return false
	}
	slla, hasSLLA := linkLayerOption(ns.Options(), header.NDPOptionSourceLinkLayerAddress)
	dad := isUnspecified(src)
	if dad && (!IsSolicitedNode(dst) || hasSLLA) {
		st.Invalid++
		return false
	}
	st.NeighborSolicitsReceived++
	targetAddr := netip.AddrFrom16(target)
	if !e.nic.HasAddress(targetAddr) {
		st.TargetNotLocal++
		return true
	}
	if dad {
		// Another node is about to use our address: defend it with an
		// unsolicited advertisement to all nodes (§7.2.4).
		st.DuplicateAddress++
		e.sendNA(w, target, AllNodes.As16(), false, stack.LinkAddress{}, false)
		return true
	}
	if hasSLLA {
		if c := e.nic.Neighbors(stack.IPv6ProtocolNumber); c != nil {
			c.HandleProbe(w, netip.AddrFrom16(src), slla)
		}
	}
	e.sendNA(w, target, src, true, slla, hasSLLA)
	return true
}

// handleNA follows RFC 4861 §7.1.2 (validation) and §7.2.5 (cache update).
func (e *Endpoint) handleNA(w *stack.Worker, st *Stats, dst [16]byte, na header.NDPNeighborAdvert) bool {
	target := na.TargetAddress()
	if isMulticast(target) || (isMulticast(dst) && na.Solicited()) {
		st.Invalid++
		return false
	}
	st.NeighborAdvertsReceived++
	targetAddr := netip.AddrFrom16(target)
	if e.nic.HasAddress(targetAddr) {
		st.DuplicateAddress++
		return true
	}
	c := e.nic.Neighbors(stack.IPv6ProtocolNumber)
	if c == nil {
		return true
	}
	conf := stack.Confirmation{Solicited: na.Solicited(), Override: na.Override()}
	tlla, ok := linkLayerOption(na.Options(), header.NDPOptionTargetLinkLayerAddress)
	if !ok {
		// Without a Target Link-Layer option an advertisement can only
		// confirm the address already cached (§7.2.5); it cannot
		// complete an INCOMPLETE entry.
		ent, found := c.Entry(targetAddr)
		if !found || ent.State == stack.NeighborIncomplete || ent.State == stack.NeighborFailed {
			return true
		}
		tlla, conf.Override = ent.LinkAddr, false
	}
	c.HandleConfirmation(w, targetAddr, tlla, conf)
	return true
}

// LinkAddressRequest sends a Neighbor Solicitation for target from local
// (invalid: the NIC's address nearest target): to target's solicited-node
// group when remote is zero, else unicast to remote, as the neighbour
// cache asks (RFC 4861 §7.2.2, §7.3.3 probes). It implements the request
// half of stack.LinkAddressResolver for the ipv6 endpoint.
func (e *Endpoint) LinkAddressRequest(w *stack.Worker, target, local netip.Addr, remote stack.LinkAddress) error {
	if !local.IsValid() || !e.nic.HasAddress(local) {
		local = e.nic.PrimaryAddress(target)
	}
	if !local.IsValid() {
		e.stats[w.ID()].SendFailed++
		return ErrNoSourceAddress
	}
	t := target.As16()
	dst := SolicitedNode(t)
	mac := MulticastLinkAddress(dst)
	if remote != (stack.LinkAddress{}) {
		dst, mac = t, remote
	}
	const n = header.ICMPv6HeaderSize + header.NDPNeighborSolicitMinimumSize + header.NDPLinkLayerAddressOptionSize
	pkt, icmp := newPacket(w, local.As16(), dst, n)
	header.EncodeNDPNeighborSolicit(icmp, header.NDPNeighborSolicitFields{
		Target:         t,
		SourceLinkAddr: e.nic.LinkAddress(),
	}, local.As16(), dst)
	e.stats[w.ID()].NeighborSolicitsSent++
	e.nic.WriteEthernet(w, pkt, mac, stack.IPv6ProtocolNumber)
	return nil
}

// Announce sends one unsolicited Neighbor Advertisement to all-nodes
// (ff02::1) for every unicast address of the NIC, on worker w (RFC 4861
// §7.2.6): Solicited clear, Override and Router set, with the Target
// Link-Layer Address option, so neighbours holding an old link address for
// it (a replaced port, a moved address) switch at once. It is IPv6's
// gratuitous ARP; the ipv6 endpoint calls it when the NIC is enabled, and
// the control path after adding an address to a running NIC.
func (e *Endpoint) Announce(w *stack.Worker) {
	st := &e.stats[w.ID()]
	for _, p := range e.nic.IPv6Addresses() {
		a := p.Addr()
		if a.IsMulticast() || a.IsUnspecified() {
			continue
		}
		e.sendNA(w, a.As16(), AllNodes.As16(), false, stack.LinkAddress{}, false)
		st.UnsolicitedAdvertsSent++
	}
}

// sendNA answers for target (one of our addresses) to dst with the Router
// flag, the Override flag (our addresses are not anycast) and our link
// address (§7.2.4). The frame goes to mac when known, to the multicast MAC
// of a multicast dst, else through neighbour resolution.
func (e *Endpoint) sendNA(w *stack.Worker, target, dst [16]byte, solicited bool, mac stack.LinkAddress, haveMAC bool) {
	const n = header.ICMPv6HeaderSize + header.NDPNeighborAdvertMinimumSize + header.NDPLinkLayerAddressOptionSize
	pkt, icmp := newPacket(w, target, dst, n)
	header.EncodeNDPNeighborAdvert(icmp, header.NDPNeighborAdvertFields{
		Target:         target,
		Router:         true,
		Solicited:      solicited,
		Override:       true,
		TargetLinkAddr: e.nic.LinkAddress(),
	}, target, dst)
	e.stats[w.ID()].NeighborAdvertsSent++
	switch {
	case isMulticast(dst):
		e.nic.WriteEthernet(w, pkt, MulticastLinkAddress(dst), stack.IPv6ProtocolNumber)
	case haveMAC:
		e.nic.WriteEthernet(w, pkt, mac, stack.IPv6ProtocolNumber)
	default:
		e.nic.WriteToNextHop(w, netip.AddrFrom16(dst), pkt)
	}
}

// newPacket takes a frame from the stack's pool and writes an IPv6 header
// for an ICMPv6 message of n bytes with Hop Limit 255; it returns the
// packet (data at the IPv6 header) and the message area to fill.
func newPacket(w *stack.Worker, src, dst [16]byte, n int) (*stack.PacketBuffer, []byte) {
	pkt := w.Stack().Frames().Get()
	pkt.SetLen(header.IPv6MinimumSize + n)
	pkt.NetworkProtocol = stack.IPv6ProtocolNumber
	pkt.NetworkHeaderOffset = pkt.Start()
	b := pkt.Data()
	header.EncodeIPv6(b, header.IPv6Fields{
		PayloadLength: uint16(n),
		NextHeader:    header.IPv6ProtocolICMPv6,
		HopLimit:      HopLimit,
		Src:           src,
		Dst:           dst,
	})
	return pkt, b[header.IPv6MinimumSize:]
}

// raState is the Router Advertisement machinery of one NIC (ra.go).
type raState struct {
	mu sync.Mutex
	raFields
}
