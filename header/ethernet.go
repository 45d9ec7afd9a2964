package header

import "encoding/binary"

// Ethernet II frame header (IEEE 802.3 clause 3.2, RFC 894):
//
//	+--------------------------+--------------------------+-------------+
//	| Destination MAC (6)      | Source MAC (6)           | EtherType(2)|
//	+--------------------------+--------------------------+-------------+
const (
	ethDst  = 0
	ethSrc  = 6
	ethType = 12
)

// EthernetMinimumSize is the size of an Ethernet II header without VLAN
// tags; the link endpoints reserve this much headroom in front of IP.
const EthernetMinimumSize = 14

// EtherType values nexthop dispatches on (IEEE registry).
const (
	EtherTypeIPv4 uint16 = 0x0800
	EtherTypeARP  uint16 = 0x0806
	EtherTypeVLAN uint16 = 0x8100 // IEEE 802.1Q tag; not parsed here
	EtherTypeIPv6 uint16 = 0x86dd
)

// Ethernet is a view of an Ethernet II header at the start of a frame. It
// aliases the frame: setters rewrite the frame in place (the forwarder's L2
// rewrite). Call ValidateEthernet before using the accessors.
type Ethernet []byte

// ValidateEthernet reports whether b is long enough to hold an Ethernet II
// header; afterwards every accessor of Ethernet(b) is safe.
func ValidateEthernet(b []byte) error {
	if len(b) < EthernetMinimumSize {
		return errEthernetShort
	}
	return nil
}

// Dst returns the destination MAC address.
func (b Ethernet) Dst() [6]byte { return [6]byte(b[ethDst : ethDst+6]) }

// Src returns the source MAC address.
func (b Ethernet) Src() [6]byte { return [6]byte(b[ethSrc : ethSrc+6]) }

// EtherType returns the EtherType that selects the network protocol.
func (b Ethernet) EtherType() uint16 { return binary.BigEndian.Uint16(b[ethType:]) }

// SetDst sets the destination MAC address, as the forwarder does with the
// resolved next hop's address.
func (b Ethernet) SetDst(a [6]byte) { copy(b[ethDst:ethDst+6], a[:]) }

// SetSrc sets the source MAC address to the egress interface's address.
func (b Ethernet) SetSrc(a [6]byte) { copy(b[ethSrc:ethSrc+6], a[:]) }

// SetEtherType sets the EtherType.
func (b Ethernet) SetEtherType(t uint16) { binary.BigEndian.PutUint16(b[ethType:], t) }

// Payload returns the bytes after the header, aliasing the frame.
func (b Ethernet) Payload() []byte { return b[EthernetMinimumSize:] }

// EncodeEthernet writes an Ethernet II header into b[:EthernetMinimumSize].
// Precondition: len(b) >= EthernetMinimumSize.
func EncodeEthernet(b []byte, dst, src [6]byte, etherType uint16) {
	_ = b[EthernetMinimumSize-1]
	copy(b[ethDst:], dst[:])
	copy(b[ethSrc:], src[:])
	binary.BigEndian.PutUint16(b[ethType:], etherType)
}
