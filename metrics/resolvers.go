package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nexthop-router/nexthop/arp"
	"github.com/nexthop-router/nexthop/ipv6"
	"github.com/nexthop-router/nexthop/stack"
)

// arpMetrics export arp.Stats per interface.
type arpMetrics struct {
	received, sent, gratuitous, ignored, dropped metric
}

func newARPMetrics(f family) arpMetrics {
	return arpMetrics{
		received:   f.counter("arp_packets_received_total", "Valid ARP packets received, by operation (request: for one of the router's addresses; reply).", labelInterface, labelType),
		sent:       f.counter("arp_packets_sent_total", "ARP packets sent, by operation (requests include probes and gratuitous announcements).", labelInterface, labelType),
		gratuitous: f.counter("arp_gratuitous_sent_total", "Gratuitous ARP announcements sent when addresses came up (also counted as requests sent).", labelInterface),
		ignored:    f.counter("arp_packets_ignored_total", "Valid ARP packets that needed no action (requests for other hosts, own frames, off-subnet senders).", labelInterface),
		dropped:    f.counter("arp_dropped_packets_total", "ARP packets dropped, by reason (malformed; conflict: another MAC claims one of the router's addresses, RFC 5227 §2.4; disabled).", labelInterface, labelReason),
	}
}

func (m *arpMetrics) collect(ch chan<- prometheus.Metric, nic *stack.NIC) {
	ep, ok := nic.NetworkEndpoint(stack.ARPProtocolNumber).(*arp.Endpoint)
	if !ok {
		return
	}
	iface := nic.Name()
	s := ep.ARPStats()
	m.received.emit(ch, float64(s.RequestsReceived), iface, "request")
	m.received.emit(ch, float64(s.RepliesReceived), iface, "reply")
	m.sent.emit(ch, float64(s.RequestsSent), iface, "request")
	m.sent.emit(ch, float64(s.RepliesSent), iface, "reply")
	m.gratuitous.emit(ch, float64(s.GratuitousSent), iface)
	m.ignored.emit(ch, float64(s.Ignored), iface)
	m.dropped.emit(ch, float64(s.Malformed), iface, "malformed")
	m.dropped.emit(ch, float64(s.Conflicts), iface, "conflict")
	m.dropped.emit(ch, float64(s.Disabled), iface, "disabled")
}

// ndpMetrics export ndp.Stats per interface. The NDP messages also count
// in the ICMPv6 families; these add what only NDP knows (why a message
// was discarded, duplicate addresses).
type ndpMetrics struct {
	received, sent, unsolicited, invalid, notLocal, duplicate, sendFailed metric
}

func newNDPMetrics(f family) ndpMetrics {
	return ndpMetrics{
		received:    f.counter("ndp_messages_received_total", "Valid NDP messages received, by type (redirects are ignored: RFC 4861 §8.3 is for hosts).", labelInterface, labelType),
		sent:        f.counter("ndp_messages_sent_total", "NDP messages sent, by type.", labelInterface, labelType),
		unsolicited: f.counter("ndp_unsolicited_adverts_sent_total", "Unsolicited Neighbor Advertisements announcing the router's addresses (also counted as neighbor_advert sent).", labelInterface),
		invalid:     f.counter("ndp_messages_invalid_total", "NDP messages discarded by RFC 4861 §6.1/§7.1 validation, by reason (hop_limit other than 255, code other than 0, other).", labelInterface, labelReason),
		notLocal:    f.counter("ndp_solicits_target_not_local_total", "Valid Neighbor Solicitations for an address the interface does not have (no answer: no proxy NDP).", labelInterface),
		duplicate:   f.counter("ndp_duplicate_addresses_total", "Advertisements or DAD probes from another node for one of the router's addresses: a configuration error on the link.", labelInterface),
		sendFailed:  f.counter("ndp_send_failures_total", "NDP messages not sent because the interface had no usable source address.", labelInterface),
	}
}

func (m *ndpMetrics) collect(ch chan<- prometheus.Metric, nic *stack.NIC) {
	ep, ok := nic.NetworkEndpoint(stack.IPv6ProtocolNumber).(*ipv6.Endpoint)
	if !ok {
		return
	}
	iface := nic.Name()
	s := ep.NDPStats()
	m.received.emit(ch, float64(s.RouterSolicitsReceived), iface, "router_solicit")
	m.received.emit(ch, float64(s.RouterAdvertsReceived), iface, "router_advert")
	m.received.emit(ch, float64(s.NeighborSolicitsReceived), iface, "neighbor_solicit")
	m.received.emit(ch, float64(s.NeighborAdvertsReceived), iface, "neighbor_advert")
	m.received.emit(ch, float64(s.RedirectsReceived), iface, "redirect")
	m.sent.emit(ch, float64(s.RouterAdvertsSent), iface, "router_advert")
	m.sent.emit(ch, float64(s.NeighborSolicitsSent), iface, "neighbor_solicit")
	m.sent.emit(ch, float64(s.NeighborAdvertsSent), iface, "neighbor_advert")
	m.unsolicited.emit(ch, float64(s.UnsolicitedAdvertsSent), iface)
	m.invalid.emit(ch, float64(s.InvalidHopLimit), iface, "hop_limit")
	m.invalid.emit(ch, float64(s.InvalidCode), iface, "code")
	m.invalid.emit(ch, float64(s.Invalid), iface, "other")
	m.notLocal.emit(ch, float64(s.TargetNotLocal), iface)
	m.duplicate.emit(ch, float64(s.DuplicateAddress), iface)
	m.sendFailed.emit(ch, float64(s.SendFailed), iface)
}
