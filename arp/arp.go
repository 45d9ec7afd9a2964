package arp

import (
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/stack"
)

// Stats are the ARP counters of one endpoint for one worker; Endpoint.ARPStats
// sums them.
type Stats struct {
	// RequestsReceived counts valid requests for the NIC's addresses.
	RequestsReceived uint64
	// RepliesReceived counts valid replies.
	RepliesReceived uint64
	// RequestsSent counts requests and probes sent (gratuitous included).
	RequestsSent uint64
	// RepliesSent counts replies to requests for our addresses.
	RepliesSent uint64
	// GratuitousSent counts announcements sent when the NIC came up.
	GratuitousSent uint64
	// Malformed counts packets that were short or not Ethernet/IPv4.
	Malformed uint64
	// Ignored counts valid packets that needed no action: requests for
	// other hosts' addresses (no proxy ARP), our own frames looped back,
	// unknown operations, bogus sender addresses (multicast, broadcast,
	// loopback, a subnet broadcast) and replies from senders that are on
	// none of the NIC's subnets.
	Ignored uint64
	// Conflicts counts packets from another MAC whose sender address is
	// one of the router's own: an address conflict on the link (RFC 5227
	// §2.4) worth an alert. Nothing is learned from them and requests
	// among them are not answered (Linux's route check refuses a local
	// source the same way).
	Conflicts uint64
	// Disabled counts packets that arrived while the endpoint was disabled.
	Disabled uint64

	_ [64]byte
}

func (s *Stats) add(o *Stats) {
	s.RequestsReceived += o.RequestsReceived
	s.RepliesReceived += o.RepliesReceived
	s.RequestsSent += o.RequestsSent
	s.RepliesSent += o.RepliesSent
	s.GratuitousSent += o.GratuitousSent
	s.Malformed += o.Malformed
	s.Ignored += o.Ignored
	s.Conflicts += o.Conflicts
	s.Disabled += o.Disabled
}

// Protocol is ARP as a stack.NetworkProtocol.
type Protocol struct {
	s *stack.Stack
}

// NewProtocol creates ARP for a stack; pass it in
// stack.Options.NetworkProtocols next to ipv4.NewProtocol.
func NewProtocol(s *stack.Stack) stack.NetworkProtocol { return &Protocol{s: s} }

var (
	_ stack.NetworkProtocol     = (*Protocol)(nil)
	_ stack.NetworkEndpoint     = (*Endpoint)(nil)
	_ stack.LinkAddressResolver = (*Endpoint)(nil)
)

// Number implements stack.NetworkProtocol.
func (p *Protocol) Number() stack.NetworkProtocolNumber { return stack.ARPProtocolNumber }

// MinimumPacketSize implements stack.NetworkProtocol.
func (p *Protocol) MinimumPacketSize() int { return header.ARPSize }

// ParseAddresses implements stack.NetworkProtocol: the sender and target
// protocol addresses.
func (p *Protocol) ParseAddresses(b []byte) (src, dst netip.Addr) {
	if header.ValidateARP(b) != nil {
		return netip.Addr{}, netip.Addr{}
	}
	a := header.ARP(b)
	return a.SenderAddr(), a.TargetAddr()
}

// NewEndpoint implements stack.NetworkProtocol.
func (p *Protocol) NewEndpoint(nic *stack.NIC) stack.NetworkEndpoint {
	return &Endpoint{s: p.s, nic: nic}
}

// Endpoint is ARP on one NIC.
type Endpoint struct {
	s       *stack.Stack
	nic     *stack.NIC
	enabled atomic.Bool
	stats   [stack.MaxWorkers]Stats
}

// Enable implements stack.NetworkEndpoint. It announces every IPv4 address
// of the NIC with a gratuitous ARP request (RFC 5227 §3), on the stack's
// control worker, so neighbours replace stale entries at once.
func (e *Endpoint) Enable() error {
	e.enabled.Store(true)
	e.s.RunControl(e.announce)
	return nil
}

// Announce sends a gratuitous ARP for every IPv4 address of the NIC on
// worker w, e.g. after an address was added to a running NIC.
func (e *Endpoint) Announce(w *stack.Worker) { e.announce(w) }

func (e *Endpoint) announce(w *stack.Worker) {
	for _, p := range e.nic.Addresses() {
		a := p.Addr()
		if !a.Is4() {
			continue
		}
		if e.sendRequest(w, a.As4(), a.As4(), stack.BroadcastLinkAddress) {
			e.stats[w.ID()].GratuitousSent++
		}
	}
}

// Disable implements stack.NetworkEndpoint.
func (e *Endpoint) Disable() { e.enabled.Store(false) }

// Enabled implements stack.NetworkEndpoint.
func (e *Endpoint) Enabled() bool { return e.enabled.Load() }

// DefaultTTL implements stack.NetworkEndpoint; ARP has no TTL.
func (e *Endpoint) DefaultTTL() uint8 { return 0 }

// MTU implements stack.NetworkEndpoint.
func (e *Endpoint) MTU() uint32 { return e.nic.MTU() }

// Close implements stack.NetworkEndpoint.
func (e *Endpoint) Close() { e.Disable() }

// ARPStats sums the endpoint's ARP counters over all workers.
func (e *Endpoint) ARPStats() Stats {
	var s Stats
	for i := range e.stats {
		s.add(&e.stats[i])
	}
	return s
}

// Stats implements stack.NetworkEndpoint with the IPStats fields that fit
// ARP: received, delivered (requests answered, replies accepted), sent,
// and drops: malformed, disabled, and conflicts (as DropInvalidSource).
// Every received packet is counted by exactly one ARP counter, so
// PacketsReceived = PacketsDelivered + Ignored + TotalDrops.
func (e *Endpoint) Stats() stack.IPStats {
	a := e.ARPStats()
	var s stack.IPStats
	s.PacketsReceived = a.RequestsReceived + a.RepliesReceived + a.Ignored + a.Conflicts + a.Malformed + a.Disabled
	s.ValidPacketsReceived = a.RequestsReceived + a.RepliesReceived + a.Ignored + a.Conflicts
	s.PacketsDelivered = a.RequestsReceived + a.RepliesReceived
	s.PacketsSent = a.RequestsSent + a.RepliesSent
	s.Drops[stack.DropMalformed] = a.Malformed
	s.Drops[stack.DropDisabled] = a.Disabled
	s.Drops[stack.DropInvalidSource] = a.Conflicts
	return s
}

// LinkAddressProtocol implements stack.LinkAddressResolver: ARP resolves
// IPv4 addresses.
func (e *Endpoint) LinkAddressProtocol() stack.NetworkProtocolNumber {
	return stack.IPv4ProtocolNumber
}

// ResolveStaticAddress implements stack.LinkAddressResolver: the limited
// broadcast maps to the broadcast MAC and a multicast group to its
// 01:00:5e MAC (RFC 1112 §6.4).
func (e *Endpoint) ResolveStaticAddress(addr netip.Addr) (stack.LinkAddress, bool) {
	if !addr.Is4() {
		return stack.LinkAddress{}, false
	}
	a := addr.As4()
	switch {
	case a == [4]byte{255, 255, 255, 255}:
		return stack.BroadcastLinkAddress, true
	case addr.IsMulticast():
		return stack.LinkAddress{0x01, 0x00, 0x5e, a[1] & 0x7f, a[2], a[3]}, true
	}
	return stack.LinkAddress{}, false
}

// ErrNoSourceAddress is returned by LinkAddressRequest when the NIC has no
// IPv4 address to send the request from.
var ErrNoSourceAddress = errors.New("no IPv4 address on the NIC to send ARP from")

// LinkAddressRequest implements stack.LinkAddressResolver: it queues an ARP
// request for target on w, broadcast when remoteLinkAddr is zero and
// unicast otherwise (a NUD probe).
func (e *Endpoint) LinkAddressRequest(w *stack.Worker, target, local netip.Addr, remoteLinkAddr stack.LinkAddress, nic *stack.NIC) error {
	if !target.Is4() {
		return fmt.Errorf("arp request for %v: not an IPv4 address", target)
	}
	if nic == nil {
		nic = e.nic
	}
	if !local.IsValid() {
		local = nic.PrimaryAddress(target)
	}
	if !local.Is4() {
		return fmt.Errorf("arp request for %v on %q: %w", target, nic.Name(), ErrNoSourceAddress)
	}
	dst := remoteLinkAddr
	if dst == (stack.LinkAddress{}) {
		dst = stack.BroadcastLinkAddress
	}
	e.sendRequest(w, local.As4(), target.As4(), dst)
	return nil
}

// sendRequest queues an ARP request from sender for target to dst.
func (e *Endpoint) sendRequest(w *stack.Worker, sender, target [4]byte, dst stack.LinkAddress) bool {
	pkt := e.s.Frames().Get()
	if !pkt.SetLen(header.ARPSize) {
		pkt.Release()
		return false
	}
	var tha [6]byte
	if dst != stack.BroadcastLinkAddress {
		tha = dst
	}
	header.EncodeARP(pkt.Data(), header.ARPRequest, e.nic.LinkAddress(), sender, tha, target)
	pkt.NetworkProtocol = stack.ARPProtocolNumber
	e.stats[w.ID()].RequestsSent++
	e.nic.WriteEthernet(w, pkt, dst, stack.ARPProtocolNumber)
	return true
}

// HandlePackets implements stack.NetworkEndpoint. It takes ownership of
// every packet: a request for one of the NIC's addresses is turned into the
// reply in place and sent; everything else is released.
func (e *Endpoint) HandlePackets(w *stack.Worker, pkts []*stack.PacketBuffer) {
	st := &e.stats[w.ID()]
	enabled := e.enabled.Load()
	for _, pkt := range pkts {
		if !enabled {
			st.Disabled++
			pkt.Release()
			continue
		}
		if e.handle(w, st, pkt) {
			continue
		}
		pkt.Release()
	}
}

// handle processes one ARP packet; it reports true when it passed pkt on.
// It counts the packet in exactly one of Malformed, Ignored, Conflicts,
// RepliesReceived or RequestsReceived.
func (e *Endpoint) handle(w *stack.Worker, st *Stats, pkt *stack.PacketBuffer) bool {
	d := pkt.Data()
	if header.ValidateARP(d) != nil {
		st.Malformed++
		return false
	}
	a := header.ARP(d[:header.ARPSize])
	sha := stack.LinkAddress(a.SenderHW())
	spa := a.SenderAddr()
	tpa := a.TargetAddr()
	my := e.nic.LinkAddress()
	op := a.Op()
	if op != header.ARPRequest && op != header.ARPReply {
		st.Ignored++
		return false
	}
	// Our own frames, and senders that claim a group MAC, teach nothing.
	if sha == my || sha.IsMulticast() || sha == (stack.LinkAddress{}) {
		st.Ignored++
		return false
	}
	// Another station claims one of our addresses: a conflict. Learning
	// it would send our own traffic to that station.
	if e.s.IsLocalAddress4(spa.As4()) {
		st.Conflicts++
		return false
	}
	cache := e.nic.Neighbors(stack.IPv4ProtocolNumber)
	// Only a host on one of the NIC's subnets is a neighbour worth a
	// cache entry; anything else is spoofed or misconfigured.
	host, onLink := e.sender(spa)
	learn := host && onLink
	if op == header.ARPReply {
		if !learn {
			st.Ignored++
			return false
		}
		st.RepliesReceived++
		if cache != nil {
			// An entry is confirmed only when we asked; HandleConfirmation
			// ignores addresses without an entry.
			cache.HandleConfirmation(w, spa, sha, stack.Confirmation{
				Solicited: pkt.PktType == stack.PacketHost,
				Override:  true,
			})
		}
		return false
	}
	if !e.nic.HasAddress(tpa) {
		// Not for us (no proxy ARP). RFC 826's merge step still refreshes
		// an entry we already have, e.g. from a gratuitous ARP.
		if learn && cache != nil {
			if _, ok := cache.Entry(spa); ok {
				cache.HandleProbe(w, spa, sha)
			}
		}
		st.Ignored++
		return false
	}
	// A request for our address: answered when the sender is a unicast
	// host (on-link or not; only on-link ones are learned) or 0.0.0.0 (an
	// RFC 5227 probe, which the answer tells of the conflict).
	if !host && !spa.IsUnspecified() {
		st.Ignored++
		return false
	}
	st.RequestsReceived++
	if learn && cache != nil {
		cache.HandleProbe(w, spa, sha)
	}
	// Turn the request into the reply in place (RFC 826: swap, fill in our
	// hardware address, set the opcode).
	a.SetOp(header.ARPReply)
	a.SetTargetHW(sha)
	a.SetTargetIP(spa.As4())
	a.SetSenderHW(my)
	a.SetSenderIP(tpa.As4())
	pkt.SetLen(header.ARPSize)
	st.RepliesSent++
	e.nic.WriteEthernet(w, pkt, sha, stack.ARPProtocolNumber)
	return true
}

// sender classifies a sender address: host is false for addresses no
// single host can have (0/8, loopback, multicast, class E, broadcast, the
// broadcast address of a subnet of the NIC, RFC 3021 aside); onLink says
// whether a is inside one of the NIC's prefixes.
func (e *Endpoint) sender(a netip.Addr) (host, onLink bool) {
	b := a.As4()
	if b[0] == 0 || b[0] == 127 || b[0] >= 224 {
		return false, false
	}
	p, ok := e.nic.OnLinkPrefix(a)
	if !ok {
		return true, false
	}
	if p.Bits() < 31 {
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		if hostBits := ^uint32(0) >> p.Bits(); v&hostBits == hostBits {
			return false, true
		}
	}
	return true, true
}
