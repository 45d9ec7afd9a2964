package ipv6

import (
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/ndp"
	"github.com/nexthop-router/nexthop/stack"
)

// Options configure the protocol. The zero value is a forwarding router
// with Linux's ICMPv6 error rate (1000/s, burst 50), Hop Limit 64 and no
// Router Advertisements.
type Options struct {
	// ICMPRateLimit is how many ICMPv6 errors per second the router sends
	// over all NICs (Packet Too Big excepted); 0 means 1000, negative
	// means unlimited.
	ICMPRateLimit int
	// ICMPBurst is the token bucket's depth; 0 means 50.
	ICMPBurst int
	// DefaultHopLimit is the Hop Limit of packets the router originates
	// (errors, echo replies); 0 means 64.
	DefaultHopLimit uint8
	// DisableForwarding makes new endpoints start with forwarding off
	// (a host); the zero value forwards, since this is a router.
	DisableForwarding bool
	// RouterAdvertisements configures advertisements per NIC name; NICs
	// not listed send none.
	RouterAdvertisements map[string]ndp.RAConfig
}

// Validate checks the options, naming the field at fault.
func (o *Options) Validate() error {
	if o.ICMPBurst < 0 {
		return fmt.Errorf("ipv6: Options.ICMPBurst %d: must not be negative", o.ICMPBurst)
	}
	for name, ra := range o.RouterAdvertisements {
		if err := ra.Validate(); err != nil {
			return fmt.Errorf("ipv6: Options.RouterAdvertisements[%q]: %w", name, err)
		}
	}
	return nil
}

// Protocol is IPv6 in one stack; it implements
// stack.ForwardingNetworkProtocol.
type Protocol struct {
	s          *stack.Stack
	opts       Options
	hopLimit   uint8
	forwarding atomic.Bool
	// errLimit is the ICMPv6 error token bucket, shared by every NIC and
	// worker like the kernel's per-host limit.
	errLimit *stack.RateLimiter
	// eps indexes endpoints by NICID so the data path reaches the egress
	// endpoint's counters and MTU without an interface call.
	eps [stack.MaxNICs]atomic.Pointer[Endpoint]
}

var (
	_ stack.ForwardingNetworkProtocol = (*Protocol)(nil)
	_ stack.ForwardingNetworkEndpoint = (*Endpoint)(nil)
	_ stack.LinkAddressResolver       = (*Endpoint)(nil)
	_ stack.LinkResolutionHandler     = (*Endpoint)(nil)
	_ stack.Ticker                    = (*Endpoint)(nil)
)

// NewProtocol is the stack.NetworkProtocolFactory for IPv6 with default
// Options.
func NewProtocol(s *stack.Stack) stack.NetworkProtocol { return newProtocol(s, Options{}) }

// NewProtocolWithOptions returns a factory for IPv6 configured by o. It
// panics if o is invalid: call o.Validate first when o comes from a user.
func NewProtocolWithOptions(o Options) stack.NetworkProtocolFactory {
	if err := o.Validate(); err != nil {
		panic(err)
	}
	return func(s *stack.Stack) stack.NetworkProtocol { return newProtocol(s, o) }
}

func newProtocol(s *stack.Stack, o Options) *Protocol {
	p := &Protocol{s: s, opts: o, hopLimit: o.DefaultHopLimit}
	if p.hopLimit == 0 {
		p.hopLimit = 64
	}
	rate, burst := o.ICMPRateLimit, o.ICMPBurst
	if rate == 0 {
		rate = 1000
	}
	if rate < 0 {
		rate = 0 // unlimited
	}
	if burst == 0 {
		burst = 50
	}
	p.errLimit = stack.NewRateLimiter(rate, burst)
	p.forwarding.Store(!o.DisableForwarding)
	return p
}

// Number implements stack.NetworkProtocol.
func (p *Protocol) Number() stack.NetworkProtocolNumber { return stack.IPv6ProtocolNumber }

// MinimumPacketSize implements stack.NetworkProtocol: the fixed header.
func (p *Protocol) MinimumPacketSize() int { return header.IPv6MinimumSize }

// ParseAddresses implements stack.NetworkProtocol.
func (p *Protocol) ParseAddresses(b []byte) (src, dst netip.Addr) {
	if len(b) < header.IPv6MinimumSize {
		return netip.Addr{}, netip.Addr{}
	}
	h := header.IPv6(b)
	return h.SrcAddr(), h.DstAddr()
}

// Forwarding implements stack.ForwardingNetworkProtocol.
func (p *Protocol) Forwarding() bool { return p.forwarding.Load() }

// SetForwarding implements stack.ForwardingNetworkProtocol.
func (p *Protocol) SetForwarding(v bool) {
	p.forwarding.Store(v)
	for i := range p.eps {
		if e := p.eps[i].Load(); e != nil {
			e.SetForwarding(v)
		}
	}
}

// NewEndpoint implements stack.NetworkProtocol.
func (p *Protocol) NewEndpoint(nic *stack.NIC) stack.NetworkEndpoint {
	e := &Endpoint{nic: nic, proto: p}
	e.forwarding.Store(p.forwarding.Load())
	e.mtu.Store(nic.MTU())
	e.ndp = ndp.NewEndpoint(nic, p.opts.RouterAdvertisements[nic.Name()])
	p.eps[nic.ID()].Store(e)
	return e
}

// Endpoint is IPv6 on one NIC.
type Endpoint struct {
	nic        *stack.NIC
	proto      *Protocol
	ndp        *ndp.Endpoint
	enabled    atomic.Bool
	forwarding atomic.Bool
	mtu        atomic.Uint32

	stats stack.PerWorkerIPStats
	icmp  [stack.MaxWorkers]ICMPv6Stats
}

// NIC is the endpoint's NIC.
func (e *Endpoint) NIC() *stack.NIC { return e.nic }

// NDP is the endpoint's Neighbor Discovery, e.g. to reconfigure Router
// Advertisements at run time.
func (e *Endpoint) NDP() *ndp.Endpoint { return e.ndp }

// Enable implements stack.NetworkEndpoint: it gives the NIC its
// link-local address (once), starts accepting packets, and announces every
// unicast address with an unsolicited Neighbor Advertisement to all-nodes
// (RFC 4861 §7.2.6) on the stack's control worker, as ARP sends a
// gratuitous request. Like the ARP endpoint's Enable it must not be called
// from inside Stack.Tick or Stack.RunControl.
func (e *Endpoint) Enable() error {
	if err := e.addLinkLocal(); err != nil {
		return err
	}
	e.mtu.Store(e.nic.MTU())
	e.enabled.Store(true)
	e.proto.s.RunControl(e.Announce)
	return nil
}

// Announce sends an unsolicited Neighbor Advertisement for every unicast
// address of the NIC on worker w (see ndp.Endpoint.Announce), e.g. after an
// address was added to a running NIC; the counterpart of
// arp.Endpoint.Announce.
func (e *Endpoint) Announce(w *stack.Worker) { e.ndp.Announce(w) }

// addLinkLocal assigns fe80::EUI-64/64 unless the NIC already has a
// link-local address; when another NIC holds that address (same MAC), a
// stable hashed identifier is used instead (see ndp.LinkLocalStable).
func (e *Endpoint) addLinkLocal() error {
	for _, p := range e.nic.IPv6Addresses() {
		if p.Addr().IsLinkLocalUnicast() {
			return nil
		}
	}
	mac := e.nic.LinkAddress()
	err := e.nic.AddAddress(netip.PrefixFrom(ndp.LinkLocalEUI64(mac), 64))
	if errors.Is(err, stack.ErrDuplicateAddress) {
		err = e.nic.AddAddress(netip.PrefixFrom(ndp.LinkLocalStable(e.nic.Name(), mac), 64))
	}
	if err != nil {
		return fmt.Errorf("ipv6: link-local address: %w", err)
	}
	return nil
}

// Disable implements stack.NetworkEndpoint.
func (e *Endpoint) Disable() { e.enabled.Store(false) }

// Enabled implements stack.NetworkEndpoint.
func (e *Endpoint) Enabled() bool { return e.enabled.Load() }

// DefaultTTL implements stack.NetworkEndpoint: the Hop Limit of packets
// the router originates.
func (e *Endpoint) DefaultTTL() uint8 { return e.proto.hopLimit }

// MTU implements stack.NetworkEndpoint: the cached link MTU.
func (e *Endpoint) MTU() uint32 { return e.mtu.Load() }

// RefreshMTU re-reads the link MTU; Enable and Tick call it, and the
// control path may after changing a link's MTU.
func (e *Endpoint) RefreshMTU() { e.mtu.Store(e.nic.MTU()) }

// Forwarding implements stack.ForwardingNetworkEndpoint.
func (e *Endpoint) Forwarding() bool { return e.forwarding.Load() }

// SetForwarding implements stack.ForwardingNetworkEndpoint.
func (e *Endpoint) SetForwarding(v bool) bool { return e.forwarding.Swap(v) }

// Close implements stack.NetworkEndpoint.
func (e *Endpoint) Close() {
	e.enabled.Store(false)
	e.proto.eps[e.nic.ID()].CompareAndSwap(e, nil)
}

// Stats implements stack.NetworkEndpoint. PacketsSent includes the NDP
// messages the NIC sent. OutgoingPacketErrors and the
// DropOutgoingDeviceNoBufferSpace drops are the IPv6 frames the NIC's link
// refused (stack.NIC.TXRefused); those were counted sent (and forwarded,
// on their ingress endpoint) when they were handed over.
func (e *Endpoint) Stats() stack.IPStats {
	s := e.stats.Sum()
	n := e.ndp.Stats()
	s.PacketsSent += n.Sent()
	r := e.nic.TXRefused(stack.IPv6ProtocolNumber)
	s.OutgoingPacketErrors += r
	s.Drops[stack.DropOutgoingDeviceNoBufferSpace] += r
	return s
}

// ICMPStats sums the endpoint's ICMPv6 counters; Sent includes the NDP
// messages counted by ndp.
func (e *Endpoint) ICMPStats() ICMPv6Stats {
	var s ICMPv6Stats
	for i := range e.icmp {
		s.Add(&e.icmp[i])
	}
	n := e.ndp.Stats()
	s.Sent[KindNeighborSolicit] += n.NeighborSolicitsSent
	s.Sent[KindNeighborAdvert] += n.NeighborAdvertsSent
	s.Sent[KindRouterAdvert] += n.RouterAdvertsSent
	return s
}

// NDPStats are the NIC's Neighbor Discovery counters.
func (e *Endpoint) NDPStats() ndp.Stats { return e.ndp.Stats() }

// Tick implements stack.Ticker: it refreshes the cached MTU and runs the
// Router Advertisement timer.
func (e *Endpoint) Tick(w *stack.Worker) {
	e.RefreshMTU()
	e.ndp.Tick(w)
}

// LinkAddressRequest implements stack.LinkAddressResolver with an NDP
// Neighbor Solicitation.
func (e *Endpoint) LinkAddressRequest(w *stack.Worker, target, local netip.Addr, remote stack.LinkAddress, nic *stack.NIC) error {
	if nic != e.nic {
		return fmt.Errorf("ipv6: resolution on NIC %d asked of NIC %d's endpoint", nic.ID(), e.nic.ID())
	}
	return e.ndp.LinkAddressRequest(w, target, local, remote)
}

// ResolveStaticAddress implements stack.LinkAddressResolver: multicast
// groups map to 33:33:xx:xx:xx:xx.
func (e *Endpoint) ResolveStaticAddress(addr netip.Addr) (stack.LinkAddress, bool) {
	if addr.Is6() && addr.IsMulticast() {
		return ndp.MulticastLinkAddress(addr.As16()), true
	}
	return stack.LinkAddress{}, false
}

// LinkAddressProtocol implements stack.LinkAddressResolver.
func (e *Endpoint) LinkAddressProtocol() stack.NetworkProtocolNumber {
	return stack.IPv6ProtocolNumber
}

// dropStats are the counters a packet that this (egress) endpoint's
// neighbour cache gives up on is counted in: its ingress endpoint's for a
// transit packet, like every other forwarding drop, else this endpoint's.
func (e *Endpoint) dropStats(w *stack.Worker, pkt *stack.PacketBuffer) *stack.IPStats {
	if pkt.NICID > 0 && pkt.NICID < stack.MaxNICs {
		if in := e.proto.eps[pkt.NICID].Load(); in != nil {
			return &in.stats[w.ID()]
		}
	}
	return &e.stats[w.ID()]
}

// HandleLinkResolutionFailure implements stack.LinkResolutionHandler: the
// next hop never answered, so the source hears Destination Unreachable
// code 3 (RFC 4443 §3.1) and the packet counts as DropHostUnreachable.
func (e *Endpoint) HandleLinkResolutionFailure(w *stack.Worker, pkt *stack.PacketBuffer) {
	e.dropStats(w, pkt).Drop(stack.DropHostUnreachable)
	if header.ValidateIPv6(pkt.Data()) == nil {
		e.sendError(w, pkt, header.ICMPv6DstUnreachable, header.ICMPv6AddressUnreachable, 0)
	}
	pkt.Release()
}

// HandleNeighborDrop implements stack.LinkResolutionHandler.
func (e *Endpoint) HandleNeighborDrop(w *stack.Worker, pkt *stack.PacketBuffer, reason stack.DropReason) {
	e.dropStats(w, pkt).Drop(reason)
	pkt.Release()
}

// HandleResolved implements stack.LinkResolutionHandler: a packet that
// waited for its next hop leaves now, so this endpoint counts it sent and
// a transit packet's ingress endpoint counts it forwarded. The router's
// own NDP messages are left out: package ndp counts them (Stats adds
// them to PacketsSent).
func (e *Endpoint) HandleResolved(w *stack.Worker, pkt *stack.PacketBuffer) {
	if pkt.TransitBytes == 0 {
		if pkt.NICID == 0 && isOwnNDP(pkt.Data()) {
			return
		}
		e.stats[w.ID()].PacketsSent++
		return
	}
	e.stats[w.ID()].PacketsSent++
	if pkt.NICID > 0 && pkt.NICID < stack.MaxNICs {
		if in := e.proto.eps[pkt.NICID].Load(); in != nil {
			st := &in.stats[w.ID()]
			st.Forwarded++
			st.ForwardedBytes += uint64(pkt.TransitBytes)
		}
	}
}

// isOwnNDP reports whether b (data at the IPv6 header) is an NDP message
// as package ndp builds them: ICMPv6 right after the fixed header, of a
// Neighbor Discovery type (RFC 4861 §4).
func isOwnNDP(b []byte) bool {
	if len(b) <= header.IPv6MinimumSize || header.IPv6(b).NextHeader() != header.IPv6ProtocolICMPv6 {
		return false
	}
	t := header.ICMPv6Type(b[header.IPv6MinimumSize])
	return t >= header.ICMPv6RouterSolicit && t <= header.ICMPv6Redirect
}

// HandlePackets implements stack.NetworkEndpoint: validation, then local
// delivery or forwarding of every packet. It takes ownership of pkts.
func (e *Endpoint) HandlePackets(w *stack.Worker, pkts []*stack.PacketBuffer) {
	st := &e.stats[w.ID()]
	if !e.enabled.Load() {
		st.DropAll(pkts, stack.DropDisabled)
		return
	}
	fwd := e.forwarding.Load()
	// Route lookups stay one per packet, in forward: Lookup6Batch was
	// measured slower than Lookup6 here (about 80 ns a lookup against 15
	// on the benchmark's small table).
	st.PacketsReceived += uint64(len(pkts))
	var eg egress
	for _, pkt := range pkts {
		b := pkt.Data()
		if header.ValidateIPv6(b) != nil {
			st.Drop(stack.DropMalformed)
			pkt.Release()
			continue
		}
		// Cut Ethernet padding: Payload Length is the truth (RFC 8200 §3).
		if n := header.IPv6MinimumSize + int(header.IPv6(b).PayloadLength()); n < len(b) {
			pkt.SetLen(n)
			b = b[:n]
		}
		h := header.IPv6(b)
		st.ValidPacketsReceived++
		if r, ok := e.checkAddresses(h); !ok {
			st.Drop(r)
			pkt.Release()
			continue
		}
		switch {
		case h[24] == 0xff:
			e.receiveMulticast(w, st, pkt, h)
		case isLinkLocal(h[24:40]):
			if e.nic.HasAddress(h.DstAddr()) {
				e.deliver(w, st, pkt, h, false)
			} else {
				// Link-local destinations are never routed (RFC 4291
				// §2.5.6) and this one is not ours.
				st.Drop(stack.DropLinkLocalDestination)
				pkt.Release()
			}
		case e.proto.s.IsLocalAddress6At((*[16]byte)(h[24:40])):
			e.deliver(w, st, pkt, h, false)
		case !fwd:
			st.Drop(stack.DropInvalidDestination)
			pkt.Release()
		default:
			e.forward(w, st, pkt, h, &eg)
		}
	}
}

// checkAddresses rejects what no node may accept from a link: a multicast
// or loopback source, a loopback or unspecified destination (RFC 4291
// §2.5.2, §2.5.3, §2.7), and IPv4-mapped addresses ::ffff:0:0/96 either
// way (RFC 4291 §2.5.5.2: they only represent IPv4 nodes inside a host's
// API; RFC 6890 marks them neither forwardable nor a valid source or
// destination). All of these begin with 0x00 or 0xff, so a global unicast
// packet costs two byte compares.
func (e *Endpoint) checkAddresses(h header.IPv6) (stack.DropReason, bool) {
	if h[8] == 0xff || (h[8] == 0 && (isLoopback(h[8:24]) || isV4Mapped(h[8:24]))) {
		return stack.DropInvalidSource, false
	}
	if h[24] == 0 && (isLoopback(h[24:40]) || isUnspecified(h[24:40]) || isV4Mapped(h[24:40])) {
		return stack.DropInvalidDestination, false
	}
	return 0, true
}

// receiveMulticast accepts the groups the router belongs to on this link:
// all-nodes, all-routers and the solicited-node groups of the NIC's
// addresses. The router does not route multicast, so any other group is
// dropped (interface-local scope never belongs on a wire, RFC 4291 §2.7).
func (e *Endpoint) receiveMulticast(w *stack.Worker, st *stack.IPStats, pkt *stack.PacketBuffer, h header.IPv6) {
	dst := h.DestinationAddress()
	if e.isMember(dst) {
		e.deliver(w, st, pkt, h, true)
		return
	}
	st.Drop(stack.DropInvalidDestination)
	pkt.Release()
}

func (e *Endpoint) isMember(g [16]byte) bool {
	if g == ndp.AllNodes.As16() || g == ndp.AllRouters.As16() {
		return true
	}
	if !ndp.IsSolicitedNode(g) {
		return false
	}
	for _, p := range e.nic.IPv6Addresses() {
		a := p.Addr().As16()
		if a[13] == g[13] && a[14] == g[14] && a[15] == g[15] {
			return true
		}
	}
	return false
}

func isLoopback(a []byte) bool {
	return [16]byte(a) == [16]byte{15: 1}
}

func isLinkLocal(a []byte) bool { return a[0] == 0xfe && a[1]&0xc0 == 0x80 }

func isUnspecified(a []byte) bool { return [16]byte(a) == [16]byte{} }

// isV4Mapped reports whether a is in ::ffff:0:0/96.
func isV4Mapped(a []byte) bool {
	return [12]byte(a) == [12]byte{10: 0xff, 11: 0xff}
}
