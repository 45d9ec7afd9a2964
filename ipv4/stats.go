package ipv4

import "github.com/nexthop-router/nexthop/header"

// NumICMPTypes bounds the per-type ICMP counters: types 0…18 are the ones
// RFC 792, RFC 950 and RFC 1256 define; higher types are counted together in
// the last slot.
const NumICMPTypes = 20

// ICMPStats are the ICMP counters of one endpoint for one worker, by
// message type; they are summed over workers when read, like IPStats.
type ICMPStats struct {
	// Received counts ICMP messages addressed to the router, by type;
	// Received[NumICMPTypes-1] counts types ≥ NumICMPTypes-1.
	Received [NumICMPTypes]uint64
	// Sent counts ICMP messages the router sent, by type.
	Sent [NumICMPTypes]uint64
	// InErrors counts received ICMP messages that were too short or had a
	// bad checksum.
	InErrors uint64
	// RateLimited counts ICMP errors not sent because the token bucket was
	// empty (RFC 1812 §4.3.2.8).
	RateLimited uint64
	// Suppressed counts ICMP errors not sent because RFC 1812 §4.3.2.7
	// forbids them (about an ICMP error, a non-initial fragment, a
	// broadcast or multicast packet, a source that is not one host), because
	// the packet was the router's own, or because there was no route back.
	Suppressed uint64

	_ [64]byte
}

func typeSlot(t header.ICMPv4Type) int {
	if int(t) >= NumICMPTypes-1 {
		return NumICMPTypes - 1
	}
	return int(t)
}

// Add adds o into s.
func (s *ICMPStats) Add(o *ICMPStats) {
	for i := range s.Received {
		s.Received[i] += o.Received[i]
		s.Sent[i] += o.Sent[i]
	}
	s.InErrors += o.InErrors
	s.RateLimited += o.RateLimited
	s.Suppressed += o.Suppressed
}

// SentOf is the number of messages of type t sent.
func (s *ICMPStats) SentOf(t header.ICMPv4Type) uint64 { return s.Sent[typeSlot(t)] }

// ReceivedOf is the number of messages of type t received.
func (s *ICMPStats) ReceivedOf(t header.ICMPv4Type) uint64 { return s.Received[typeSlot(t)] }
