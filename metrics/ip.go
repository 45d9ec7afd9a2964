package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nexthop-router/nexthop/ipv4"
	"github.com/nexthop-router/nexthop/ipv6"
	"github.com/nexthop-router/nexthop/stack"
)

// ipMetrics export stack.IPStats (DESIGN.md §3) per interface and IP
// version. The receive-side and forwarding drops of §3 are one family
// with a bounded reason label: stack.DropReason's String values.
type ipMetrics struct {
	received, valid, delivered, sent, outErrors metric
	forwarded, forwardedBytes                   metric
	fragmentsCreated, options                   metric
	dropped                                     metric
}

func newIPMetrics(f family) ipMetrics {
	l := []string{labelInterface, labelIP}
	return ipMetrics{
		received:         f.counter("ip_packets_received_total", "IP packets handed to the interface's IP endpoint (PacketsReceived).", l...),
		valid:            f.counter("ip_packets_valid_total", "Received IP packets that passed header validation (ValidPacketsReceived).", l...),
		delivered:        f.counter("ip_packets_delivered_total", "Received IP packets addressed to the router and consumed by it (PacketsDelivered).", l...),
		sent:             f.counter("ip_packets_sent_total", "IP packets handed to the interface's link, forwarded and locally generated (PacketsSent); a packet waiting for neighbour resolution counts when it leaves.", l...),
		outErrors:        f.counter("ip_outgoing_errors_total", "IP packets the interface's link refused after they were counted sent (ring or queue full; OutgoingPacketErrors); each is also a drop with reason outgoing_device_no_buffer_space.", l...),
		forwarded:        f.counter("ip_forwarded_packets_total", "IP packets forwarded towards their destination, counted on the ingress interface when handed to the egress link (after neighbour resolution if they waited for it).", l...),
		forwardedBytes:   f.counter("ip_forwarded_bytes_total", "Bytes of IP packets forwarded (IP header included), counted on the ingress interface.", l...),
		fragmentsCreated: f.counter("ip_fragments_created_total", "IPv4 fragments made on this egress interface (IPv6 routers never fragment, RFC 8200 §5).", l...),
		options:          f.counter("ip_options_received_total", "IPv4 options seen on received packets (RFC 791), by option type.", labelInterface, labelIP, labelType),
		dropped:          f.counter("ip_dropped_packets_total", "IP packets dropped, by reason; every dropped packet counts under exactly one reason.", labelInterface, labelIP, labelReason),
	}
}

func (m *ipMetrics) collect(ch chan<- prometheus.Metric, iface, ip string, s stack.IPStats) {
	m.received.emit(ch, float64(s.PacketsReceived), iface, ip)
	m.valid.emit(ch, float64(s.ValidPacketsReceived), iface, ip)
	m.delivered.emit(ch, float64(s.PacketsDelivered), iface, ip)
	m.sent.emit(ch, float64(s.PacketsSent), iface, ip)
	m.outErrors.emit(ch, float64(s.OutgoingPacketErrors), iface, ip)
	m.forwarded.emit(ch, float64(s.Forwarded), iface, ip)
	m.forwardedBytes.emit(ch, float64(s.ForwardedBytes), iface, ip)
	if ip == "4" {
		// Fragmentation by routers and header options are IPv4-only: the
		// IPv6 endpoint never counts them, so their series would be noise.
		m.fragmentsCreated.emit(ch, float64(s.FragmentsCreated), iface, ip)
		m.options.emit(ch, float64(s.OptionTimestampReceived), iface, ip, "timestamp")
		m.options.emit(ch, float64(s.OptionRecordRouteReceived), iface, ip, "record_route")
		m.options.emit(ch, float64(s.OptionRouterAlertReceived), iface, ip, "router_alert")
		m.options.emit(ch, float64(s.OptionUnknownReceived), iface, ip, "unknown")
	}
	for r := range stack.NumDropReasons {
		m.dropped.emit(ch, float64(s.Drops[r]), iface, ip, r.String())
	}
}

// icmpMetrics export ipv4.ICMPStats and ipv6.ICMPv6Stats with one `type`
// label vocabulary for both versions where the meaning is the same
// (echo_request, time_exceeded, dst_unreachable …), so one dashboard
// query covers both.
type icmpMetrics struct {
	received, sent, invalid, rateLimited, suppressed metric
}

func newICMPMetrics(f family) icmpMetrics {
	l := []string{labelInterface, labelIP}
	return icmpMetrics{
		received:    f.counter("icmp_messages_received_total", "ICMP messages addressed to the router with a valid checksum, by message type.", labelInterface, labelIP, labelType),
		sent:        f.counter("icmp_messages_sent_total", "ICMP messages the router sent (errors, echo replies and, for IPv6, NDP), by message type.", labelInterface, labelIP, labelType),
		invalid:     f.counter("icmp_messages_invalid_total", "Received ICMP messages dropped for a bad checksum or a short message.", l...),
		rateLimited: f.counter("icmp_errors_rate_limited_total", "ICMP errors not sent because the token bucket was empty (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)).", l...),
		suppressed:  f.counter("icmp_errors_suppressed_total", "ICMP errors not sent because the RFCs forbid them (about an ICMP error, a fragment, multicast or broadcast) or there is no route back.", l...),
	}
}

// icmpv4TypeNames are the `type` labels of ipv4.ICMPStats' slots. The
// types RFC 792/950/1256 leave unassigned (1, 2, 6, 7) and the slot for
// every type past 18 all count as "other".
var icmpv4TypeNames = [ipv4.NumICMPTypes]string{
	0: "echo_reply", 1: "other", 2: "other", 3: "dst_unreachable",
	4: "source_quench", 5: "redirect", 6: "other", 7: "other",
	8: "echo_request", 9: "router_advert", 10: "router_solicit",
	11: "time_exceeded", 12: "param_problem", 13: "timestamp_request",
	14: "timestamp_reply", 15: "info_request", 16: "info_reply",
	17: "address_mask_request", 18: "address_mask_reply",
	ipv4.NumICMPTypes - 1: "other",
}

// icmpv4Label is one distinct ICMPv4 `type` label and the ICMPStats
// slots it sums.
type icmpv4Label struct {
	name  string
	slots []int
}

// icmpv4Types lists each distinct label once, in slot order.
var icmpv4Types = func() []icmpv4Label {
	var out []icmpv4Label
	idx := map[string]int{}
	for slot, name := range icmpv4TypeNames {
		i, ok := idx[name]
		if !ok {
			i = len(out)
			idx[name] = i
			out = append(out, icmpv4Label{name: name})
		}
		out[i].slots = append(out[i].slots, slot)
	}
	return out
}()

func (m *icmpMetrics) collect(ch chan<- prometheus.Metric, iface, ip string, ep stack.NetworkEndpoint) {
	switch e := ep.(type) {
	case *ipv4.Endpoint:
		s := e.ICMPStats()
		for _, t := range icmpv4Types {
			var in, out uint64
			for _, slot := range t.slots {
				in += s.Received[slot]
				out += s.Sent[slot]
			}
			m.received.emit(ch, float64(in), iface, ip, t.name)
			m.sent.emit(ch, float64(out), iface, ip, t.name)
		}
		m.invalid.emit(ch, float64(s.InErrors), iface, ip)
		m.rateLimited.emit(ch, float64(s.RateLimited), iface, ip)
		m.suppressed.emit(ch, float64(s.Suppressed), iface, ip)
	case *ipv6.Endpoint:
		s := e.ICMPStats()
		for k := range ipv6.NumICMPv6Kinds {
			m.received.emit(ch, float64(s.Received[k]), iface, ip, k.String())
			m.sent.emit(ch, float64(s.Sent[k]), iface, ip, k.String())
		}
		m.invalid.emit(ch, float64(s.ChecksumErrors+s.Malformed), iface, ip)
		m.rateLimited.emit(ch, float64(s.RateLimited), iface, ip)
		// IPv4's Suppressed includes "no route back"; IPv6 counts it apart.
		// Summed here so the family means the same for both versions.
		m.suppressed.emit(ch, float64(s.Suppressed+s.NoRoute), iface, ip)
	}
}

// neighborMetrics export a NeighborCache: entries by NUD state and the
// resolution counters.
type neighborMetrics struct {
	entries                          metric
	started, succeeded, failed       metric
	queueDrops, tableFull, evictions metric
	requests                         metric
}

func newNeighborMetrics(f family) neighborMetrics {
	l := []string{labelInterface, labelIP}
	return neighborMetrics{
		entries:    f.gauge("neighbor_entries", "Neighbour cache entries (ARP for IPv4, NDP for IPv6) by NUD state (RFC 4861 §7.3.2).", labelInterface, labelIP, labelState),
		started:    f.counter("neighbor_resolutions_started_total", "Address resolutions started (entries created INCOMPLETE).", l...),
		succeeded:  f.counter("neighbor_resolutions_succeeded_total", "Address resolutions that got an answer.", l...),
		failed:     f.counter("neighbor_resolutions_failed_total", "Address resolutions that got no answer after every probe (entry went FAILED).", l...),
		queueDrops: f.counter("neighbor_queue_drops_total", "Packets waiting for resolution pushed out of the bounded per-neighbour queue.", l...),
		tableFull:  f.counter("neighbor_table_full_drops_total", "Packets dropped because the neighbour table was full of entries that must not be evicted.", l...),
		evictions:  f.counter("neighbor_evictions_total", "Neighbour entries removed to make room for new ones.", l...),
		requests:   f.counter("neighbor_requests_sent_total", "ARP requests or Neighbor Solicitations handed to the resolver (first requests and NUD probes).", l...),
	}
}

func (m *neighborMetrics) collect(ch chan<- prometheus.Metric, iface, ip string, c *stack.NeighborCache) {
	counts := c.StateCounts()
	for _, st := range stack.AllNeighborStates {
		m.entries.emit(ch, float64(counts[st]), iface, ip, st.String())
	}
	s := c.Stats()
	m.started.emit(ch, float64(s.ResolutionsStarted.Load()), iface, ip)
	m.succeeded.emit(ch, float64(s.ResolutionsSucceeded.Load()), iface, ip)
	m.failed.emit(ch, float64(s.ResolutionsFailed.Load()), iface, ip)
	m.queueDrops.emit(ch, float64(s.QueueDrops.Load()), iface, ip)
	m.tableFull.emit(ch, float64(s.TableFullDrops.Load()), iface, ip)
	m.evictions.emit(ch, float64(s.Evictions.Load()), iface, ip)
	m.requests.emit(ch, float64(s.RequestsSent.Load()), iface, ip)
}

// nicMetrics export stack.NICStats: frames before any protocol saw them.
type nicMetrics struct {
	enabled, rxFrames, txFrames, txDropped, rxDropped metric
	gsoSegmented, gsoSegments                         metric
}

func newNICMetrics(f family) nicMetrics {
	return nicMetrics{
		enabled:      f.gauge("nic_enabled", "1 when the interface's NIC accepts and sends packets, 0 while it is disabled (link down).", labelInterface),
		rxFrames:     f.counter("nic_rx_frames_total", "Ethernet frames the link delivered to the NIC.", labelInterface),
		txFrames:     f.counter("nic_tx_frames_total", "Ethernet frames the link accepted from the NIC.", labelInterface),
		txDropped:    f.counter("nic_tx_dropped_frames_total", "Ethernet frames the link refused (ring full, link down).", labelInterface),
		rxDropped:    f.counter("nic_rx_dropped_frames_total", "Received Ethernet frames dropped before any protocol saw them, by reason (not_for_us: another MAC; unknown_ethertype; runt: shorter than an Ethernet header; disabled: NIC down).", labelInterface, labelReason),
		gsoSegmented: f.counter("nic_tx_gso_segmented_total", "GSO super-packets the router cut into segments in software because this link takes no GSO (AF_XDP, no vnet header).", labelInterface),
		gsoSegments:  f.counter("nic_tx_gso_segments_total", "Segments made from those super-packets (nic_tx_frames_total counts them again as they leave).", labelInterface),
	}
}

func (m *nicMetrics) collect(ch chan<- prometheus.Metric, nic *stack.NIC) {
	iface := nic.Name()
	s := nic.Stats()
	m.enabled.emit(ch, boolFloat(nic.Enabled()), iface)
	m.rxFrames.emit(ch, float64(s.RXFrames), iface)
	m.txFrames.emit(ch, float64(s.TXFrames), iface)
	m.txDropped.emit(ch, float64(s.TXDropped), iface)
	m.rxDropped.emit(ch, float64(s.RXNotForUs), iface, "not_for_us")
	m.rxDropped.emit(ch, float64(s.RXUnknownEtherType), iface, "unknown_ethertype")
	m.rxDropped.emit(ch, float64(s.RXRunt), iface, "runt")
	m.rxDropped.emit(ch, float64(s.RXDisabled), iface, "disabled")
	m.gsoSegmented.emit(ch, float64(s.TXGSOSegmented), iface)
	m.gsoSegments.emit(ch, float64(s.TXGSOSegments), iface)
}
