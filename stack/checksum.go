package stack

import (
	"encoding/binary"

	"github.com/nexthop-router/nexthop/header"
)

// CompleteChecksum finishes a CHECKSUM_PARTIAL packet (GSO.NeedsCsum) whose
// data starts at its network header: the checksum field holds only the
// pseudo-header sum, so the one's-complement sum from CsumStart to the end,
// folded and inverted, is the final checksum (virtio_net_hdr semantics).
// Protocols call it before they change the payload's layout (IPv4
// fragmentation); links without TX checksum offload get it from the NIC.
// It reports false when the packet's headers do not say where the checksum
// is.
func CompleteChecksum(pkt *PacketBuffer) bool {
	if !pkt.GSO.NeedsCsum {
		return true
	}
	if pkt.GSO.CsumOffset == 0 && !SetChecksumOffsets(pkt) {
		return false
	}
	d := pkt.Data()
	start := int(pkt.GSO.CsumStart)
	field := start + int(pkt.GSO.CsumOffset)
	if start >= len(d) || field+2 > len(d) {
		return false
	}
	sum := ^header.Checksum(d[start:], 0)
	if sum == 0 && pkt.GSO.CsumOffset == udpChecksumOffset {
		sum = 0xffff // UDP: a computed zero is sent as all ones (RFC 768)
	}
	binary.BigEndian.PutUint16(d[field:], sum)
	pkt.GSO.NeedsCsum = false
	return true
}

// Checksum field offsets within the transport header.
const (
	tcpChecksumOffset = 16
	udpChecksumOffset = 6
)

// SetChecksumOffsets fills GSO.CsumStart and GSO.CsumOffset from the
// packet's own headers (data at the network header), for links that report
// "checksum not ready" without saying where (PACKET_MMAP without a
// virtio_net_hdr: TP_STATUS_CSUMNOTREADY only). It reports false for a
// packet that is not TCP or UDP over IPv4 or IPv6, or is a fragment.
func SetChecksumOffsets(pkt *PacketBuffer) bool {
	d := pkt.Data()
	var proto uint8
	var l4 int
	switch {
	case len(d) > 0 && d[0]>>4 == 4:
		if header.ValidateIPv4(d) != nil {
			return false
		}
		h := header.IPv4(d)
		if h.IsFragment() {
			return false
		}
		proto, l4 = h.Protocol(), h.HeaderLength()
	case len(d) > 0 && d[0]>>4 == 6:
		if header.ValidateIPv6(d) != nil {
			return false
		}
		w, err := header.WalkIPv6Extensions(header.IPv6(d))
		if err != nil || w.FragmentHeader != 0 {
			return false
		}
		proto, l4 = w.Protocol, w.Offset
	default:
		return false
	}
	switch proto {
	case header.IPv4ProtocolTCP:
		pkt.GSO.CsumOffset = tcpChecksumOffset
	case header.IPv4ProtocolUDP:
		pkt.GSO.CsumOffset = udpChecksumOffset
	default:
		return false
	}
	pkt.GSO.CsumStart = uint16(l4)
	return true
}
