package stack

import (
	"fmt"
	"net/netip"
)

// NICID names a NIC inside one Stack. IDs are small and dense (1, 2, 3 …) so
// per-NIC state on the data path is a slice index, never a map lookup.
type NICID int32

// MaxNICs bounds NIC IDs so per-worker tables can be fixed arrays.
const MaxNICs = 256

// LinkAddress is an Ethernet MAC address. A fixed array, so copying and
// comparing it never allocates.
type LinkAddress [6]byte

// BroadcastLinkAddress is ff:ff:ff:ff:ff:ff.
var BroadcastLinkAddress = LinkAddress{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// String formats the address as aa:bb:cc:dd:ee:ff.
func (a LinkAddress) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5])
}

// IsMulticast reports whether the group bit is set (this includes broadcast).
func (a LinkAddress) IsMulticast() bool { return a[0]&1 != 0 }

// IsBroadcast reports whether a is ff:ff:ff:ff:ff:ff.
func (a LinkAddress) IsBroadcast() bool { return a == BroadcastLinkAddress }

// NetworkProtocolNumber is the EtherType that carries a network protocol.
type NetworkProtocolNumber uint16

// EtherTypes the stack dispatches on.
const (
	IPv4ProtocolNumber NetworkProtocolNumber = 0x0800
	ARPProtocolNumber  NetworkProtocolNumber = 0x0806
	IPv6ProtocolNumber NetworkProtocolNumber = 0x86dd
)

// AddressWithPrefix is an address assigned to a NIC together with the length
// of its on-link prefix, as in "198.18.0.1/24".
type AddressWithPrefix = netip.Prefix

// PacketType tells how the link layer addressed a received frame; RFC 1812
// §5.3.4 forbids forwarding a unicast IP packet that came in a broadcast frame.
type PacketType uint8

// Packet types, mirroring the kernel's PACKET_HOST, PACKET_BROADCAST …
const (
	PacketHost PacketType = iota
	PacketBroadcast
	PacketMulticast
	PacketOtherHost
	PacketOutgoing
)
