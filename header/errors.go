package header

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by a Validate function or an iterator
// in this package wraps exactly one of them, so a protocol can map a rejected
// packet to a drop reason with errors.Is.
var (
	// ErrTooShort means the buffer is shorter than the fixed part of the
	// header it was supposed to hold.
	ErrTooShort = errors.New("header: buffer too short")

	// ErrBadLength means a length field in the packet (IPv4 IHL or Total
	// Length, IPv6 Payload Length, an extension header length, UDP Length,
	// TCP Data Offset) contradicts the header or claims bytes the buffer does
	// not have: a "lying" length.
	ErrBadLength = errors.New("header: length field inconsistent with buffer")

	// ErrBadVersion means the IP version field is not the one the view is for.
	ErrBadVersion = errors.New("header: wrong IP version")

	// ErrUnsupported means a header is well formed but uses a variant this
	// package does not handle, such as ARP for a hardware type other than
	// Ethernet.
	ErrUnsupported = errors.New("header: unsupported header variant")

	// ErrBadOption means an option TLV (IPv4 option, IPv6 Hop-by-Hop or
	// Destination option, NDP option) is malformed: zero length, or a length
	// that runs past the end of its area.
	ErrBadOption = errors.New("header: malformed option")

	// ErrExtHeaderOrder means an IPv6 extension header appears where RFC 8200
	// §4.1 forbids it: Hop-by-Hop Options anywhere but first.
	ErrExtHeaderOrder = errors.New("header: IPv6 extension header out of order")

	// ErrTooManyExtHeaders means an IPv6 packet has more extension headers
	// than WalkIPv6Extensions records (IPv6MaxExtHeaders).
	ErrTooManyExtHeaders = errors.New("header: too many IPv6 extension headers")
)

// The detailed errors are built once, here, so that rejecting a packet on the
// hot path allocates nothing (DESIGN.md §2: zero allocations per packet, and
// a malformed packet is still a packet). The detail is the check that failed;
// the caller knows the packet.
func detail(sentinel error, msg string) error {
	return fmt.Errorf("%w: %s", sentinel, msg)
}

var (
	errEthernetShort = detail(ErrTooShort, "Ethernet frame shorter than 14 bytes")

	errARPShort    = detail(ErrTooShort, "ARP packet shorter than 28 bytes")
	errARPHardware = detail(ErrUnsupported, "ARP hardware type is not Ethernet (1)")
	errARPProtocol = detail(ErrUnsupported, "ARP protocol type is not IPv4 (0x0800)")
	errARPLengths  = detail(ErrUnsupported, "ARP address lengths are not 6 and 4")

	errIPv4Short       = detail(ErrTooShort, "IPv4 packet shorter than 20 bytes")
	errIPv4Version     = detail(ErrBadVersion, "IPv4 version field is not 4")
	errIPv4IHLSmall    = detail(ErrBadLength, "IPv4 IHL smaller than 5")
	errIPv4IHLPastEnd  = detail(ErrBadLength, "IPv4 IHL*4 exceeds the buffer")
	errIPv4TotalSmall  = detail(ErrBadLength, "IPv4 total length smaller than the header length")
	errIPv4TotalPast   = detail(ErrBadLength, "IPv4 total length exceeds the buffer")
	errIPv4OptTrunc    = detail(ErrBadOption, "IPv4 option type without a length byte")
	errIPv4OptLenSmall = detail(ErrBadOption, "IPv4 option length smaller than 2")
	errIPv4OptPastEnd  = detail(ErrBadOption, "IPv4 option length runs past the options area")

	errIPv6Short        = detail(ErrTooShort, "IPv6 packet shorter than 40 bytes")
	errIPv6Version      = detail(ErrBadVersion, "IPv6 version field is not 6")
	errIPv6PayloadPast  = detail(ErrBadLength, "IPv6 payload length exceeds the buffer")
	errIPv6ExtTrunc     = detail(ErrBadLength, "IPv6 extension header truncated")
	errIPv6ExtPastEnd   = detail(ErrBadLength, "IPv6 extension header length runs past the packet")
	errIPv6HopByHop     = detail(ErrExtHeaderOrder, "IPv6 Hop-by-Hop Options header not immediately after the IPv6 header")
	errIPv6TooManyExt   = detail(ErrTooManyExtHeaders, "more IPv6 extension headers than IPv6MaxExtHeaders")
	errIPv6FragShort    = detail(ErrTooShort, "IPv6 Fragment header shorter than 8 bytes")
	errIPv6OptTrunc     = detail(ErrBadOption, "IPv6 option type without a length byte")
	errIPv6OptPastEnd   = detail(ErrBadOption, "IPv6 option length runs past the options area")
	errICMPv4Short      = detail(ErrTooShort, "ICMPv4 message shorter than 8 bytes")
	errICMPv6Short      = detail(ErrTooShort, "ICMPv6 message shorter than 8 bytes")
	errNDPShort         = detail(ErrTooShort, "NDP message shorter than its fixed part")
	errNDPOptTrunc      = detail(ErrBadOption, "NDP option shorter than 2 bytes")
	errNDPOptZero       = detail(ErrBadOption, "NDP option length is zero")
	errNDPOptPastEnd    = detail(ErrBadOption, "NDP option length runs past the message")
	errNDPNotNDP        = detail(ErrUnsupported, "ICMPv6 type is not an NDP message")
	errUDPShort         = detail(ErrTooShort, "UDP datagram shorter than 8 bytes")
	errUDPLengthSmall   = detail(ErrBadLength, "UDP length field smaller than 8")
	errUDPLengthPastEnd = detail(ErrBadLength, "UDP length field exceeds the buffer")
	errTCPShort         = detail(ErrTooShort, "TCP segment shorter than 20 bytes")
	errTCPOffsetSmall   = detail(ErrBadLength, "TCP data offset smaller than 5")
	errTCPOffsetPastEnd = detail(ErrBadLength, "TCP data offset exceeds the buffer")
)
