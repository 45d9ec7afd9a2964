package ndp

import (
	"hash/fnv"
	"net/netip"

	"github.com/nexthop-router/nexthop/stack"
)

// Well-known IPv6 multicast groups a router belongs to (RFC 4291 §2.7.1).
var (
	// AllNodes is ff02::1, where unsolicited advertisements go.
	AllNodes = netip.AddrFrom16([16]byte{0xff, 0x02, 15: 0x01})
	// AllRouters is ff02::2, where hosts send Router Solicitations.
	AllRouters = netip.AddrFrom16([16]byte{0xff, 0x02, 15: 0x02})
)

// SolicitedNode returns the solicited-node multicast group of addr,
// ff02::1:ffXX:XXXX with the low 24 bits of addr (RFC 4291 §2.7.1): the
// group a Neighbor Solicitation for addr is sent to.
func SolicitedNode(addr [16]byte) [16]byte {
	return [16]byte{0xff, 0x02, 11: 0x01, 12: 0xff, 13: addr[13], 14: addr[14], 15: addr[15]}
}

// IsSolicitedNode reports whether a is a solicited-node group
// (ff02::1:ff00:0/104).
func IsSolicitedNode(a [16]byte) bool {
	return a[0] == 0xff && a[1] == 0x02 && a[2]|a[3]|a[4]|a[5]|a[6]|a[7]|a[8]|a[9]|a[10] == 0 &&
		a[11] == 0x01 && a[12] == 0xff
}

// MulticastLinkAddress maps an IPv6 multicast address to its Ethernet
// address 33:33:xx:xx:xx:xx, the low 32 bits of the group (RFC 2464 §7), so
// multicast packets need no resolution.
func MulticastLinkAddress(a [16]byte) stack.LinkAddress {
	return stack.LinkAddress{0x33, 0x33, a[12], a[13], a[14], a[15]}
}

// LinkLocalEUI64 returns fe80::/64 with the modified EUI-64 interface
// identifier of mac (RFC 4291 Appendix A, RFC 2464 §5): the link-local
// address the router gives every interface, stable for as long as the MAC
// is. A router's addresses are not a privacy concern (RFC 7217 targets
// hosts), and EUI-64 is what neighbours and operators expect from `ip -6
// addr` on a router port.
func LinkLocalEUI64(mac stack.LinkAddress) netip.Addr {
	return netip.AddrFrom16([16]byte{
		0xfe, 0x80,
		8: mac[0] ^ 0x02, 9: mac[1], 10: mac[2], 11: 0xff, 12: 0xfe,
		13: mac[3], 14: mac[4], 15: mac[5],
	})
}

// LinkLocalStable returns a fe80::/64 address whose interface identifier is
// a hash of the interface name and MAC, in the spirit of RFC 7217's stable
// identifiers. The ipv6 endpoint falls back to it when another interface
// already holds the EUI-64 address (two ports with one MAC), because the
// stack requires addresses to be unique across interfaces.
func LinkLocalStable(name string, mac stack.LinkAddress) netip.Addr {
	h := fnv.New64a()
	h.Write([]byte(name))
	h.Write(mac[:])
	v := h.Sum64()
	var a [16]byte
	a[0], a[1] = 0xfe, 0x80
	for i := range 8 {
		a[8+i] = byte(v >> (56 - 8*i))
	}
	a[8] &^= 0x02 // u bit clear: not derived from a universal MAC
	return netip.AddrFrom16(a)
}

func isUnspecified(a [16]byte) bool { return a == [16]byte{} }

func isMulticast(a [16]byte) bool { return a[0] == 0xff }

func isLinkLocal(a [16]byte) bool { return a[0] == 0xfe && a[1]&0xc0 == 0x80 }
