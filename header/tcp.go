package header

import "encoding/binary"

// TCP header, RFC 9293 §3.1:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Source Port          |       Destination Port        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                        Sequence Number                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Acknowledgment Number                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Data |       |C|E|U|A|P|R|S|F|                               |
//	| Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//	|       |       |R|E|G|K|H|T|N|N|                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Checksum            |         Urgent Pointer        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                           [Options]                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	tcpSrcPort = 0
	tcpDstPort = 2
	tcpSeq     = 4
	tcpAck     = 8
	tcpDataOff = 12
	tcpFlags   = 13
	tcpWindow  = 14
	tcpXsum    = 16
	tcpUrgent  = 18
	tcpOptions = 20
)

// TCP header sizes: Data Offset is 5 to 15 32-bit words.
const (
	TCPMinimumSize       = 20
	TCPMaximumHeaderSize = 60
)

// TCP control bits, as returned by (TCP).Flags (RFC 9293 §3.1, RFC 3168).
const (
	TCPFlagFIN uint8 = 1 << 0
	TCPFlagSYN uint8 = 1 << 1
	TCPFlagRST uint8 = 1 << 2
	TCPFlagPSH uint8 = 1 << 3
	TCPFlagACK uint8 = 1 << 4
	TCPFlagURG uint8 = 1 << 5
	TCPFlagECE uint8 = 1 << 6
	TCPFlagCWR uint8 = 1 << 7
)

// TCP is a view of a TCP segment: header, options and payload, aliasing the
// packet. The router reads it for flow hashing, MSS clamping and software
// GSO. Accessors assume ValidateTCP passed.
type TCP []byte

// ValidateTCP checks that b holds a TCP header whose Data Offset is at
// least 5 and whose header fits in b. It does not check the checksum.
func ValidateTCP(b []byte) error {
	if len(b) < TCPMinimumSize {
		return errTCPShort
	}
	off := int(b[tcpDataOff]>>4) * 4
	if off < TCPMinimumSize {
		return errTCPOffsetSmall
	}
	if off > len(b) {
		return errTCPOffsetPastEnd
	}
	return nil
}

// SourcePort returns the source port.
func (b TCP) SourcePort() uint16 { return binary.BigEndian.Uint16(b[tcpSrcPort:]) }

// DestinationPort returns the destination port.
func (b TCP) DestinationPort() uint16 { return binary.BigEndian.Uint16(b[tcpDstPort:]) }

// SequenceNumber returns the sequence number.
func (b TCP) SequenceNumber() uint32 { return binary.BigEndian.Uint32(b[tcpSeq:]) }

// AckNumber returns the acknowledgment number.
func (b TCP) AckNumber() uint32 { return binary.BigEndian.Uint32(b[tcpAck:]) }

// DataOffset returns the header length in bytes, options included.
func (b TCP) DataOffset() int { return int(b[tcpDataOff]>>4) * 4 }

// Flags returns the eight control bits (TCPFlagSYN, ...).
func (b TCP) Flags() uint8 { return b[tcpFlags] }

// WindowSize returns the (unscaled) window.
func (b TCP) WindowSize() uint16 { return binary.BigEndian.Uint16(b[tcpWindow:]) }

// Checksum returns the Checksum field.
func (b TCP) Checksum() uint16 { return binary.BigEndian.Uint16(b[tcpXsum:]) }

// UrgentPointer returns the urgent pointer.
func (b TCP) UrgentPointer() uint16 { return binary.BigEndian.Uint16(b[tcpUrgent:]) }

// Options returns the options area b[20:DataOffset()], aliasing b.
func (b TCP) Options() []byte { return b[tcpOptions:b.DataOffset()] }

// Payload returns the bytes after the header, aliasing b.
func (b TCP) Payload() []byte { return b[b.DataOffset():] }

// SetSourcePort sets the source port; the checksum is not updated.
func (b TCP) SetSourcePort(v uint16) { binary.BigEndian.PutUint16(b[tcpSrcPort:], v) }

// SetDestinationPort sets the destination port; the checksum is not updated.
func (b TCP) SetDestinationPort(v uint16) { binary.BigEndian.PutUint16(b[tcpDstPort:], v) }

// SetSequenceNumber sets the sequence number, as GSO does per segment.
func (b TCP) SetSequenceNumber(v uint32) { binary.BigEndian.PutUint32(b[tcpSeq:], v) }

// SetAckNumber sets the acknowledgment number.
func (b TCP) SetAckNumber(v uint32) { binary.BigEndian.PutUint32(b[tcpAck:], v) }

// SetFlags sets the control bits.
func (b TCP) SetFlags(v uint8) { b[tcpFlags] = v }

// SetWindowSize sets the window.
func (b TCP) SetWindowSize(v uint16) { binary.BigEndian.PutUint16(b[tcpWindow:], v) }

// SetChecksum stores v in the Checksum field.
func (b TCP) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[tcpXsum:], v) }

// SetUrgentPointer sets the urgent pointer.
func (b TCP) SetUrgentPointer(v uint16) { binary.BigEndian.PutUint16(b[tcpUrgent:], v) }

// CalculateChecksum returns the value the Checksum field should hold, given
// the pseudo-header sum for the segment's length: the complemented sum of
// the whole of b with the field counted as zero. b must be exactly the
// segment.
func (b TCP) CalculateChecksum(pseudo uint16) uint16 { return checksumSkipping(b, tcpXsum, pseudo) }

// UpdateChecksum recomputes and stores the checksum; call it last.
func (b TCP) UpdateChecksum(pseudo uint16) { b.SetChecksum(b.CalculateChecksum(pseudo)) }

// IsChecksumValid reports whether the checksum of segment b is right for
// the pseudo-header sum.
func (b TCP) IsChecksumValid(pseudo uint16) bool { return Checksum(b, pseudo) == 0xffff }

// TCPFields holds what EncodeTCP writes.
type TCPFields struct {
	// SrcPort and DstPort are the ports.
	SrcPort, DstPort uint16
	// SeqNum and AckNum are the sequence and acknowledgment numbers.
	SeqNum, AckNum uint32
	// Flags are the control bits; the four reserved bits are written as
	// zero (RFC 9293 §3.1).
	Flags uint8
	// WindowSize is the unscaled window.
	WindowSize uint16
	// Checksum is written as is; compute it with UpdateChecksum afterwards.
	Checksum uint16
	// UrgentPointer is written as is.
	UrgentPointer uint16
	// Options are copied after the fixed header and padded with zeros (End
	// of Option List, RFC 9293 §3.2) to a multiple of 4; at most 40 bytes.
	Options []byte
}

// EncodeTCP writes a TCP header with f's fields and options into the start
// of b and returns the header length (the Data Offset in bytes).
// Precondition: len(b) >= 20+len(f.Options) rounded up to 4 and
// len(f.Options) <= 40; it panics otherwise, as a programming error.
func EncodeTCP(b []byte, f TCPFields) int {
	if len(f.Options) > TCPMaximumHeaderSize-TCPMinimumSize {
		panic("header: EncodeTCP: more than 40 bytes of options")
	}
	hl := TCPMinimumSize + (len(f.Options)+3)&^3
	h := TCP(b[:hl])
	h.SetSourcePort(f.SrcPort)
	h.SetDestinationPort(f.DstPort)
	h.SetSequenceNumber(f.SeqNum)
	h.SetAckNumber(f.AckNum)
	h[tcpDataOff] = uint8(hl/4) << 4
	h[tcpFlags] = f.Flags
	h.SetWindowSize(f.WindowSize)
	h.SetChecksum(f.Checksum)
	h.SetUrgentPointer(f.UrgentPointer)
	n := copy(h[tcpOptions:], f.Options)
	clear(h[tcpOptions+n:])
	return hl
}
