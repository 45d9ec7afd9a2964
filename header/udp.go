package header

import "encoding/binary"

// UDP header, RFC 768:
//
//	 0      7 8     15 16    23 24    31
//	+--------+--------+--------+--------+
//	|     Source      |   Destination   |
//	|      Port       |      Port       |
//	+--------+--------+--------+--------+
//	|                 |                 |
//	|     Length      |    Checksum     |
//	+--------+--------+--------+--------+
const (
	udpSrcPort = 0
	udpDstPort = 2
	udpLength  = 4
	udpXsum    = 6
)

// UDPMinimumSize is the size of the UDP header.
const UDPMinimumSize = 8

// UDP is a view of a UDP datagram: header and payload, aliasing the packet.
// Accessors assume ValidateUDP passed.
type UDP []byte

// ValidateUDP checks that b holds a UDP header whose Length field is at
// least 8 and at most len(b). It does not check the checksum.
func ValidateUDP(b []byte) error {
	if len(b) < UDPMinimumSize {
		return errUDPShort
	}
	l := int(binary.BigEndian.Uint16(b[udpLength:]))
	if l < UDPMinimumSize {
		return errUDPLengthSmall
	}
	if l > len(b) {
		return errUDPLengthPastEnd
	}
	return nil
}

// SourcePort returns the source port.
func (b UDP) SourcePort() uint16 { return binary.BigEndian.Uint16(b[udpSrcPort:]) }

// DestinationPort returns the destination port.
func (b UDP) DestinationPort() uint16 { return binary.BigEndian.Uint16(b[udpDstPort:]) }

// Length returns the Length field: header plus payload in bytes.
func (b UDP) Length() uint16 { return binary.BigEndian.Uint16(b[udpLength:]) }

// Checksum returns the Checksum field; zero over IPv4 means "not computed"
// (RFC 768), which IPv6 forbids (RFC 8200 §8.1).
func (b UDP) Checksum() uint16 { return binary.BigEndian.Uint16(b[udpXsum:]) }

// Payload returns the bytes after the header up to Length, aliasing b.
func (b UDP) Payload() []byte { return b[UDPMinimumSize:b.Length()] }

// SetSourcePort sets the source port; the checksum is not updated.
func (b UDP) SetSourcePort(v uint16) { binary.BigEndian.PutUint16(b[udpSrcPort:], v) }

// SetDestinationPort sets the destination port; the checksum is not updated.
func (b UDP) SetDestinationPort(v uint16) { binary.BigEndian.PutUint16(b[udpDstPort:], v) }

// SetLength sets the Length field; the checksum is not updated.
func (b UDP) SetLength(v uint16) { binary.BigEndian.PutUint16(b[udpLength:], v) }

// SetChecksum stores v in the Checksum field.
func (b UDP) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[udpXsum:], v) }

// CalculateChecksum returns the value the Checksum field should hold, given
// the pseudo-header sum (PseudoHeaderChecksumV4 or V6 with the datagram
// length): the complemented sum of the whole of b with the field counted as
// zero, and 0xffff instead of 0, since 0 means "no checksum" (RFC 768). b
// must be exactly the datagram, b[:Length()].
func (b UDP) CalculateChecksum(pseudo uint16) uint16 {
	x := checksumSkipping(b, udpXsum, pseudo)
	if x == 0 {
		x = 0xffff
	}
	return x
}

// UpdateChecksum recomputes and stores the checksum; call it last.
func (b UDP) UpdateChecksum(pseudo uint16) { b.SetChecksum(b.CalculateChecksum(pseudo)) }

// IsChecksumValid reports whether the checksum of the datagram b is right
// for the pseudo-header sum. It does not treat a zero checksum as "not
// computed"; the IPv4 caller checks Checksum() == 0 first.
func (b UDP) IsChecksumValid(pseudo uint16) bool { return Checksum(b, pseudo) == 0xffff }

// UDPFields holds what EncodeUDP writes.
type UDPFields struct {
	// SrcPort and DstPort are the ports.
	SrcPort, DstPort uint16
	// Length is written as is: header plus payload.
	Length uint16
	// Checksum is written as is; compute it afterwards with UpdateChecksum
	// once the payload is in place.
	Checksum uint16
}

// EncodeUDP writes a UDP header into b[:UDPMinimumSize].
// Precondition: len(b) >= UDPMinimumSize.
func EncodeUDP(b []byte, f UDPFields) {
	h := UDP(b[:UDPMinimumSize])
	h.SetSourcePort(f.SrcPort)
	h.SetDestinationPort(f.DstPort)
	h.SetLength(f.Length)
	h.SetChecksum(f.Checksum)
}
