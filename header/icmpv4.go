package header

import "encoding/binary"

// ICMPv4 message, RFC 792:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Rest of header: Identifier/Sequence (echo), Pointer (12),    |
//	|  Gateway (5), unused/Next-Hop MTU (3 code 4, RFC 1191 §4)     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Payload: echo data, or the offending IP header + 8 bytes  |
const (
	icmpType    = 0
	icmpCode    = 1
	icmpXsum    = 2
	icmpIdent   = 4
	icmpSeq     = 6
	icmpPointer = 4
	icmpGateway = 4
	icmpv4MTU   = 6
	icmpPayload = 8
)

// ICMPv4MinimumSize is the size of the ICMPv4 header including the 4-byte
// rest-of-header field every message type has.
const ICMPv4MinimumSize = 8

// ICMPv4Type is the ICMPv4 Type field.
type ICMPv4Type uint8

// ICMPv4 types (RFC 792, RFC 950, RFC 1256).
const (
	ICMPv4EchoReply      ICMPv4Type = 0
	ICMPv4DstUnreachable ICMPv4Type = 3
	ICMPv4SrcQuench      ICMPv4Type = 4 // deprecated, RFC 6633
	ICMPv4Redirect       ICMPv4Type = 5
	ICMPv4Echo           ICMPv4Type = 8
	ICMPv4RouterAdvert   ICMPv4Type = 9
	ICMPv4RouterSolicit  ICMPv4Type = 10
	ICMPv4TimeExceeded   ICMPv4Type = 11
	ICMPv4ParamProblem   ICMPv4Type = 12
	ICMPv4Timestamp      ICMPv4Type = 13
	ICMPv4TimestampReply ICMPv4Type = 14
	ICMPv4InfoRequest    ICMPv4Type = 15 // obsolete
	ICMPv4InfoReply      ICMPv4Type = 16 // obsolete
)

// IsError reports whether t is an ICMP error message, which must never be
// answered with another ICMP error (RFC 1812 §4.3.2.7).
func (t ICMPv4Type) IsError() bool {
	switch t {
	case ICMPv4DstUnreachable, ICMPv4SrcQuench, ICMPv4Redirect, ICMPv4TimeExceeded, ICMPv4ParamProblem:
		return true
	}
	return false
}

// ICMPv4Code is the ICMPv4 Code field; its meaning depends on the type.
type ICMPv4Code uint8

// Destination Unreachable codes (RFC 792, RFC 1122 §3.2.2.1, RFC 1812
// §5.2.7.1).
const (
	ICMPv4NetUnreachable          ICMPv4Code = 0
	ICMPv4HostUnreachable         ICMPv4Code = 1
	ICMPv4ProtoUnreachable        ICMPv4Code = 2
	ICMPv4PortUnreachable         ICMPv4Code = 3
	ICMPv4FragmentationNeeded     ICMPv4Code = 4 // DF set; MTU in bytes 6-7, RFC 1191
	ICMPv4SourceRouteFailed       ICMPv4Code = 5
	ICMPv4DstNetworkUnknown       ICMPv4Code = 6
	ICMPv4DstHostUnknown          ICMPv4Code = 7
	ICMPv4SrcHostIsolated         ICMPv4Code = 8
	ICMPv4NetProhibited           ICMPv4Code = 9
	ICMPv4HostProhibited          ICMPv4Code = 10
	ICMPv4NetUnreachableForTOS    ICMPv4Code = 11
	ICMPv4HostUnreachableForTOS   ICMPv4Code = 12
	ICMPv4AdminProhibited         ICMPv4Code = 13
	ICMPv4HostPrecedenceViolation ICMPv4Code = 14
	ICMPv4PrecedenceCutoff        ICMPv4Code = 15
)

// Redirect codes (RFC 792).
const (
	ICMPv4RedirectNet     ICMPv4Code = 0
	ICMPv4RedirectHost    ICMPv4Code = 1
	ICMPv4RedirectTOSNet  ICMPv4Code = 2
	ICMPv4RedirectTOSHost ICMPv4Code = 3
)

// Time Exceeded codes (RFC 792).
const (
	ICMPv4TTLExceeded       ICMPv4Code = 0
	ICMPv4ReassemblyTimeout ICMPv4Code = 1
)

// Parameter Problem codes (RFC 792, RFC 1108).
const (
	ICMPv4PointerIndicatesError ICMPv4Code = 0
	ICMPv4MissingOption         ICMPv4Code = 1
	ICMPv4BadLength             ICMPv4Code = 2
)

// ICMPv4 is a view of an ICMPv4 message: the whole IPv4 payload, since the
// checksum covers all of it. Accessors assume ValidateICMPv4 passed.
type ICMPv4 []byte

// ValidateICMPv4 checks that b holds at least the 8-byte ICMPv4 header. It
// does not check the checksum (see IsChecksumValid).
func ValidateICMPv4(b []byte) error {
	if len(b) < ICMPv4MinimumSize {
		return errICMPv4Short
	}
	return nil
}

// Type returns the message type.
func (b ICMPv4) Type() ICMPv4Type { return ICMPv4Type(b[icmpType]) }

// Code returns the message code.
func (b ICMPv4) Code() ICMPv4Code { return ICMPv4Code(b[icmpCode]) }

// Checksum returns the Checksum field as stored.
func (b ICMPv4) Checksum() uint16 { return binary.BigEndian.Uint16(b[icmpXsum:]) }

// Ident returns the echo Identifier (Echo, Echo Reply, Timestamp).
func (b ICMPv4) Ident() uint16 { return binary.BigEndian.Uint16(b[icmpIdent:]) }

// Sequence returns the echo Sequence Number.
func (b ICMPv4) Sequence() uint16 { return binary.BigEndian.Uint16(b[icmpSeq:]) }

// MTU returns the Next-Hop MTU of a Fragmentation Needed message (RFC 1191
// §4: bytes 6-7; zero from routers predating it).
func (b ICMPv4) MTU() uint16 { return binary.BigEndian.Uint16(b[icmpv4MTU:]) }

// Pointer returns the octet offset of the problem in a Parameter Problem.
func (b ICMPv4) Pointer() uint8 { return b[icmpPointer] }

// Gateway returns the gateway address of a Redirect.
func (b ICMPv4) Gateway() [4]byte { return [4]byte(b[icmpGateway : icmpGateway+4]) }

// RestOfHeader returns bytes 4-7 as a word, whatever the type uses them for.
func (b ICMPv4) RestOfHeader() uint32 { return binary.BigEndian.Uint32(b[icmpIdent:]) }

// Payload returns the bytes after the 8-byte header: the echo data, or for
// errors the original IP header and leading payload. It aliases b.
func (b ICMPv4) Payload() []byte { return b[icmpPayload:] }

// SetType sets the type; the checksum is not updated.
func (b ICMPv4) SetType(t ICMPv4Type) { b[icmpType] = uint8(t) }

// SetCode sets the code; the checksum is not updated.
func (b ICMPv4) SetCode(c ICMPv4Code) { b[icmpCode] = uint8(c) }

// SetChecksum stores v in the Checksum field.
func (b ICMPv4) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[icmpXsum:], v) }

// SetIdent sets the echo Identifier.
func (b ICMPv4) SetIdent(v uint16) { binary.BigEndian.PutUint16(b[icmpIdent:], v) }

// SetSequence sets the echo Sequence Number.
func (b ICMPv4) SetSequence(v uint16) { binary.BigEndian.PutUint16(b[icmpSeq:], v) }

// SetMTU sets the Next-Hop MTU of a Fragmentation Needed message, and zeroes
// the unused bytes 4-5 (RFC 1191 §4).
func (b ICMPv4) SetMTU(v uint16) {
	binary.BigEndian.PutUint16(b[icmpIdent:], 0)
	binary.BigEndian.PutUint16(b[icmpv4MTU:], v)
}

// SetPointer sets the Parameter Problem pointer and zeroes bytes 5-7.
func (b ICMPv4) SetPointer(p uint8) {
	binary.BigEndian.PutUint32(b[icmpPointer:], uint32(p)<<24)
}

// SetGateway sets the Redirect gateway address.
func (b ICMPv4) SetGateway(a [4]byte) { copy(b[icmpGateway:icmpGateway+4], a[:]) }

// SetRestOfHeader sets bytes 4-7.
func (b ICMPv4) SetRestOfHeader(v uint32) { binary.BigEndian.PutUint32(b[icmpIdent:], v) }

// CalculateChecksum returns the value the Checksum field should hold: the
// complemented sum of the whole message with the field counted as zero
// (RFC 792; ICMPv4 has no pseudo-header).
func (b ICMPv4) CalculateChecksum() uint16 { return checksumSkipping(b, icmpXsum, 0) }

// UpdateChecksum recomputes and stores the checksum; call it last.
func (b ICMPv4) UpdateChecksum() { b.SetChecksum(b.CalculateChecksum()) }

// IsChecksumValid reports whether the checksum over the whole message is
// correct.
func (b ICMPv4) IsChecksumValid() bool { return Checksum(b, 0) == 0xffff }

// EncodeICMPv4 writes an ICMPv4 header (type, code, rest of header) into
// b[:8] and sets the checksum over all of b, so the payload must already be
// in b[8:]. b must be exactly the message.
// Precondition: len(b) >= ICMPv4MinimumSize.
func EncodeICMPv4(b []byte, t ICMPv4Type, c ICMPv4Code, rest uint32) {
	h := ICMPv4(b)
	h[icmpType] = uint8(t)
	h[icmpCode] = uint8(c)
	h.SetRestOfHeader(rest)
	h.UpdateChecksum()
}
