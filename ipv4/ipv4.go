package ipv4

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/stack"
)

// Options configure the IPv4 protocol. The zero value is a forwarding
// router with Linux's ICMP rate limit.
type Options struct {
	// DefaultTTL is the TTL of packets the router originates (ICMP); 0
	// means 64 (RFC 1700, Linux's ip_default_ttl).
	DefaultTTL uint8
	// DisableForwarding starts every NIC with forwarding off, like
	// net.ipv4.conf.all.forwarding=0; the zero value forwards.
	DisableForwarding bool
	// ForwardDirectedBroadcast forwards packets addressed to the broadcast
	// address of an attached subnet other than the ingress one (RFC 1812
	// §5.3.5.2); off by default, as RFC 2644 recommends.
	ForwardDirectedBroadcast bool
	// ICMPRate is the average number of ICMP errors sent per second over
	// all NICs; 0 means 1000 (Linux's icmp_ratelimit), negative means
	// unlimited. Fragmentation Needed is exempt: PMTU discovery needs it.
	ICMPRate int
	// ICMPBurst is how many ICMP errors may leave at once; 0 means 50.
	ICMPBurst int
}

// DefaultOptions returns the defaults spelled out.
func DefaultOptions() Options {
	return Options{DefaultTTL: 64, ICMPRate: 1000, ICMPBurst: 50}
}

// NewProtocol creates the IPv4 protocol with DefaultOptions; pass it in
// stack.Options.NetworkProtocols.
func NewProtocol(s *stack.Stack) stack.NetworkProtocol {
	return NewProtocolWithOptions(Options{})(s)
}

// NewProtocolWithOptions returns a factory for an IPv4 protocol configured
// by o, for stack.Options.NetworkProtocols.
func NewProtocolWithOptions(o Options) stack.NetworkProtocolFactory {
	if o.DefaultTTL == 0 {
		o.DefaultTTL = 64
	}
	if o.ICMPRate == 0 {
		o.ICMPRate = 1000
	}
	if o.ICMPBurst <= 0 {
		o.ICMPBurst = 50
	}
	return func(s *stack.Stack) stack.NetworkProtocol {
		p := &Protocol{s: s, opts: o}
		rate := o.ICMPRate
		if rate < 0 {
			rate = 0
		}
		p.limiter = stack.NewRateLimiter(rate, o.ICMPBurst)
		p.forwarding.Store(!o.DisableForwarding)
		p.eps.Store(&[stack.MaxNICs]*Endpoint{})
		p.all.Store(&[]*Endpoint{})
		return p
	}
}

// maxDatagramSize is the largest IPv4 datagram, header included: Total
// Length is 16 bits (RFC 791 §3.1). A fragment's offset plus its data must
// stay within it.
const maxDatagramSize = 0xffff

// Protocol is the IPv4 stack.ForwardingNetworkProtocol.
type Protocol struct {
	s          *stack.Stack
	opts       Options
	limiter    *stack.RateLimiter
	forwarding atomic.Bool
	ipID       atomic.Uint32

	// eps indexes the endpoints by NICID, so the forwarding path finds the
	// egress endpoint with one load and an index.
	eps atomic.Pointer[[stack.MaxNICs]*Endpoint]
	// all lists the same endpoints densely, for the checks that must look
	// at every attached subnet (a source that is a subnet broadcast).
	all atomic.Pointer[[]*Endpoint]
	// mu serializes changes of eps and all.
	mu sync.Mutex
}

var (
	_ stack.ForwardingNetworkProtocol = (*Protocol)(nil)
	_ stack.ForwardingNetworkEndpoint = (*Endpoint)(nil)
	_ stack.LinkResolutionHandler     = (*Endpoint)(nil)
)

// Number implements stack.NetworkProtocol.
func (p *Protocol) Number() stack.NetworkProtocolNumber { return stack.IPv4ProtocolNumber }

// MinimumPacketSize implements stack.NetworkProtocol.
func (p *Protocol) MinimumPacketSize() int { return header.IPv4MinimumSize }

// ParseAddresses implements stack.NetworkProtocol.
func (p *Protocol) ParseAddresses(b []byte) (src, dst netip.Addr) {
	if len(b) < header.IPv4MinimumSize {
		return netip.Addr{}, netip.Addr{}
	}
	h := header.IPv4(b)
	return h.SrcAddr(), h.DstAddr()
}

// Options are the protocol's options with defaults filled in.
func (p *Protocol) Options() Options { return p.opts }

// Forwarding implements stack.ForwardingNetworkProtocol.
func (p *Protocol) Forwarding() bool { return p.forwarding.Load() }

// SetForwarding implements stack.ForwardingNetworkProtocol: it sets the
// default for new NICs and every existing endpoint.
func (p *Protocol) SetForwarding(v bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forwarding.Store(v)
	for _, e := range p.eps.Load() {
		if e != nil {
			e.forwarding.Store(v)
		}
	}
}

// NewEndpoint implements stack.NetworkProtocol.
func (p *Protocol) NewEndpoint(nic *stack.NIC) stack.NetworkEndpoint {
	e := &Endpoint{p: p, nic: nic, s: p.s}
	e.forwarding.Store(p.forwarding.Load())
	e.mtu.Store(nic.MTU())
	p.mu.Lock()
	next := *p.eps.Load()
	next[nic.ID()] = e
	p.eps.Store(&next)
	p.publishAllLocked(&next)
	p.mu.Unlock()
	return e
}

// publishAllLocked rebuilds the dense endpoint list from eps.
//
// Precondition: p.mu is locked.
func (p *Protocol) publishAllLocked(eps *[stack.MaxNICs]*Endpoint) {
	var all []*Endpoint
	for _, e := range eps {
		if e != nil {
			all = append(all, e)
		}
	}
	p.all.Store(&all)
}

// isBroadcastOnAnyNIC reports whether a is the broadcast address of a
// subnet of any NIC: such an address names no single host, wherever the
// packet came in (RFC 1812 §4.3.2.7, §5.3.7), as Linux's reverse lookup
// of the source finds RTN_BROADCAST in the local table. It allocates
// nothing and skips the walk for most addresses.
func (p *Protocol) isBroadcastOnAnyNIC(a [4]byte) bool {
	// The broadcast address of a /30 or shorter prefix ends in binary 11.
	if a[3]&3 != 3 {
		return false
	}
	for _, e := range *p.all.Load() {
		if isSubnetBroadcast(e.nic, a) {
			return true
		}
	}
	return false
}

func (p *Protocol) endpoint(id stack.NICID) *Endpoint {
	if id <= 0 || id >= stack.MaxNICs {
		return nil
	}
	return p.eps.Load()[id]
}

// nextID returns an Identification value for a packet the router makes.
func (p *Protocol) nextID() uint16 { return uint16(p.ipID.Add(1)) }

// Endpoint is IPv4 on one NIC. Its counters are per worker; Stats and
// ICMPStats sum them.
type Endpoint struct {
	p   *Protocol
	s   *stack.Stack
	nic *stack.NIC

	enabled    atomic.Bool
	forwarding atomic.Bool
	// mtu caches the link MTU so the forwarding path does not call the
	// link (which may lock) per packet; Enable and RefreshMTU reload it.
	mtu atomic.Uint32

	stats stack.PerWorkerIPStats
	icmp  [stack.MaxWorkers]ICMPStats
}

// NIC is the NIC the endpoint belongs to.
func (e *Endpoint) NIC() *stack.NIC { return e.nic }

// Enable implements stack.NetworkEndpoint; it also reloads the link MTU.
func (e *Endpoint) Enable() error {
	e.mtu.Store(e.nic.MTU())
	e.enabled.Store(true)
	return nil
}

// Disable implements stack.NetworkEndpoint.
func (e *Endpoint) Disable() { e.enabled.Store(false) }

// Enabled implements stack.NetworkEndpoint.
func (e *Endpoint) Enabled() bool { return e.enabled.Load() }

// DefaultTTL implements stack.NetworkEndpoint.
func (e *Endpoint) DefaultTTL() uint8 { return e.p.opts.DefaultTTL }

// MTU implements stack.NetworkEndpoint: the cached link MTU.
func (e *Endpoint) MTU() uint32 { return e.mtu.Load() }

// RefreshMTU reloads the MTU from the link after it changed (the data path
// reads a cached copy).
func (e *Endpoint) RefreshMTU() { e.mtu.Store(e.nic.MTU()) }

// Tick implements stack.Ticker: the control path picks up MTU changes of
// the link (the forwarder follows them through netlink) within one tick.
func (e *Endpoint) Tick(*stack.Worker) { e.RefreshMTU() }

// Forwarding implements stack.ForwardingNetworkEndpoint.
func (e *Endpoint) Forwarding() bool { return e.forwarding.Load() }

// SetForwarding implements stack.ForwardingNetworkEndpoint.
func (e *Endpoint) SetForwarding(v bool) bool { return e.forwarding.Swap(v) }

// Stats implements stack.NetworkEndpoint. OutgoingPacketErrors and the
// DropOutgoingDeviceNoBufferSpace drops are the IPv4 frames the NIC's
// link refused (stack.NIC.TXRefused); those were counted sent (and
// forwarded, on their ingress endpoint) when they were handed over.
func (e *Endpoint) Stats() stack.IPStats {
	s := e.stats.Sum()
	r := e.nic.TXRefused(stack.IPv4ProtocolNumber)
	s.OutgoingPacketErrors += r
	s.Drops[stack.DropOutgoingDeviceNoBufferSpace] += r
	return s
}

// ICMPStats sums the endpoint's ICMP counters over all workers.
func (e *Endpoint) ICMPStats() ICMPStats {
	var s ICMPStats
	for i := range e.icmp {
		s.Add(&e.icmp[i])
	}
	return s
}

// Close implements stack.NetworkEndpoint.
func (e *Endpoint) Close() {
	e.Disable()
	e.p.mu.Lock()
	next := *e.p.eps.Load()
	if next[e.nic.ID()] == e {
		next[e.nic.ID()] = nil
	}
	e.p.eps.Store(&next)
	e.p.publishAllLocked(&next)
	e.p.mu.Unlock()
}

// dropStats are the counters a packet that this (egress) endpoint's
// neighbour cache gives up on is counted in: its ingress endpoint's for a
// transit packet, like every other forwarding drop, else this endpoint's.
func (e *Endpoint) dropStats(w *stack.Worker, pkt *stack.PacketBuffer) *stack.IPStats {
	if in := e.p.endpoint(pkt.NICID); in != nil {
		return &in.stats[w.ID()]
	}
	return &e.stats[w.ID()]
}

// HandleNeighborDrop implements stack.LinkResolutionHandler: the packet
// waited for a next hop and was pushed out; count it and release it.
func (e *Endpoint) HandleNeighborDrop(w *stack.Worker, pkt *stack.PacketBuffer, reason stack.DropReason) {
	e.dropStats(w, pkt).Drop(reason)
	pkt.Release()
}

// HandleLinkResolutionFailure implements stack.LinkResolutionHandler: the
// next hop never answered, so the source gets ICMP Host Unreachable
// (RFC 1812 §5.2.7.1) and the packet is counted as DropHostUnreachable.
func (e *Endpoint) HandleLinkResolutionFailure(w *stack.Worker, pkt *stack.PacketBuffer) {
	e.dropStats(w, pkt).Drop(stack.DropHostUnreachable)
	e.sendICMPError(w, pkt, header.ICMPv4DstUnreachable, header.ICMPv4HostUnreachable, 0)
	pkt.Release()
}

// HandleResolved implements stack.LinkResolutionHandler: a packet that
// waited for its next hop leaves now, so this endpoint counts it sent and
// a transit packet's ingress endpoint counts it forwarded.
func (e *Endpoint) HandleResolved(w *stack.Worker, pkt *stack.PacketBuffer) {
	e.stats[w.ID()].PacketsSent++
	if pkt.TransitBytes == 0 {
		return
	}
	if in := e.p.endpoint(pkt.NICID); in != nil {
		st := &in.stats[w.ID()]
		st.Forwarded++
		st.ForwardedBytes += uint64(pkt.TransitBytes)
	}
}

// HandlePackets implements stack.NetworkEndpoint: it validates each packet
// (RFC 1812 §5.2.2) and delivers it locally or forwards it. It takes
// ownership of every packet.
func (e *Endpoint) HandlePackets(w *stack.Worker, pkts []*stack.PacketBuffer) {
	st := &e.stats[w.ID()]
	if !e.enabled.Load() {
		st.DropAll(pkts, stack.DropDisabled)
		return
	}
	forwarding := e.forwarding.Load()
	// Route lookups stay one per packet, in forward: Lookup4Batch at the
	// start of the batch was measured no faster, with the 1M-route table
	// too, since it adds a pass over the packets.
	st.PacketsReceived += uint64(len(pkts))
	var eg egress
	for _, pkt := range pkts {
		d := pkt.Data()
		if header.ValidateIPv4(d) != nil {
			st.Drop(stack.DropMalformed)
			pkt.Release()
			continue
		}
		h := header.IPv4(d)
		if !pkt.RXChecksumValidated && !h.IsChecksumValid() {
			st.Drop(stack.DropMalformed)
			pkt.Release()
			continue
		}
		// Drop the link layer's padding after Total Length.
		pkt.SetLen(int(h.TotalLength()))
		h = h[:h.TotalLength()]
		if h.HeaderLength() > header.IPv4MinimumSize && !e.checkOptions(w, st, pkt, h) {
			continue
		}
		// A fragment whose data would end past the largest datagram
		// (the "ping of death") can never be reassembled, and
		// fragmenting it again would wrap the 13-bit offset field.
		if off := int(h.FragmentOffset()); off != 0 && off+len(h)-h.HeaderLength() > maxDatagramSize {
			st.Drop(stack.DropMalformedFragment)
			pkt.Release()
			continue
		}
		st.ValidPacketsReceived++
		dst := addrWord(h[16:20])
		if e.s.IsLocalAddress4Word(dst) {
			e.deliver(w, st, pkt, h)
			continue
		}
		if dst>>24 >= 224 {
			// Limited broadcast, multicast (no multicast routing) and
			// class E are never forwarded (RFC 1812 §5.3.7, §4.2.2.11).
			st.Drop(stack.DropInvalidDestination)
			pkt.Release()
			continue
		}
		if !forwarding {
			st.Drop(stack.DropInvalidDestination)
			pkt.Release()
			continue
		}
		e.forward(w, st, pkt, h, &eg)
	}
}

// checkOptions counts the options of a received packet and rejects
// malformed ones with ICMP Parameter Problem (RFC 1812 §5.2.5). Source
// routes are refused (dropped as policy), as Linux does with
// accept_source_route=0. It reports whether the packet goes on.
func (e *Endpoint) checkOptions(w *stack.Worker, st *stack.IPStats, pkt *stack.PacketBuffer, h header.IPv4) bool {
	it := h.OptionIterator()
	for opt, ok := it.Next(); ok; opt, ok = it.Next() {
		switch opt.Type {
		case header.IPv4OptionNOP:
		case header.IPv4OptionTimestamp:
			st.OptionTimestampReceived++
		case header.IPv4OptionRecordRoute:
			st.OptionRecordRouteReceived++
		case header.IPv4OptionRouterAlert:
			st.OptionRouterAlertReceived++
		case header.IPv4OptionLSRR, header.IPv4OptionSSRR:
			st.Drop(stack.DropPolicy)
			pkt.Release()
			return false
		default:
			st.OptionUnknownReceived++
		}
	}
	if it.Err() != nil {
		st.Drop(stack.DropMalformed)
		e.sendICMPError(w, pkt, header.ICMPv4ParamProblem, header.ICMPv4PointerIndicatesError, uint32(it.ErrOffset())<<24)
		pkt.Release()
		return false
	}
	return true
}
