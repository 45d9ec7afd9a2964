package header

import (
	"encoding/binary"
	"net/netip"
)

// IPv4 header, RFC 791 §3.1:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version|  IHL  |Type of Service|          Total Length         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Identification        |Flags|      Fragment Offset    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Time to Live |    Protocol   |         Header Checksum       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       Source Address                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Destination Address                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Options                    |    Padding    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	ipv4VersIHL  = 0
	ipv4TOS      = 1
	ipv4TotalLen = 2
	ipv4ID       = 4
	ipv4FlagsFO  = 6
	ipv4TTL      = 8
	ipv4Protocol = 9
	ipv4Xsum     = 10
	ipv4Src      = 12
	ipv4Dst      = 16
	ipv4Options  = 20
)

// Sizes of the IPv4 header (RFC 791): IHL is 5 to 15 32-bit words.
const (
	IPv4MinimumSize       = 20
	IPv4MaximumHeaderSize = 60
	// IPv4MaximumOptionsSize is the room IHL leaves for options.
	IPv4MaximumOptionsSize = IPv4MaximumHeaderSize - IPv4MinimumSize
	// IPv4MaximumTotalSize is the largest Total Length.
	IPv4MaximumTotalSize = 0xffff
	// IPv4Version is the value of the version field.
	IPv4Version = 4
)

// IP protocol numbers (IANA "Assigned Internet Protocol Numbers"), as found
// in the IPv4 Protocol field and the IPv6 Next Header field.
const (
	IPv4ProtocolICMP   uint8 = 1
	IPv4ProtocolTCP    uint8 = 6
	IPv4ProtocolUDP    uint8 = 17
	IPv4ProtocolICMPv6 uint8 = 58
)

// IPv4 flag bits as returned by (IPv4).Flags: the top three bits of the
// flags/fragment-offset word (RFC 791 §3.1).
const (
	IPv4FlagMoreFragments uint8 = 1 << 0
	IPv4FlagDontFragment  uint8 = 1 << 1
	// IPv4FlagReserved must be zero (RFC 791); kept so views round-trip.
	IPv4FlagReserved uint8 = 1 << 2
)

// IPv4 is a view of an IPv4 packet starting at its header. It aliases the
// frame: setters modify the packet in place. Accessors assume the view has
// passed ValidateIPv4; on an unvalidated slice they may panic.
type IPv4 []byte

// ValidateIPv4 checks everything the accessors rely on: version 4, IHL >= 5,
// the header fits in b, and IHL*4 <= Total Length <= len(b). Bytes after
// Total Length (Ethernet padding) are allowed and ignored by Payload. It does
// not check the header checksum (see IsChecksumValid) or the options (see
// OptionIterator).
func ValidateIPv4(b []byte) error {
	if len(b) < IPv4MinimumSize {
		return errIPv4Short
	}
	if b[ipv4VersIHL]>>4 != IPv4Version {
		return errIPv4Version
	}
	hl := int(b[ipv4VersIHL]&0xf) * 4
	if hl < IPv4MinimumSize {
		return errIPv4IHLSmall
	}
	if hl > len(b) {
		return errIPv4IHLPastEnd
	}
	tl := int(binary.BigEndian.Uint16(b[ipv4TotalLen:]))
	if tl < hl {
		return errIPv4TotalSmall
	}
	if tl > len(b) {
		return errIPv4TotalPast
	}
	return nil
}

// Version returns the IP version field (4 in a validated view).
func (b IPv4) Version() uint8 { return b[ipv4VersIHL] >> 4 }

// HeaderLength returns the header length in bytes (IHL*4), options included.
func (b IPv4) HeaderLength() int { return int(b[ipv4VersIHL]&0xf) * 4 }

// TOS returns the Type of Service byte (DSCP and ECN, RFC 2474, RFC 3168).
func (b IPv4) TOS() uint8 { return b[ipv4TOS] }

// TotalLength returns the Total Length field: header plus payload in bytes.
func (b IPv4) TotalLength() uint16 { return binary.BigEndian.Uint16(b[ipv4TotalLen:]) }

// ID returns the Identification field that groups fragments.
func (b IPv4) ID() uint16 { return binary.BigEndian.Uint16(b[ipv4ID:]) }

// Flags returns the three flag bits (IPv4FlagDontFragment,
// IPv4FlagMoreFragments, IPv4FlagReserved).
func (b IPv4) Flags() uint8 { return b[ipv4FlagsFO] >> 5 }

// FragmentOffset returns the fragment offset in bytes (the field counts
// 8-byte units).
func (b IPv4) FragmentOffset() uint16 {
	return binary.BigEndian.Uint16(b[ipv4FlagsFO:]) << 3
}

// DontFragment reports whether DF is set, forbidding fragmentation on the
// way (RFC 791; RFC 1191 path MTU discovery relies on it).
func (b IPv4) DontFragment() bool { return b.Flags()&IPv4FlagDontFragment != 0 }

// MoreFragments reports whether MF is set.
func (b IPv4) MoreFragments() bool { return b.Flags()&IPv4FlagMoreFragments != 0 }

// IsFragment reports whether the packet is a fragment (MF set or a non-zero
// offset), i.e. whether its payload may be only part of the datagram.
func (b IPv4) IsFragment() bool {
	return binary.BigEndian.Uint16(b[ipv4FlagsFO:])&0x3fff != 0
}

// TTL returns the Time to Live.
func (b IPv4) TTL() uint8 { return b[ipv4TTL] }

// Protocol returns the upper-layer protocol number (IPv4ProtocolUDP, ...).
func (b IPv4) Protocol() uint8 { return b[ipv4Protocol] }

// Checksum returns the Header Checksum field as stored.
func (b IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(b[ipv4Xsum:]) }

// SourceAddress returns the source address.
func (b IPv4) SourceAddress() [4]byte { return [4]byte(b[ipv4Src : ipv4Src+4]) }

// DestinationAddress returns the destination address.
func (b IPv4) DestinationAddress() [4]byte { return [4]byte(b[ipv4Dst : ipv4Dst+4]) }

// SrcAddr returns the source address as a netip.Addr; it does not allocate.
func (b IPv4) SrcAddr() netip.Addr { return netip.AddrFrom4(b.SourceAddress()) }

// DstAddr returns the destination address as a netip.Addr; it does not
// allocate.
func (b IPv4) DstAddr() netip.Addr { return netip.AddrFrom4(b.DestinationAddress()) }

// Options returns the options area, b[20:HeaderLength()], padding included;
// walk it with OptionIterator. It aliases the packet.
func (b IPv4) Options() []byte { return b[ipv4Options:b.HeaderLength()] }

// Payload returns the bytes between the header and Total Length, aliasing
// the packet; link-layer padding after Total Length is excluded.
func (b IPv4) Payload() []byte { return b[b.HeaderLength():b.TotalLength()] }

// SetTOS sets the Type of Service byte. The checksum is not updated.
func (b IPv4) SetTOS(v uint8) { b[ipv4TOS] = v }

// SetTotalLength sets Total Length. The checksum is not updated.
func (b IPv4) SetTotalLength(v uint16) { binary.BigEndian.PutUint16(b[ipv4TotalLen:], v) }

// SetID sets the Identification field. The checksum is not updated.
func (b IPv4) SetID(v uint16) { binary.BigEndian.PutUint16(b[ipv4ID:], v) }

// SetFlagsFragmentOffset sets the flags (low three bits of flags) and the
// fragment offset in bytes, which must be a multiple of 8 (the low three
// bits are dropped). The checksum is not updated.
func (b IPv4) SetFlagsFragmentOffset(flags uint8, offset uint16) {
	binary.BigEndian.PutUint16(b[ipv4FlagsFO:], uint16(flags&7)<<13|offset>>3)
}

// SetTTL sets the Time to Live. The checksum is not updated; on the
// forwarding path use DecrementTTL instead.
func (b IPv4) SetTTL(v uint8) { b[ipv4TTL] = v }

// SetProtocol sets the Protocol field. The checksum is not updated.
func (b IPv4) SetProtocol(v uint8) { b[ipv4Protocol] = v }

// SetChecksum stores v in the Header Checksum field.
func (b IPv4) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[ipv4Xsum:], v) }

// SetSource sets the source address. The checksum is not updated.
func (b IPv4) SetSource(a [4]byte) { copy(b[ipv4Src:ipv4Src+4], a[:]) }

// SetDestination sets the destination address. The checksum is not updated.
func (b IPv4) SetDestination(a [4]byte) { copy(b[ipv4Dst:ipv4Dst+4], a[:]) }

// CalculateChecksum returns the value the Header Checksum field should hold
// (RFC 791: the complement of the ones'-complement sum of the header), with
// the field itself counted as zero whatever it holds now. Use it after
// rewriting options or several fields; for a TTL decrement DecrementTTL is
// cheaper.
func (b IPv4) CalculateChecksum() uint16 {
	return checksumSkipping(b[:b.HeaderLength()], ipv4Xsum, 0)
}

// UpdateChecksum recomputes and stores the header checksum.
func (b IPv4) UpdateChecksum() { b.SetChecksum(b.CalculateChecksum()) }

// IsChecksumValid reports whether the header checksum is correct: the sum
// over the whole header, checksum included, is all ones (RFC 1071 §1).
func (b IPv4) IsChecksumValid() bool {
	if len(b) >= IPv4MinimumSize && b[ipv4VersIHL]&0xf == IPv4MinimumSize/4 {
		// The usual header without options, summed as five 32-bit words
		// with their carries kept in the upper half: a third of the work
		// of the general loop. All ones is the same in either byte order
		// (RFC 1071 §2(B)), so the little-endian loads need no swap.
		s := uint64(binary.LittleEndian.Uint32(b[0:])) + uint64(binary.LittleEndian.Uint32(b[4:])) +
			uint64(binary.LittleEndian.Uint32(b[8:])) + uint64(binary.LittleEndian.Uint32(b[12:])) +
			uint64(binary.LittleEndian.Uint32(b[16:]))
		return fold64(s) == 0xffff
	}
	return Checksum(b[:b.HeaderLength()], 0) == 0xffff
}

// DecrementTTL decrements the TTL and fixes the header checksum
// incrementally in place, as Linux ip_decrease_ttl does (RFC 1624; two
// additions instead of summing up to 60 bytes). The result is identical to
// a full recomputation.
//
// Precondition: TTL() > 0. A router checks TTL <= 1 and answers with ICMP
// Time Exceeded before it gets here (RFC 1812 §5.3.1).
func (b IPv4) DecrementTTL() {
	b[ipv4TTL]--
	binary.BigEndian.PutUint16(b[ipv4Xsum:], decrementTTLChecksum(binary.BigEndian.Uint16(b[ipv4Xsum:])))
}

// IPv4Fields holds the fields EncodeIPv4 writes. Version and IHL are derived
// and the checksum is computed, so neither has a field.
type IPv4Fields struct {
	// TOS is the Type of Service byte.
	TOS uint8
	// TotalLength is written as is: header plus payload length.
	TotalLength uint16
	// ID is the Identification field.
	ID uint16
	// Flags holds IPv4FlagDontFragment, IPv4FlagMoreFragments bits.
	Flags uint8
	// FragmentOffset is in bytes and must be a multiple of 8.
	FragmentOffset uint16
	// TTL is the Time to Live; zero is written as zero.
	TTL uint8
	// Protocol is the upper-layer protocol number.
	Protocol uint8
	// Src and Dst are the source and destination addresses.
	Src, Dst [4]byte
	// Options are copied after the fixed header and padded with zeros (End
	// of Option List) to a multiple of 4 bytes. At most 40 bytes.
	Options []byte
}

// EncodeIPv4 writes an IPv4 header with f's fields, options and a correct
// checksum into the start of b and returns the header length. The payload
// is not touched.
//
// Precondition: len(b) >= 20+len(f.Options) rounded up to 4, and
// len(f.Options) <= IPv4MaximumOptionsSize; it panics otherwise, as a
// programming error.
func EncodeIPv4(b []byte, f IPv4Fields) int {
	if len(f.Options) > IPv4MaximumOptionsSize {
		panic("header: EncodeIPv4: more than 40 bytes of options")
	}
	hl := IPv4MinimumSize + (len(f.Options)+3)&^3
	h := IPv4(b[:hl])
	h[ipv4VersIHL] = IPv4Version<<4 | uint8(hl/4)
	h[ipv4TOS] = f.TOS
	h.SetTotalLength(f.TotalLength)
	h.SetID(f.ID)
	h.SetFlagsFragmentOffset(f.Flags, f.FragmentOffset)
	h[ipv4TTL] = f.TTL
	h[ipv4Protocol] = f.Protocol
	h.SetSource(f.Src)
	h.SetDestination(f.Dst)
	n := copy(h[ipv4Options:], f.Options)
	clear(h[ipv4Options+n:])
	h.SetChecksum(h.CalculateChecksum())
	return hl
}
