package stack

// DropReason is why the stack dropped an IP packet. Every dropped packet
// increments exactly one reason, so the reasons add up to the drops. The
// names follow gVisor's IPStats and IPForwardingStats fields.
type DropReason uint8

// Drop reasons. The first group are receive-side drops, the second
// forwarding drops; the String values are the bounded `reason` label that
// metrics export.
const (
	// DropDisabled: the packet arrived on a NIC whose protocol is disabled.
	DropDisabled DropReason = iota
	// DropMalformed: the header failed validation (version, length, checksum).
	DropMalformed
	// DropMalformedFragment: a fragment with an impossible offset or length.
	DropMalformedFragment
	// DropInvalidDestination: a destination the router must never forward
	// or accept (martian, limited broadcast, directed broadcast …).
	DropInvalidDestination
	// DropInvalidSource: a martian, multicast or broadcast source.
	DropInvalidSource
	// DropPolicy: dropped by policy (kept for parity with IPTablesDropped).
	DropPolicy
	// DropUnknownProtocol: for us, but no handler for its protocol.
	DropUnknownProtocol
	// DropUnrouteable: no route to the destination.
	DropUnrouteable
	// DropExhaustedTTL: TTL or hop limit would reach zero.
	DropExhaustedTTL
	// DropInitializingSource: source 0.0.0.0/8 or :: on a transit packet.
	DropInitializingSource
	// DropLinkLocalSource: a link-local source must not leave its link.
	DropLinkLocalSource
	// DropLinkLocalDestination: a link-local destination must not be routed.
	DropLinkLocalDestination
	// DropPacketTooBig: larger than the egress MTU and not fragmentable.
	DropPacketTooBig
	// DropHostUnreachable: the next hop's link address could not be resolved.
	DropHostUnreachable
	// DropExtensionHeaderProblem: an IPv6 extension header was in error.
	DropExtensionHeaderProblem
	// DropUnexpectedMulticastInputInterface is kept for gVisor parity.
	DropUnexpectedMulticastInputInterface
	// DropUnknownOutputEndpoint: the route names a NIC that is gone or down.
	DropUnknownOutputEndpoint
	// DropNoMulticastPendingQueueBufferSpace is kept for gVisor parity.
	DropNoMulticastPendingQueueBufferSpace
	// DropOutgoingDeviceNoBufferSpace: the egress ring was full.
	DropOutgoingDeviceNoBufferSpace
	// DropNeighborQueueFull: the packet waited for neighbour resolution and
	// was pushed out of the bounded per-neighbour queue by a newer one.
	DropNeighborQueueFull
	// DropRouteBlackhole: the route is a blackhole (silent discard).
	DropRouteBlackhole
	// DropRouteUnreachable: the route is of type unreachable.
	DropRouteUnreachable
	// DropRouteProhibit: the route is of type prohibit.
	DropRouteProhibit
	// DropBroadcastFrame: a unicast IP packet that came in a link-layer
	// broadcast or multicast frame (RFC 1812 §5.3.4).
	DropBroadcastFrame
	// DropGSOUnsupported: a super-packet whose headers contradict its GSO
	// metadata (IP version, transport protocol, a fragment, lengths, a zero
	// gso_size), so it can be neither cut in software nor handed to a link
	// to cut.
	DropGSOUnsupported
	// DropErrors: any other forwarding error.
	DropErrors

	// NumDropReasons is the number of reasons; it sizes counter arrays.
	NumDropReasons
)

var dropReasonNames = [NumDropReasons]string{
	DropDisabled:                           "disabled",
	DropMalformed:                          "malformed",
	DropMalformedFragment:                  "malformed_fragment",
	DropInvalidDestination:                 "invalid_destination",
	DropInvalidSource:                      "invalid_source",
	DropPolicy:                             "policy",
	DropUnknownProtocol:                    "unknown_protocol",
	DropUnrouteable:                        "unrouteable",
	DropExhaustedTTL:                       "exhausted_ttl",
	DropInitializingSource:                 "initializing_source",
	DropLinkLocalSource:                    "link_local_source",
	DropLinkLocalDestination:               "link_local_destination",
	DropPacketTooBig:                       "packet_too_big",
	DropHostUnreachable:                    "host_unreachable",
	DropExtensionHeaderProblem:             "extension_header_problem",
	DropUnexpectedMulticastInputInterface:  "unexpected_multicast_input_interface",
	DropUnknownOutputEndpoint:              "unknown_output_endpoint",
	DropNoMulticastPendingQueueBufferSpace: "no_multicast_pending_queue_buffer_space",
	DropOutgoingDeviceNoBufferSpace:        "outgoing_device_no_buffer_space",
	DropNeighborQueueFull:                  "neighbor_queue_full",
	DropRouteBlackhole:                     "route_blackhole",
	DropRouteUnreachable:                   "route_unreachable",
	DropRouteProhibit:                      "route_prohibit",
	DropBroadcastFrame:                     "broadcast_frame",
	DropGSOUnsupported:                     "gso_unsupported",
	DropErrors:                             "errors",
}

// String is the metrics label of the reason.
func (r DropReason) String() string {
	if r < NumDropReasons {
		return dropReasonNames[r]
	}
	return "unknown"
}

// IPStats are the IP counters of one network endpoint (one NIC, one IP
// version). On the data path each worker owns one IPStats and bumps plain
// uint64s; Stats() on an endpoint sums the workers' copies at scrape time.
//
// Reading a copy that a worker is updating is a benign race on 64-bit
// platforms: each counter is one aligned word and only grows.
type IPStats struct {
	// PacketsReceived is every IP packet handed to the endpoint.
	PacketsReceived uint64
	// ValidPacketsReceived passed header validation.
	ValidPacketsReceived uint64
	// PacketsDelivered were for the router itself and were consumed.
	PacketsDelivered uint64
	// PacketsSent is every packet the endpoint wrote to its link
	// (forwarded and locally generated).
	PacketsSent uint64
	// OutgoingPacketErrors are packets the link refused.
	OutgoingPacketErrors uint64
	// Forwarded and ForwardedBytes count packets sent on towards their
	// destination (counted on the ingress endpoint).
	Forwarded      uint64
	ForwardedBytes uint64
	// FragmentsCreated counts IPv4 fragments made on this egress endpoint.
	FragmentsCreated uint64

	// IP options seen on received packets (RFC 791).
	OptionTimestampReceived   uint64
	OptionRecordRouteReceived uint64
	OptionRouterAlertReceived uint64
	OptionUnknownReceived     uint64

	// Drops counts dropped packets by reason; index with a DropReason.
	Drops [NumDropReasons]uint64

	_ [cacheLinePad]byte
}

// cacheLinePad keeps two workers' IPStats off each other's cache lines.
const cacheLinePad = 64

// Drop counts one dropped packet under reason r.
func (s *IPStats) Drop(r DropReason) { s.Drops[r]++ }

// DropAll counts every packet of pkts as received and dropped under r, and
// releases them: a whole batch refused at once (a disabled endpoint).
func (s *IPStats) DropAll(pkts []*PacketBuffer, r DropReason) {
	for _, pkt := range pkts {
		s.PacketsReceived++
		s.Drops[r]++
		pkt.Release()
	}
}

// TotalDrops is the sum over every reason.
func (s *IPStats) TotalDrops() uint64 {
	var n uint64
	for _, d := range s.Drops {
		n += d
	}
	return n
}

// Add adds o's counters into s (used to sum the per-worker copies).
func (s *IPStats) Add(o *IPStats) {
	s.PacketsReceived += o.PacketsReceived
	s.ValidPacketsReceived += o.ValidPacketsReceived
	s.PacketsDelivered += o.PacketsDelivered
	s.PacketsSent += o.PacketsSent
	s.OutgoingPacketErrors += o.OutgoingPacketErrors
	s.Forwarded += o.Forwarded
	s.ForwardedBytes += o.ForwardedBytes
	s.FragmentsCreated += o.FragmentsCreated
	s.OptionTimestampReceived += o.OptionTimestampReceived
	s.OptionRecordRouteReceived += o.OptionRecordRouteReceived
	s.OptionRouterAlertReceived += o.OptionRouterAlertReceived
	s.OptionUnknownReceived += o.OptionUnknownReceived
	for i := range s.Drops {
		s.Drops[i] += o.Drops[i]
	}
}

// MaxWorkers bounds the number of data-path workers (RX queues served at
// once) so per-worker counter blocks are fixed arrays.
const MaxWorkers = 64

// PerWorkerIPStats is one IPStats block per worker.
type PerWorkerIPStats [MaxWorkers]IPStats

// Sum adds up every worker's block.
func (p *PerWorkerIPStats) Sum() IPStats {
	var s IPStats
	for i := range p {
		s.Add(&p[i])
	}
	return s
}
