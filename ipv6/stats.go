package ipv6

import "github.com/nexthop-router/nexthop/header"

// ICMPv6Kind groups ICMPv6 message types into the small fixed set the
// counters keep, so a per-worker block stays a few cache lines instead of
// 256 counters per direction.
type ICMPv6Kind uint8

// ICMPv6 kinds.
const (
	KindDstUnreachable ICMPv6Kind = iota
	KindPacketTooBig
	KindTimeExceeded
	KindParamProblem
	KindEchoRequest
	KindEchoReply
	KindRouterSolicit
	KindRouterAdvert
	KindNeighborSolicit
	KindNeighborAdvert
	KindRedirect
	// KindMLD is every Multicast Listener Discovery message (130-132, 143).
	KindMLD
	// KindOther is every other type.
	KindOther

	// NumICMPv6Kinds sizes the counter arrays.
	NumICMPv6Kinds
)

var kindNames = [NumICMPv6Kinds]string{
	"dst_unreachable", "packet_too_big", "time_exceeded", "param_problem",
	"echo_request", "echo_reply", "router_solicit", "router_advert",
	"neighbor_solicit", "neighbor_advert", "redirect", "mld", "other",
}

// String is the metrics `type` label of the kind.
func (k ICMPv6Kind) String() string {
	if k < NumICMPv6Kinds {
		return kindNames[k]
	}
	return "unknown"
}

// KindOf maps an ICMPv6 type to its counter.
func KindOf(t header.ICMPv6Type) ICMPv6Kind {
	switch t {
	case header.ICMPv6DstUnreachable:
		return KindDstUnreachable
	case header.ICMPv6PacketTooBig:
		return KindPacketTooBig
	case header.ICMPv6TimeExceeded:
		return KindTimeExceeded
	case header.ICMPv6ParamProblem:
		return KindParamProblem
	case header.ICMPv6EchoRequest:
		return KindEchoRequest
	case header.ICMPv6EchoReply:
		return KindEchoReply
	case header.ICMPv6RouterSolicit:
		return KindRouterSolicit
	case header.ICMPv6RouterAdvert:
		return KindRouterAdvert
	case header.ICMPv6NeighborSolicit:
		return KindNeighborSolicit
	case header.ICMPv6NeighborAdvert:
		return KindNeighborAdvert
	case header.ICMPv6Redirect:
		return KindRedirect
	case header.ICMPv6MLDQuery, header.ICMPv6MLDReport, header.ICMPv6MLDDone, header.ICMPv6MLDv2Report:
		return KindMLD
	}
	return KindOther
}

// ICMPv6Stats are one NIC's ICMPv6 counters. Received counts messages
// delivered to the router with a valid checksum; Sent counts messages the
// router originated (errors, echo replies, NDP) on this NIC's endpoint.
type ICMPv6Stats struct {
	Received [NumICMPv6Kinds]uint64
	Sent     [NumICMPv6Kinds]uint64
	// ChecksumErrors and Malformed (shorter than 8 bytes) are messages
	// dropped on receipt; the IP drop reason is DropMalformed.
	ChecksumErrors uint64
	Malformed      uint64
	// Errors the router decided not to send: RateLimited by the token
	// bucket; Suppressed because RFC 4443 §2.4(e) forbids them (about an
	// error, to a multicast or unspecified source, for a multicast
	// destination …); NoRoute because there is no route back to the
	// source or no address to send from.
	RateLimited uint64
	Suppressed  uint64
	NoRoute     uint64

	_ [64]byte
}

// Add adds o's counters into s.
func (s *ICMPv6Stats) Add(o *ICMPv6Stats) {
	for i := range s.Received {
		s.Received[i] += o.Received[i]
		s.Sent[i] += o.Sent[i]
	}
	s.ChecksumErrors += o.ChecksumErrors
	s.Malformed += o.Malformed
	s.RateLimited += o.RateLimited
	s.Suppressed += o.Suppressed
	s.NoRoute += o.NoRoute
}
