package header

import (
	"encoding/binary"
	"net/netip"
)

// IPv6 header, RFC 8200 §3:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Traffic Class |           Flow Label                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Payload Length        |  Next Header  |   Hop Limit   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                         Source Address                        +
//	|                          (16 bytes)                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                      Destination Address                      +
//	|                          (16 bytes)                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	ipv6VersTCFL   = 0
	ipv6PayloadLen = 4
	ipv6NextHeader = 6
	ipv6HopLimit   = 7
	ipv6Src        = 8
	ipv6Dst        = 24
)

// IPv6 sizes (RFC 8200).
const (
	// IPv6MinimumSize is the size of the fixed IPv6 header.
	IPv6MinimumSize = 40
	// IPv6MinimumMTU is the smallest link MTU IPv6 allows (RFC 8200 §5);
	// ICMPv6 errors are truncated to fit in it.
	IPv6MinimumMTU = 1280
	// IPv6Version is the value of the version field.
	IPv6Version = 6
)

// IPv6 Next Header values used in this package besides the IPv4Protocol*
// numbers, which IPv6 shares.
const (
	IPv6ProtocolTCP    uint8 = 6
	IPv6ProtocolUDP    uint8 = 17
	IPv6ProtocolICMPv6 uint8 = 58
)

// IPv6 is a view of an IPv6 packet starting at its fixed header. It aliases
// the frame: setters modify the packet in place. Accessors assume the view
// has passed ValidateIPv6.
type IPv6 []byte

// ValidateIPv6 checks what the accessors rely on: at least 40 bytes, version
// 6, and Payload Length <= len(b)-40. Trailing link padding is allowed.
// Jumbograms (Payload Length 0 with a Jumbo Payload option, RFC 2675) are not
// supported: their Payload is empty. Extension headers are checked by
// WalkIPv6Extensions.
func ValidateIPv6(b []byte) error {
	if len(b) < IPv6MinimumSize {
		return errIPv6Short
	}
	if b[ipv6VersTCFL]>>4 != IPv6Version {
		return errIPv6Version
	}
	if int(binary.BigEndian.Uint16(b[ipv6PayloadLen:])) > len(b)-IPv6MinimumSize {
		return errIPv6PayloadPast
	}
	return nil
}

// Version returns the IP version field (6 in a validated view).
func (b IPv6) Version() uint8 { return b[ipv6VersTCFL] >> 4 }

// TrafficClass returns the Traffic Class (DSCP and ECN).
func (b IPv6) TrafficClass() uint8 { return b[0]<<4 | b[1]>>4 }

// FlowLabel returns the 20-bit Flow Label (RFC 6437).
func (b IPv6) FlowLabel() uint32 {
	return binary.BigEndian.Uint32(b[ipv6VersTCFL:]) & 0xfffff
}

// PayloadLength returns the Payload Length: the bytes after the fixed
// header, extension headers included.
func (b IPv6) PayloadLength() uint16 { return binary.BigEndian.Uint16(b[ipv6PayloadLen:]) }

// NextHeader returns the type of the header after the fixed header: an
// extension header or the upper-layer protocol.
func (b IPv6) NextHeader() uint8 { return b[ipv6NextHeader] }

// HopLimit returns the Hop Limit.
func (b IPv6) HopLimit() uint8 { return b[ipv6HopLimit] }

// SourceAddress returns the source address.
func (b IPv6) SourceAddress() [16]byte { return [16]byte(b[ipv6Src : ipv6Src+16]) }

// DestinationAddress returns the destination address.
func (b IPv6) DestinationAddress() [16]byte { return [16]byte(b[ipv6Dst : ipv6Dst+16]) }

// SrcAddr returns the source address as a netip.Addr; it does not allocate.
func (b IPv6) SrcAddr() netip.Addr { return netip.AddrFrom16(b.SourceAddress()) }

// DstAddr returns the destination address as a netip.Addr; it does not
// allocate.
func (b IPv6) DstAddr() netip.Addr { return netip.AddrFrom16(b.DestinationAddress()) }

// Payload returns the Payload Length bytes after the fixed header, aliasing
// the packet.
func (b IPv6) Payload() []byte {
	return b[IPv6MinimumSize : IPv6MinimumSize+int(b.PayloadLength())]
}

// SetTrafficClass sets the Traffic Class.
func (b IPv6) SetTrafficClass(v uint8) {
	b[0] = b[0]&0xf0 | v>>4
	b[1] = b[1]&0x0f | v<<4
}

// SetFlowLabel sets the Flow Label; bits above the low 20 are ignored.
func (b IPv6) SetFlowLabel(v uint32) {
	w := binary.BigEndian.Uint32(b[ipv6VersTCFL:])
	binary.BigEndian.PutUint32(b[ipv6VersTCFL:], w&^0xfffff|v&0xfffff)
}

// SetPayloadLength sets the Payload Length.
func (b IPv6) SetPayloadLength(v uint16) { binary.BigEndian.PutUint16(b[ipv6PayloadLen:], v) }

// SetNextHeader sets the Next Header field.
func (b IPv6) SetNextHeader(v uint8) { b[ipv6NextHeader] = v }

// SetHopLimit sets the Hop Limit. IPv6 has no header checksum, so nothing
// else needs fixing.
func (b IPv6) SetHopLimit(v uint8) { b[ipv6HopLimit] = v }

// DecrementHopLimit decrements the Hop Limit for forwarding.
// Precondition: HopLimit() > 1; a router sends Time Exceeded instead
// (RFC 8200 §3, RFC 4443 §3.3).
func (b IPv6) DecrementHopLimit() { b[ipv6HopLimit]-- }

// SetSource sets the source address.
func (b IPv6) SetSource(a [16]byte) { copy(b[ipv6Src:ipv6Src+16], a[:]) }

// SetDestination sets the destination address.
func (b IPv6) SetDestination(a [16]byte) { copy(b[ipv6Dst:ipv6Dst+16], a[:]) }

// IPv6Fields holds the fields EncodeIPv6 writes; the version is implied.
type IPv6Fields struct {
	// TrafficClass is the DSCP and ECN byte.
	TrafficClass uint8
	// FlowLabel is the 20-bit flow label; higher bits are dropped.
	FlowLabel uint32
	// PayloadLength is written as is.
	PayloadLength uint16
	// NextHeader is the first extension header or the upper-layer protocol.
	NextHeader uint8
	// HopLimit is written as is.
	HopLimit uint8
	// Src and Dst are the source and destination addresses.
	Src, Dst [16]byte
}

// EncodeIPv6 writes a fixed IPv6 header into b[:IPv6MinimumSize].
// Precondition: len(b) >= IPv6MinimumSize.
func EncodeIPv6(b []byte, f IPv6Fields) {
	h := IPv6(b[:IPv6MinimumSize])
	binary.BigEndian.PutUint32(h[ipv6VersTCFL:], IPv6Version<<28|uint32(f.TrafficClass)<<20|f.FlowLabel&0xfffff)
	h.SetPayloadLength(f.PayloadLength)
	h[ipv6NextHeader] = f.NextHeader
	h[ipv6HopLimit] = f.HopLimit
	h.SetSource(f.Src)
	h.SetDestination(f.Dst)
}
