package stack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
)

// Protocol slots index per-NIC protocol tables, so dispatch by EtherType is
// an array index rather than a map lookup.
const (
	slotIPv4 = iota
	slotARP
	slotIPv6
	numProtoSlots
)

func protoSlot(n NetworkProtocolNumber) int {
	switch n {
	case IPv4ProtocolNumber:
		return slotIPv4
	case ARPProtocolNumber:
		return slotARP
	case IPv6ProtocolNumber:
		return slotIPv6
	}
	return -1
}

const ethernetHeaderSize = 14

// NICStats are link-level counters of one NIC for one worker.
type NICStats struct {
	// RXFrames counts frames delivered by the link.
	RXFrames uint64
	// RXUnknownEtherType counts frames of a protocol the stack does not run.
	RXUnknownEtherType uint64
	// RXNotForUs counts unicast frames addressed to another MAC.
	RXNotForUs uint64
	// RXRunt counts frames shorter than an Ethernet header.
	RXRunt uint64
	// RXDisabled counts frames that arrived while the NIC was disabled.
	RXDisabled uint64
	// TXFrames counts frames the link accepted; TXDropped those it refused
	// (ring full, link down).
	TXFrames  uint64
	TXDropped uint64
	// TXGSOSegmented counts super-packets the stack cut in software for
	// this link (it takes no GSO); TXGSOSegments the segments made of them,
	// which TXFrames counts again as they leave.
	TXGSOSegmented uint64
	TXGSOSegments  uint64
	// TXRefused splits TXDropped's refusals by the link (not the frames
	// WriteEthernet could not build) by protocol slot, so the IP endpoints
	// can count them as OutgoingPacketErrors (see Worker.flushNIC).
	TXRefused [numProtoSlots]uint64
	_         [cacheLinePad]byte
}

func (s *NICStats) add(o *NICStats) {
	s.RXFrames += o.RXFrames
	s.RXUnknownEtherType += o.RXUnknownEtherType
	s.RXNotForUs += o.RXNotForUs
	s.RXRunt += o.RXRunt
	s.RXDisabled += o.RXDisabled
	s.TXFrames += o.TXFrames
	s.TXDropped += o.TXDropped
	s.TXGSOSegmented += o.TXGSOSegmented
	s.TXGSOSegments += o.TXGSOSegments
	for i := range s.TXRefused {
		s.TXRefused[i] += o.TXRefused[i]
	}
}

// nicAddrs is an immutable snapshot of a NIC's addresses.
type nicAddrs struct {
	v4 []netip.Prefix
	v6 []netip.Prefix
}

// NIC is one network interface in the stack: a link endpoint plus the
// protocol endpoints, addresses and counters that belong to it.
type NIC struct {
	stack    *Stack
	id       NICID
	name     string
	link     LinkEndpoint
	linkAddr LinkAddress

	enabled atomic.Bool
	eps     [numProtoSlots]NetworkEndpoint
	addrs   atomic.Pointer[nicAddrs]
	neigh   [numProtoSlots]*NeighborCache
	caps    LinkEndpointCapabilities
	// gsoFilter is the link as a GSOTypeFilter, or nil when it takes
	// every GSO type its capabilities promise.
	gsoFilter GSOTypeFilter

	stats [MaxWorkers]NICStats
}

var _ NetworkDispatcher = (*NIC)(nil)

// ID is the NIC's ID in its stack.
func (n *NIC) ID() NICID { return n.id }

// Name is the interface name given at creation (e.g. "eth1").
func (n *NIC) Name() string { return n.name }

// Stack is the stack the NIC belongs to.
func (n *NIC) Stack() *Stack { return n.stack }

// LinkEndpoint is the link the NIC sends and receives through.
func (n *NIC) LinkEndpoint() LinkEndpoint { return n.link }

// LinkAddress is the NIC's MAC address.
func (n *NIC) LinkAddress() LinkAddress { return n.linkAddr }

// MTU is the link MTU.
func (n *NIC) MTU() uint32 { return n.link.MTU() }

// Enabled reports whether the NIC accepts and sends packets.
func (n *NIC) Enabled() bool { return n.enabled.Load() }

// Enable starts the NIC and its protocol endpoints.
func (n *NIC) Enable() error {
	for _, ep := range n.eps {
		if ep == nil {
			continue
		}
		if err := ep.Enable(); err != nil {
			return fmt.Errorf("enable NIC %q: %w", n.name, err)
		}
	}
	n.enabled.Store(true)
	return nil
}

// Disable stops the NIC: received frames are counted and dropped.
func (n *NIC) Disable() {
	n.enabled.Store(false)
	for _, ep := range n.eps {
		if ep != nil {
			ep.Disable()
		}
	}
}

// NetworkEndpoint is the NIC's endpoint of protocol proto, or nil.
func (n *NIC) NetworkEndpoint(proto NetworkProtocolNumber) NetworkEndpoint {
	if s := protoSlot(proto); s >= 0 {
		return n.eps[s]
	}
	return nil
}

// Neighbors is the neighbour cache for proto's next hops (ARP's for IPv4,
// NDP's for IPv6), or nil when the link needs no resolution.
func (n *NIC) Neighbors(proto NetworkProtocolNumber) *NeighborCache {
	if s := protoSlot(proto); s >= 0 {
		return n.neigh[s]
	}
	return nil
}

// WriteToNextHop sends a packet whose data starts at its network header to
// the link address of nextHop, resolving it when the cache has no entry.
// It takes ownership of pkt and reports whether pkt went to the link now
// (true: the caller counts it sent, and forwarded if it is transit) or was
// taken by the neighbour cache (false): queued until resolution, when the
// cache calls LinkResolutionHandler.HandleResolved just before sending it,
// or handed back to the protocol as a counted drop. Either way the packet
// is counted exactly once.
func (n *NIC) WriteToNextHop(w *Worker, nextHop netip.Addr, pkt *PacketBuffer) bool {
	var c *NeighborCache
	slot := protoSlot(pkt.NetworkProtocol)
	if slot >= 0 {
		c = n.neigh[slot]
	}
	if c == nil {
		// A link without resolution (point-to-point): broadcast MAC.
		n.WriteEthernet(w, pkt, BroadcastLinkAddress, pkt.NetworkProtocol)
		return true
	}
	if l := c.lookupLink(w, nextHop); l != nil {
		n.writeEthernet(w, pkt, &l.linkAddr, pkt.NetworkProtocol, int8(slot))
		return true
	}
	if mac, ok := c.ResolveOrQueue(w, nextHop, pkt); ok {
		n.WriteEthernet(w, pkt, mac, pkt.NetworkProtocol)
		return true
	}
	return false
}

// TXRefused is how many frames of protocol proto the link refused (ring or
// queue full, link down) after the stack handed them over, summed over all
// workers. The IP endpoints export them as OutgoingPacketErrors and as
// drops with reason DropOutgoingDeviceNoBufferSpace.
func (n *NIC) TXRefused(proto NetworkProtocolNumber) uint64 {
	slot := protoSlot(proto)
	if slot < 0 {
		return 0
	}
	var r uint64
	for i := range n.stats {
		r += n.stats[i].TXRefused[slot]
	}
	return r
}

// Stats sums the NIC's link-level counters over all workers.
func (n *NIC) Stats() NICStats {
	var s NICStats
	for i := range n.stats {
		s.add(&n.stats[i])
	}
	return s
}

// ErrDuplicateAddress is returned when an address is assigned twice.
var ErrDuplicateAddress = errors.New("address already assigned")

// ErrNoSuchAddress is returned when removing an address the NIC lacks.
var ErrNoSuchAddress = errors.New("address not assigned")

// AddAddress assigns addr (with its on-link prefix length) to the NIC and
// installs the connected route for its prefix.
func (n *NIC) AddAddress(addr netip.Prefix) error {
	switch a := addr.Addr(); {
	case !addr.IsValid():
		return fmt.Errorf("NIC %q: invalid address %v", n.name, addr)
	case a.IsUnspecified(), a.IsMulticast(), a.Is4In6(), a.Zone() != "":
		return fmt.Errorf("NIC %q: %v cannot be an interface address (unspecified, multicast, IPv4-mapped or zoned)", n.name, addr)
	case addr.Bits() == 0:
		return fmt.Errorf("NIC %q: %v has a /0 prefix; an interface address needs its subnet's length", n.name, addr)
	}
	s := n.stack
	s.mu.Lock()
	defer s.mu.Unlock()
	if other := s.nicWithAddressLocked(addr.Addr()); other != nil {
		return fmt.Errorf("NIC %q: %v: %w (on %q)", n.name, addr.Addr(), ErrDuplicateAddress, other.name)
	}
	old := n.addrs.Load()
	next := &nicAddrs{v4: slices.Clone(old.v4), v6: slices.Clone(old.v6)}
	if addr.Addr().Is4() {
		next.v4 = append(next.v4, addr)
	} else {
		next.v6 = append(next.v6, addr)
	}
	// Link-local prefixes are on every link and never routed (RFC 4291
	// §2.5.6, RFC 3927 §7), so they get no connected route.
	if !addr.Addr().IsLinkLocalUnicast() {
		if err := s.addConnectedRouteLocked(n, addr); err != nil {
			return err
		}
	}
	n.addrs.Store(next)
	s.publishLocalAddrsLocked()
	return nil
}

// RemoveAddress unassigns addr and removes its connected route when no
// other address of the NIC still covers the prefix.
func (n *NIC) RemoveAddress(addr netip.Addr) error {
	s := n.stack
	s.mu.Lock()
	defer s.mu.Unlock()
	old := n.addrs.Load()
	next := &nicAddrs{v4: slices.Clone(old.v4), v6: slices.Clone(old.v6)}
	list := &next.v4
	if addr.Is6() {
		list = &next.v6
	}
	i := slices.IndexFunc(*list, func(p netip.Prefix) bool { return p.Addr() == addr })
	if i < 0 {
		return fmt.Errorf("NIC %q: %v: %w", n.name, addr, ErrNoSuchAddress)
	}
	removed := (*list)[i]
	*list = slices.Delete(*list, i, i+1)
	n.addrs.Store(next)
	if !addr.IsLinkLocalUnicast() {
		s.removeConnectedRouteLocked(n, removed)
	}
	s.publishLocalAddrsLocked()
	return nil
}

// Addresses lists the NIC's addresses, IPv4 first.
func (n *NIC) Addresses() []netip.Prefix {
	a := n.addrs.Load()
	return append(slices.Clone(a.v4), a.v6...)
}

// IPv6Addresses returns the NIC's IPv6 addresses without copying: the
// slice is the current immutable snapshot and must not be modified. It is
// the data path's allocation-free way to match solicited-node groups.
func (n *NIC) IPv6Addresses() []netip.Prefix { return n.addrs.Load().v6 }

// HasAddress reports whether addr is assigned to this NIC. Lock-free and
// allocation-free: the data path calls it.
func (n *NIC) HasAddress(addr netip.Addr) bool {
	a := n.addrs.Load()
	list := a.v4
	if addr.Is6() {
		list = a.v6
	}
	for _, p := range list {
		if p.Addr() == addr {
			return true
		}
	}
	return false
}

// PrimaryAddress is the NIC's first address of addr's family that is on the
// same subnet as addr (so replies and errors come from the address the peer
// knows), else the first of the family; invalid if there is none.
func (n *NIC) PrimaryAddress(near netip.Addr) netip.Addr {
	a := n.addrs.Load()
	list := a.v4
	if near.Is6() {
		list = a.v6
	}
	for _, p := range list {
		if p.Contains(near) {
			return p.Addr()
		}
	}
	if near.Is6() && !near.IsLinkLocalUnicast() {
		// Prefer a global source for a global peer.
		for _, p := range list {
			if !p.Addr().IsLinkLocalUnicast() {
				return p.Addr()
			}
		}
	}
	if len(list) > 0 {
		return list[0].Addr()
	}
	return netip.Addr{}
}

// OnLinkPrefix returns the NIC's address prefix that contains addr.
func (n *NIC) OnLinkPrefix(addr netip.Addr) (netip.Prefix, bool) {
	a := n.addrs.Load()
	list := a.v4
	if addr.Is6() {
		list = a.v6
	}
	for _, p := range list {
		if p.Contains(addr) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// DeliverNetworkPackets implements NetworkDispatcher: it parses each
// frame's Ethernet header, sorts the batch by protocol, hands each
// protocol its part in one call, and then flushes the worker so every
// egress NIC gets one WritePackets for the whole batch.
//
// The frames it keeps are compacted in place in pkts (it owns the list
// for the call), so the usual batch of one protocol goes to its endpoint
// as is; only a batch that mixes protocols is copied into per-protocol
// lists.
func (n *NIC) DeliverNetworkPackets(w *Worker, pkts *PacketBufferList) {
	st := &n.stats[w.id]
	if !n.enabled.Load() {
		st.RXDisabled += uint64(pkts.Len())
		pkts.Release()
		return
	}
	w.StartBatch()
	all := pkts.AsSlice()
	st.RXFrames += uint64(len(all))
	// The destination MAC is compared as one 48-bit word.
	self := mac48(n.linkAddr[:])
	kept := all[:0]
	var seen uint // bit s set: a frame for protocol slot s was kept
	slot := -1
	for _, pkt := range all {
		d := pkt.Data()
		if len(d) < ethernetHeaderSize {
			st.RXRunt++
			pkt.Release()
			continue
		}
		switch dst := mac48(d); {
		case dst == self:
			pkt.PktType = PacketHost
		case dst == broadcastMAC48:
			pkt.PktType = PacketBroadcast
		case d[0]&1 != 0:
			pkt.PktType = PacketMulticast
		default:
			// Not for this port: a promiscuous link saw another host's frame.
			st.RXNotForUs++
			pkt.Release()
			continue
		}
		proto := NetworkProtocolNumber(binary.BigEndian.Uint16(d[12:14]))
		s := protoSlot(proto)
		if s < 0 || n.eps[s] == nil {
			st.RXUnknownEtherType++
			pkt.Release()
			continue
		}
		slot = s
		seen |= 1 << s
		pkt.LinkHeaderOffset = pkt.head
		pkt.head += ethernetHeaderSize
		pkt.NetworkHeaderOffset = pkt.head
		pkt.NetworkProtocol = proto
		pkt.NICID = n.id
		kept = append(kept, pkt)
	}
	switch {
	case seen == 0:
	case seen&(seen-1) == 0:
		// One protocol: slot is the last frame kept, so it is that one.
		n.eps[slot].HandlePackets(w, kept)
	default:
		for _, pkt := range kept {
			s := protoSlot(pkt.NetworkProtocol)
			w.rx[s] = append(w.rx[s], pkt)
		}
		for s := range w.rx {
			if len(w.rx[s]) == 0 {
				continue
			}
			n.eps[s].HandlePackets(w, w.rx[s])
			clear(w.rx[s])
			w.rx[s] = w.rx[s][:0]
		}
	}
	pkts.Reset()
	w.Flush()
}

// broadcastMAC48 is ff:ff:ff:ff:ff:ff as mac48 returns it.
const broadcastMAC48 = 1<<48 - 1

// mac48 is the MAC address at the start of b (len(b) >= 6) as a 48-bit
// word, for comparing addresses with one instruction.
func mac48(b []byte) uint64 {
	_ = b[5]
	return uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint16(b[4:]))<<32
}

// DeliverNetworkPacket implements NetworkDispatcher for one packet whose
// link header was already consumed.
func (n *NIC) DeliverNetworkPacket(w *Worker, proto NetworkProtocolNumber, pkt *PacketBuffer) {
	st := &n.stats[w.id]
	st.RXFrames++
	slot := protoSlot(proto)
	if !n.enabled.Load() || slot < 0 || n.eps[slot] == nil {
		if !n.enabled.Load() {
			st.RXDisabled++
		} else {
			st.RXUnknownEtherType++
		}
		pkt.Release()
		return
	}
	w.StartBatch()
	pkt.NetworkHeaderOffset = pkt.Start()
	pkt.NetworkProtocol = proto
	pkt.NICID = n.id
	one := w.rx[slot][:0]
	one = append(one, pkt)
	n.eps[slot].HandlePackets(w, one)
	clear(one)
	w.rx[slot] = one[:0]
	w.Flush()
}

// WriteEthernet prepends an Ethernet header to a packet whose data starts at
// its network header and queues it on the worker for this NIC. It takes
// ownership of pkt; a packet without headroom is dropped and counted. A
// super-packet for a link that cannot take it whole is segmented here
// (writeSegments), one frame per segment.
func (n *NIC) WriteEthernet(w *Worker, pkt *PacketBuffer, dst LinkAddress, proto NetworkProtocolNumber) {
	n.writeEthernet(w, pkt, &dst, proto, int8(protoSlot(pkt.NetworkProtocol)))
}

// writeEthernet is WriteEthernet with the destination by pointer (a
// [6]byte argument travels through memory) and with the protocol slot of
// pkt.NetworkProtocol already known, for Worker.send.
func (n *NIC) writeEthernet(w *Worker, pkt *PacketBuffer, dst *LinkAddress, proto NetworkProtocolNumber, slot int8) {
	if pkt.GSO.Type != GSONone && !n.takesGSO(pkt.GSO.Type) {
		n.writeSegments(w, pkt, *dst, proto)
		return
	}
	if pkt.GSO.NeedsCsum && pkt.GSO.Type == GSONone && n.caps&CapabilityTXChecksumOffload == 0 {
		// The sender left the L4 checksum to offload (a local Linux stack
		// on a veth does); this link cannot finish it, so the router does.
		if !CompleteChecksum(pkt) {
			n.stats[w.id].TXDropped++
			pkt.Release()
			return
		}
	}
	h := pkt.Prepend(ethernetHeaderSize)
	if h == nil {
		n.stats[w.id].TXDropped++
		pkt.Release()
		return
	}
	copy(h[0:6], dst[:])
	copy(h[6:12], n.linkAddr[:])
	binary.BigEndian.PutUint16(h[12:14], uint16(proto))
	pkt.LinkHeaderOffset = pkt.Start()
	w.send(n, pkt, slot)
}

// CanTakeGSO reports whether the NIC's link accepts super-packets whole (it
// or the kernel behind it segments them), of at least some GSO types.
func (n *NIC) CanTakeGSO() bool {
	return n.caps&(CapabilitySoftwareGSO|CapabilityHardwareGSO) != 0
}

// takesGSO reports whether the link takes a super-packet of type t whole:
// it can take GSO and, if it filters types (GSOTypeFilter), accepts t.
func (n *NIC) takesGSO(t GSOType) bool {
	return n.CanTakeGSO() && (n.gsoFilter == nil || n.gsoFilter.AcceptsGSO(t))
}
