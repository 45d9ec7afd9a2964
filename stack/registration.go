package stack

import "net/netip"

// LinkEndpointCapabilities are what a link can do for the stack, so the
// stack can skip work the hardware (or the kernel) already did.
type LinkEndpointCapabilities uint32

// Link capabilities, named as in gVisor.
const (
	// CapabilityRXChecksumOffload: received frames carry a verified
	// checksum indication (PacketBuffer.RXChecksumValidated).
	CapabilityRXChecksumOffload LinkEndpointCapabilities = 1 << iota
	// CapabilityTXChecksumOffload: the link completes L4 checksums of frames
	// marked GSO.NeedsCsum on transmit.
	CapabilityTXChecksumOffload
	// CapabilityResolutionRequired: next hops need ARP/NDP (Ethernet).
	CapabilityResolutionRequired
	// CapabilitySoftwareGSO: the link accepts super-packets and segments
	// them itself (e.g. via a virtio_net_hdr handed to the kernel).
	CapabilitySoftwareGSO
	// CapabilityHardwareGSO: the NIC segments super-packets.
	CapabilityHardwareGSO
	// CapabilityLoopback: the link loops frames back (not Ethernet).
	CapabilityLoopback
)

// LinkEndpoint is a network interface as the stack sees it: an Ethernet
// port that receives frames into a NetworkDispatcher and sends batches.
type LinkEndpoint interface {
	// MTU is the largest IP packet the link carries (Ethernet payload).
	MTU() uint32
	// MaxHeaderLength is the link header the stack must leave room for.
	MaxHeaderLength() uint16
	// LinkAddress is the port's MAC address.
	LinkAddress() LinkAddress
	// Capabilities reports what the link offloads.
	Capabilities() LinkEndpointCapabilities
	// Attach sets the dispatcher that received frames go to; nil detaches.
	Attach(d NetworkDispatcher)
	// IsAttached reports whether a dispatcher is set.
	IsAttached() bool
	// WritePackets sends complete Ethernet frames (link header included). It
	// takes ownership of every packet in pkts, sent or not, and returns how
	// many were sent. One call is one doorbell: callers batch.
	WritePackets(pkts PacketBufferList) (int, error)
	// Wait blocks until the link's own goroutines (if any) have stopped.
	Wait()
	// Close releases the link's kernel resources.
	Close()
}

// GSOTypeFilter is implemented by links that take super-packets
// (CapabilitySoftwareGSO or CapabilityHardwareGSO) only of some GSO types,
// e.g. a PACKET_MMAP link without vnet headers for the kernel to segment
// by. The NIC looks it up once at creation and asks once per super-packet;
// a refused one is segmented by the stack (writeSegments).
type GSOTypeFilter interface {
	// AcceptsGSO reports whether the link segments super-packets of type
	// t itself. It runs on the packet path: no locks, no allocation.
	AcceptsGSO(t GSOType) bool
}

// QueuePoller is implemented by links whose receive side is driven by stack
// workers rather than by goroutines of their own: a worker polls the RX
// queues it serves and runs each batch to completion.
type QueuePoller interface {
	// NumRXQueues is how many RX queues the link has.
	NumRXQueues() int
	// Poll takes up to BatchSize frames from RX queue q and delivers them to
	// the attached dispatcher on worker w. It returns how many it delivered;
	// 0 means the queue was empty.
	Poll(w *Worker, q int) int
}

// NetworkDispatcher receives frames from a link. The NIC implements it.
type NetworkDispatcher interface {
	// DeliverNetworkPacket hands one packet whose data starts at its network
	// header (the link already consumed its header) to protocol proto.
	DeliverNetworkPacket(w *Worker, proto NetworkProtocolNumber, pkt *PacketBuffer)
	// DeliverNetworkPackets hands a batch of Ethernet frames (data starting
	// at the Ethernet header) to the stack. It takes ownership of every
	// packet; the list itself stays the caller's.
	DeliverNetworkPackets(w *Worker, pkts *PacketBufferList)
}

// NetworkProtocol is a network-layer protocol (IPv4, IPv6, ARP) that the
// stack dispatches frames to by EtherType.
type NetworkProtocol interface {
	// Number is the EtherType the protocol is carried in.
	Number() NetworkProtocolNumber
	// MinimumPacketSize is the smallest valid packet.
	MinimumPacketSize() int
	// ParseAddresses returns the source and destination of a packet that
	// starts at the protocol's header, or invalid addresses if too short.
	ParseAddresses(b []byte) (src, dst netip.Addr)
	// NewEndpoint creates the protocol's endpoint on a NIC.
	NewEndpoint(nic *NIC) NetworkEndpoint
}

// ForwardingNetworkProtocol is a NetworkProtocol that can route packets
// between NICs. Like the kernel's net.ipv4.conf.all.forwarding, the
// protocol-wide setting is the default for new NICs and SetForwarding
// changes every NIC; each endpoint can also be set on its own.
type ForwardingNetworkProtocol interface {
	NetworkProtocol
	// Forwarding is the protocol-wide default for new endpoints.
	Forwarding() bool
	// SetForwarding sets the default and every existing endpoint.
	SetForwarding(v bool)
}

// NetworkEndpoint is one protocol on one NIC.
type NetworkEndpoint interface {
	// Enable starts accepting packets; Disable drops them (counted).
	Enable() error
	Disable()
	Enabled() bool
	// DefaultTTL is the TTL or hop limit of packets the router originates.
	DefaultTTL() uint8
	// MTU is the largest packet the endpoint sends without fragmenting.
	MTU() uint32
	// HandlePackets processes a batch of received packets whose
	// NetworkHeaderOffset is set and whose data starts at it. It takes
	// ownership of every packet.
	HandlePackets(w *Worker, pkts []*PacketBuffer)
	// Stats sums the endpoint's per-worker counters.
	Stats() IPStats
	// Close releases the endpoint's resources (queued packets).
	Close()
}

// ForwardingNetworkEndpoint is a NetworkEndpoint whose forwarding can be
// switched on and off per NIC.
type ForwardingNetworkEndpoint interface {
	NetworkEndpoint
	Forwarding() bool
	// SetForwarding sets forwarding and returns the previous value.
	SetForwarding(v bool) bool
}

// LinkAddressResolver resolves network addresses to link addresses on a
// NIC: ARP for IPv4, NDP for IPv6. The neighbour cache drives it.
type LinkAddressResolver interface {
	// LinkAddressRequest queues a request for target on worker w (sent at
	// w's next Flush). local is the source address to use (invalid: pick
	// one of the NIC's); remoteLinkAddr is the unicast address to probe, or
	// the zero LinkAddress to multicast or broadcast. Unlike gVisor it
	// takes the worker, so the request joins the worker's TX batch.
	LinkAddressRequest(w *Worker, target, local netip.Addr, remoteLinkAddr LinkAddress, nic *NIC) error
	// ResolveStaticAddress maps addresses that need no resolution
	// (broadcast, multicast) to their link address.
	ResolveStaticAddress(addr netip.Addr) (LinkAddress, bool)
	// LinkAddressProtocol is the protocol whose addresses it resolves.
	LinkAddressProtocol() NetworkProtocolNumber
}

// LinkResolutionHandler is implemented by the network endpoint whose
// packets wait in a neighbour cache (IPv4 for ARP, IPv6 for NDP). The cache
// hands back what it cannot deliver; the endpoint answers and counts it.
type LinkResolutionHandler interface {
	// HandleLinkResolutionFailure takes a packet whose next hop never
	// answered: the endpoint sends ICMP Host/Address Unreachable to its
	// source (RFC 1812 §5.2.7.1, RFC 4443 §3.1) and counts the drop.
	HandleLinkResolutionFailure(w *Worker, pkt *PacketBuffer)
	// HandleNeighborDrop takes a packet the cache had to drop (queue full,
	// table full) and counts it under reason.
	HandleNeighborDrop(w *Worker, pkt *PacketBuffer, reason DropReason)
	// HandleResolved is called for each packet that waited for resolution,
	// just before the cache hands it to the link on w: the endpoint counts
	// it sent (PacketsSent) and, for a transit packet (PacketBuffer.
	// TransitBytes set), forwarded on its ingress endpoint (NICID). The
	// packet still belongs to the cache; the handler must neither keep nor
	// release it. Packets that did not wait are counted by the protocol
	// when NIC.WriteToNextHop reports them sent, so the resolved path
	// makes no call here.
	HandleResolved(w *Worker, pkt *PacketBuffer)
}
