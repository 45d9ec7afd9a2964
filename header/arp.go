package header

import (
	"encoding/binary"
	"net/netip"
)

// ARP packet for Ethernet and IPv4, RFC 826:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|        Hardware Type (1)      |     Protocol Type (0x0800)    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  HLEN (6)     |   PLEN (4)    |           Operation           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                Sender Hardware Address (6 bytes)              |
//	+                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                               | Sender Protocol Address (4)   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	|                               | Target Hardware Address (6)   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                Target Protocol Address (4 bytes)              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	arpHType = 0
	arpPType = 2
	arpHLen  = 4
	arpPLen  = 5
	arpOp    = 6
	arpSHA   = 8
	arpSPA   = 14
	arpTHA   = 18
	arpTPA   = 24
)

// ARPSize is the size of an Ethernet/IPv4 ARP packet, the only kind
// nexthop speaks. Frames are usually padded beyond it to the Ethernet
// minimum; the padding is ignored.
const ARPSize = 28

// ARP operations (RFC 826).
const (
	ARPRequest uint16 = 1
	ARPReply   uint16 = 2
)

// ARP hardware and protocol type values for Ethernet/IPv4 (RFC 826, IANA).
const (
	ARPHardwareEthernet uint16 = 1
	ARPProtocolIPv4     uint16 = 0x0800
)

// ARP is a view of an Ethernet/IPv4 ARP packet. It aliases the frame, so an
// arp/ responder can turn a request into a reply in place. Call ValidateARP
// first.
type ARP []byte

// ValidateARP checks that b holds an ARP packet for Ethernet hardware
// addresses and IPv4 protocol addresses (htype 1, ptype 0x0800, hlen 6,
// plen 4); any other kind is rejected with ErrUnsupported.
func ValidateARP(b []byte) error {
	if len(b) < ARPSize {
		return errARPShort
	}
	switch {
	case binary.BigEndian.Uint16(b[arpHType:]) != ARPHardwareEthernet:
		return errARPHardware
	case binary.BigEndian.Uint16(b[arpPType:]) != ARPProtocolIPv4:
		return errARPProtocol
	case b[arpHLen] != 6 || b[arpPLen] != 4:
		return errARPLengths
	}
	return nil
}

// Op returns the operation, ARPRequest or ARPReply (others are legal on the
// wire and left to the caller to ignore).
func (b ARP) Op() uint16 { return binary.BigEndian.Uint16(b[arpOp:]) }

// SenderHW returns the sender hardware (MAC) address.
func (b ARP) SenderHW() [6]byte { return [6]byte(b[arpSHA : arpSHA+6]) }

// SenderIP returns the sender protocol (IPv4) address.
func (b ARP) SenderIP() [4]byte { return [4]byte(b[arpSPA : arpSPA+4]) }

// TargetHW returns the target hardware address (zero in requests).
func (b ARP) TargetHW() [6]byte { return [6]byte(b[arpTHA : arpTHA+6]) }

// TargetIP returns the target protocol address.
func (b ARP) TargetIP() [4]byte { return [4]byte(b[arpTPA : arpTPA+4]) }

// SenderAddr returns SenderIP as a netip.Addr, without allocating.
func (b ARP) SenderAddr() netip.Addr { return netip.AddrFrom4(b.SenderIP()) }

// TargetAddr returns TargetIP as a netip.Addr, without allocating.
func (b ARP) TargetAddr() netip.Addr { return netip.AddrFrom4(b.TargetIP()) }

// SetOp sets the operation.
func (b ARP) SetOp(op uint16) { binary.BigEndian.PutUint16(b[arpOp:], op) }

// SetSenderHW sets the sender hardware address.
func (b ARP) SetSenderHW(a [6]byte) { copy(b[arpSHA:arpSHA+6], a[:]) }

// SetSenderIP sets the sender protocol address.
func (b ARP) SetSenderIP(a [4]byte) { copy(b[arpSPA:arpSPA+4], a[:]) }

// SetTargetHW sets the target hardware address.
func (b ARP) SetTargetHW(a [6]byte) { copy(b[arpTHA:arpTHA+6], a[:]) }

// SetTargetIP sets the target protocol address.
func (b ARP) SetTargetIP(a [4]byte) { copy(b[arpTPA:arpTPA+4], a[:]) }

// EncodeARP writes a complete Ethernet/IPv4 ARP packet into b[:ARPSize].
// For a request, targetHW is the zero address (RFC 826 leaves it unused).
// Precondition: len(b) >= ARPSize.
func EncodeARP(b []byte, op uint16, senderHW [6]byte, senderIP [4]byte, targetHW [6]byte, targetIP [4]byte) {
	_ = b[ARPSize-1]
	binary.BigEndian.PutUint16(b[arpHType:], ARPHardwareEthernet)
	binary.BigEndian.PutUint16(b[arpPType:], ARPProtocolIPv4)
	b[arpHLen] = 6
	b[arpPLen] = 4
	binary.BigEndian.PutUint16(b[arpOp:], op)
	copy(b[arpSHA:], senderHW[:])
	copy(b[arpSPA:], senderIP[:])
	copy(b[arpTHA:], targetHW[:])
	copy(b[arpTPA:], targetIP[:])
}
