package header

import "encoding/binary"

// ICMPv6 message, RFC 4443 §2.1:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Message body: MTU (2), Pointer (4), Identifier/Sequence      |
//	|  (128, 129), or an NDP message (133-137, RFC 4861)            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The type, code and checksum offsets are shared with ICMPv4.
const (
	icmpv6Body    = 4
	icmpv6MTU     = 4
	icmpv6Pointer = 4
)

// ICMPv6 sizes.
const (
	// ICMPv6HeaderSize is the type, code and checksum; the NDP message
	// bodies start after it.
	ICMPv6HeaderSize = 4
	// ICMPv6MinimumSize is the smallest ICMPv6 message of any defined type
	// (RFC 4443 messages all carry 4 more bytes).
	ICMPv6MinimumSize = 8
)

// ICMPv6Type is the ICMPv6 Type field.
type ICMPv6Type uint8

// ICMPv6 types (RFC 4443, RFC 4861, RFC 2710, RFC 3810).
const (
	ICMPv6DstUnreachable  ICMPv6Type = 1
	ICMPv6PacketTooBig    ICMPv6Type = 2
	ICMPv6TimeExceeded    ICMPv6Type = 3
	ICMPv6ParamProblem    ICMPv6Type = 4
	ICMPv6EchoRequest     ICMPv6Type = 128
	ICMPv6EchoReply       ICMPv6Type = 129
	ICMPv6MLDQuery        ICMPv6Type = 130 // RFC 2710, RFC 3810
	ICMPv6MLDReport       ICMPv6Type = 131 // MLDv1
	ICMPv6MLDDone         ICMPv6Type = 132 // MLDv1
	ICMPv6RouterSolicit   ICMPv6Type = 133
	ICMPv6RouterAdvert    ICMPv6Type = 134
	ICMPv6NeighborSolicit ICMPv6Type = 135
	ICMPv6NeighborAdvert  ICMPv6Type = 136
	ICMPv6Redirect        ICMPv6Type = 137
	ICMPv6MLDv2Report     ICMPv6Type = 143 // RFC 3810
)

// IsError reports whether t is an ICMPv6 error message (types 0-127,
// RFC 4443 §2.1), which must never be answered with an error (§2.4 (e)).
func (t ICMPv6Type) IsError() bool { return t < 128 }

// ICMPv6Code is the ICMPv6 Code field; its meaning depends on the type.
type ICMPv6Code uint8

// Destination Unreachable codes (RFC 4443 §3.1).
const (
	ICMPv6NoRoute             ICMPv6Code = 0
	ICMPv6AdminProhibited     ICMPv6Code = 1
	ICMPv6BeyondScope         ICMPv6Code = 2
	ICMPv6AddressUnreachable  ICMPv6Code = 3
	ICMPv6PortUnreachable     ICMPv6Code = 4
	ICMPv6SrcAddrFailedPolicy ICMPv6Code = 5
	ICMPv6RejectRoute         ICMPv6Code = 6
)

// Time Exceeded codes (RFC 4443 §3.3).
const (
	ICMPv6HopLimitExceeded  ICMPv6Code = 0
	ICMPv6ReassemblyTimeout ICMPv6Code = 1
)

// Parameter Problem codes (RFC 4443 §3.4, RFC 7112 §5).
const (
	ICMPv6ErroneousHeaderField   ICMPv6Code = 0
	ICMPv6UnrecognizedNextHeader ICMPv6Code = 1
	ICMPv6UnrecognizedOption     ICMPv6Code = 2
	ICMPv6IncompleteHeaderChain  ICMPv6Code = 3
)

// ICMPv6 is a view of an ICMPv6 message: the whole upper-layer payload,
// since the checksum covers all of it. Accessors assume ValidateICMPv6
// passed.
type ICMPv6 []byte

// ValidateICMPv6 checks that b holds at least the 8 bytes every ICMPv6
// message has. It does not check the checksum (see IsChecksumValid) nor the
// type-specific body (see ValidateNDP).
func ValidateICMPv6(b []byte) error {
	if len(b) < ICMPv6MinimumSize {
		return errICMPv6Short
	}
	return nil
}

// Type returns the message type.
func (b ICMPv6) Type() ICMPv6Type { return ICMPv6Type(b[icmpType]) }

// Code returns the message code.
func (b ICMPv6) Code() ICMPv6Code { return ICMPv6Code(b[icmpCode]) }

// Checksum returns the Checksum field as stored.
func (b ICMPv6) Checksum() uint16 { return binary.BigEndian.Uint16(b[icmpXsum:]) }

// MTU returns the MTU of a Packet Too Big message (RFC 4443 §3.2).
func (b ICMPv6) MTU() uint32 { return binary.BigEndian.Uint32(b[icmpv6MTU:]) }

// Pointer returns the Parameter Problem pointer (RFC 4443 §3.4): the
// offset of the problem in the invoking packet.
func (b ICMPv6) Pointer() uint32 { return binary.BigEndian.Uint32(b[icmpv6Pointer:]) }

// Ident returns the echo Identifier.
func (b ICMPv6) Ident() uint16 { return binary.BigEndian.Uint16(b[icmpIdent:]) }

// Sequence returns the echo Sequence Number.
func (b ICMPv6) Sequence() uint16 { return binary.BigEndian.Uint16(b[icmpSeq:]) }

// MessageBody returns everything after the 4-byte type/code/checksum: for
// NDP messages the body the NDP views take. It aliases b.
func (b ICMPv6) MessageBody() []byte { return b[icmpv6Body:] }

// Payload returns the bytes after the 8-byte header: the echo data, or for
// errors as much of the invoking packet as fits (RFC 4443 §2.4 (c)).
func (b ICMPv6) Payload() []byte { return b[icmpPayload:] }

// SetType sets the type; the checksum is not updated.
func (b ICMPv6) SetType(t ICMPv6Type) { b[icmpType] = uint8(t) }

// SetCode sets the code; the checksum is not updated.
func (b ICMPv6) SetCode(c ICMPv6Code) { b[icmpCode] = uint8(c) }

// SetChecksum stores v in the Checksum field.
func (b ICMPv6) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[icmpXsum:], v) }

// SetMTU sets the Packet Too Big MTU.
func (b ICMPv6) SetMTU(v uint32) { binary.BigEndian.PutUint32(b[icmpv6MTU:], v) }

// SetPointer sets the Parameter Problem pointer.
func (b ICMPv6) SetPointer(v uint32) { binary.BigEndian.PutUint32(b[icmpv6Pointer:], v) }

// SetIdent sets the echo Identifier.
func (b ICMPv6) SetIdent(v uint16) { binary.BigEndian.PutUint16(b[icmpIdent:], v) }

// SetSequence sets the echo Sequence Number.
func (b ICMPv6) SetSequence(v uint16) { binary.BigEndian.PutUint16(b[icmpSeq:], v) }

// CalculateChecksum returns the value the Checksum field should hold for
// the message sent from src to dst: the complemented sum of the IPv6
// pseudo-header (RFC 8200 §8.1, RFC 4443 §2.3) and the whole message, with
// the field counted as zero. b must be exactly the message.
func (b ICMPv6) CalculateChecksum(src, dst [16]byte) uint16 {
	return checksumSkipping(b, icmpXsum, PseudoHeaderChecksumV6(IPv6ProtocolICMPv6, src, dst, uint32(len(b))))
}

// UpdateChecksum recomputes and stores the checksum for a message from src
// to dst; call it after every other field and the payload are written.
func (b ICMPv6) UpdateChecksum(src, dst [16]byte) { b.SetChecksum(b.CalculateChecksum(src, dst)) }

// IsChecksumValid reports whether the checksum of the message received
// from src for dst is correct.
func (b ICMPv6) IsChecksumValid(src, dst [16]byte) bool {
	return Checksum(b, PseudoHeaderChecksumV6(IPv6ProtocolICMPv6, src, dst, uint32(len(b)))) == 0xffff
}

// EncodeICMPv6 writes an ICMPv6 header (type, code, bytes 4-7) into b[:8]
// and sets the checksum over all of b for src and dst, so the payload must
// already be in b[8:]. b must be exactly the message.
// Precondition: len(b) >= ICMPv6MinimumSize.
func EncodeICMPv6(b []byte, t ICMPv6Type, c ICMPv6Code, rest uint32, src, dst [16]byte) {
	h := ICMPv6(b)
	h[icmpType] = uint8(t)
	h[icmpCode] = uint8(c)
	binary.BigEndian.PutUint32(h[icmpv6Body:], rest)
	h.UpdateChecksum(src, dst)
}
