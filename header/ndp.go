package header

import (
	"encoding/binary"
	"net/netip"
)

// NDP (RFC 4861 §4) messages are ICMPv6 messages whose body, after the
// 4-byte type/code/checksum, is a fixed part followed by options. The views
// below take that body, ICMPv6.MessageBody(); ValidateNDP checks it.

// Fixed sizes of the NDP message bodies (after the 4-byte ICMPv6 header).
const (
	NDPRouterSolicitMinimumSize   = 4  // Reserved
	NDPRouterAdvertMinimumSize    = 12 // hop limit, flags, lifetime, reachable, retrans
	NDPNeighborSolicitMinimumSize = 20 // Reserved, Target
	NDPNeighborAdvertMinimumSize  = 20 // flags, Reserved, Target
	NDPRedirectMinimumSize        = 36 // Reserved, Target, Destination
)

// ndpBodyMinimum returns the fixed body size of NDP message type t, or -1 if
// t is not an NDP message.
func ndpBodyMinimum(t ICMPv6Type) int {
	switch t {
	case ICMPv6RouterSolicit:
		return NDPRouterSolicitMinimumSize
	case ICMPv6RouterAdvert:
		return NDPRouterAdvertMinimumSize
	case ICMPv6NeighborSolicit:
		return NDPNeighborSolicitMinimumSize
	case ICMPv6NeighborAdvert:
		return NDPNeighborAdvertMinimumSize
	case ICMPv6Redirect:
		return NDPRedirectMinimumSize
	}
	return -1
}

// ValidateNDP checks the structure of an NDP message m (an ICMPv6 view of
// type 133-137): the body is at least its fixed size, and the options are
// well formed (no zero length, none running past the message; RFC 4861
// §4.6). After it, the body views and their option iterators are safe. The
// other RFC 4861 §6.1/§7.1 checks (Hop Limit 255, code 0, checksum, the
// source address rules) need the IPv6 header and are ndp/'s.
func ValidateNDP(m ICMPv6) error {
	if len(m) < ICMPv6HeaderSize {
		return errNDPShort
	}
	fixed := ndpBodyMinimum(m.Type())
	if fixed < 0 {
		return errNDPNotNDP
	}
	body := m[ICMPv6HeaderSize:]
	if len(body) < fixed {
		return errNDPShort
	}
	it := NewNDPOptionIterator(body[fixed:])
	for _, ok := it.Next(); ok; _, ok = it.Next() {
	}
	return it.Err()
}

// NDPRouterSolicit is the body of a Router Solicitation (RFC 4861 §4.1):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                            Reserved                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Options ...
type NDPRouterSolicit []byte

// Options returns the options area.
func (b NDPRouterSolicit) Options() []byte { return b[NDPRouterSolicitMinimumSize:] }

// NDPRouterAdvert is the body of a Router Advertisement (RFC 4861 §4.2):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Cur Hop Limit |M|O|  Reserved |       Router Lifetime         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         Reachable Time                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                          Retrans Timer                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Options ...
type NDPRouterAdvert []byte

const (
	ndpRAHopLimit  = 0
	ndpRAFlags     = 1
	ndpRALifetime  = 2
	ndpRAReachable = 4
	ndpRARetrans   = 8
	ndpRAManaged   = 0x80
	ndpRAOther     = 0x40
)

// CurHopLimit returns the hop limit hosts should use (0: unspecified).
func (b NDPRouterAdvert) CurHopLimit() uint8 { return b[ndpRAHopLimit] }

// Managed reports the M flag: addresses are available via DHCPv6.
func (b NDPRouterAdvert) Managed() bool { return b[ndpRAFlags]&ndpRAManaged != 0 }

// Other reports the O flag: other configuration is available via DHCPv6.
func (b NDPRouterAdvert) Other() bool { return b[ndpRAFlags]&ndpRAOther != 0 }

// RouterLifetime returns the default-router lifetime in seconds (0: not a
// default router).
func (b NDPRouterAdvert) RouterLifetime() uint16 {
	return binary.BigEndian.Uint16(b[ndpRALifetime:])
}

// ReachableTime returns the Reachable Time in milliseconds (0: unspecified).
func (b NDPRouterAdvert) ReachableTime() uint32 {
	return binary.BigEndian.Uint32(b[ndpRAReachable:])
}

// RetransTimer returns the Retrans Timer in milliseconds (0: unspecified).
func (b NDPRouterAdvert) RetransTimer() uint32 {
	return binary.BigEndian.Uint32(b[ndpRARetrans:])
}

// Options returns the options area.
func (b NDPRouterAdvert) Options() []byte { return b[NDPRouterAdvertMinimumSize:] }

// NDPNeighborSolicit is the body of a Neighbor Solicitation (RFC 4861 §4.3):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                           Reserved                            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       Target Address (16)                     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Options ...
type NDPNeighborSolicit []byte

const ndpTarget = 4

// TargetAddress returns the address being resolved.
func (b NDPNeighborSolicit) TargetAddress() [16]byte {
	return [16]byte(b[ndpTarget : ndpTarget+16])
}

// Target returns TargetAddress as a netip.Addr, without allocating.
func (b NDPNeighborSolicit) Target() netip.Addr { return netip.AddrFrom16(b.TargetAddress()) }

// Options returns the options area.
func (b NDPNeighborSolicit) Options() []byte { return b[NDPNeighborSolicitMinimumSize:] }

// NDPNeighborAdvert is the body of a Neighbor Advertisement (RFC 4861 §4.4):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|R|S|O|                     Reserved                            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       Target Address (16)                     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Options ...
type NDPNeighborAdvert []byte

const (
	ndpNAFlags     = 0
	ndpNARouter    = 0x80
	ndpNASolicited = 0x40
	ndpNAOverride  = 0x20
)

// Router reports the R flag: the sender is a router.
func (b NDPNeighborAdvert) Router() bool { return b[ndpNAFlags]&ndpNARouter != 0 }

// Solicited reports the S flag: the advertisement answers a solicitation,
// which confirms reachability (RFC 4861 §7.2.5).
func (b NDPNeighborAdvert) Solicited() bool { return b[ndpNAFlags]&ndpNASolicited != 0 }

// Override reports the O flag: the advertisement should replace a cached
// link-layer address.
func (b NDPNeighborAdvert) Override() bool { return b[ndpNAFlags]&ndpNAOverride != 0 }

// TargetAddress returns the address whose link-layer address is advertised.
func (b NDPNeighborAdvert) TargetAddress() [16]byte {
	return [16]byte(b[ndpTarget : ndpTarget+16])
}

// Target returns TargetAddress as a netip.Addr, without allocating.
func (b NDPNeighborAdvert) Target() netip.Addr { return netip.AddrFrom16(b.TargetAddress()) }

// Options returns the options area.
func (b NDPNeighborAdvert) Options() []byte { return b[NDPNeighborAdvertMinimumSize:] }

// NDPRedirect is the body of a Redirect (RFC 4861 §4.5):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                           Reserved                            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       Target Address (16)                     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                     Destination Address (16)                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Options ...
type NDPRedirect []byte

const ndpRedirectDst = 20

// TargetAddress returns the better first hop for DestinationAddress.
func (b NDPRedirect) TargetAddress() [16]byte {
	return [16]byte(b[ndpTarget : ndpTarget+16])
}

// DestinationAddress returns the destination being redirected.
func (b NDPRedirect) DestinationAddress() [16]byte {
	return [16]byte(b[ndpRedirectDst : ndpRedirectDst+16])
}

// Options returns the options area.
func (b NDPRedirect) Options() []byte { return b[NDPRedirectMinimumSize:] }

// NDP option types (RFC 4861 §4.6, RFC 8106).
const (
	NDPOptionSourceLinkLayerAddress uint8 = 1
	NDPOptionTargetLinkLayerAddress uint8 = 2
	NDPOptionPrefixInformation      uint8 = 3
	NDPOptionRedirectedHeader       uint8 = 4
	NDPOptionMTU                    uint8 = 5
	NDPOptionRDNSS                  uint8 = 25
)

// Sizes of the NDP options the builders write (RFC 4861 §4.6).
const (
	// NDPLinkLayerAddressOptionSize is a Source/Target Link-Layer Address
	// option for Ethernet: type, length 1, 6-byte MAC.
	NDPLinkLayerAddressOptionSize = 8
	// NDPPrefixInformationOptionSize is a Prefix Information option.
	NDPPrefixInformationOptionSize = 32
	// NDPMTUOptionSize is an MTU option.
	NDPMTUOptionSize = 8
)

// NDP option (RFC 4861 §4.6), Length in units of 8 octets, type and length
// included:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |    Length     |              ...              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	ndpOptType = 0
	ndpOptLen  = 1
	ndpOptData = 2
)

// NDPOption is one option found by NDPOptionIterator; Raw aliases the
// message and holds the whole option, type and length included.
type NDPOption struct {
	// Type is the option type (NDPOptionSourceLinkLayerAddress, ...).
	Type uint8
	// Offset is the option's offset in the options area.
	Offset int
	// Raw is the whole option, Length*8 bytes.
	Raw []byte
}

// Data returns the option's bytes after type and length (nil for the zero
// NDPOption).
func (o NDPOption) Data() []byte {
	if len(o.Raw) < ndpOptData {
		return nil
	}
	return o.Raw[ndpOptData:]
}

// LinkLayerAddress returns the MAC address of a Source or Target
// Link-Layer Address option, and false if the option is neither or is not
// the 8-byte Ethernet form (RFC 2464 §6).
func (o NDPOption) LinkLayerAddress() ([6]byte, bool) {
	if (o.Type != NDPOptionSourceLinkLayerAddress && o.Type != NDPOptionTargetLinkLayerAddress) ||
		len(o.Raw) != NDPLinkLayerAddressOptionSize {
		return [6]byte{}, false
	}
	return [6]byte(o.Raw[ndpOptData:]), true
}

// MTU returns the value of an MTU option, and false if the option is not a
// well-formed MTU option.
func (o NDPOption) MTU() (uint32, bool) {
	if o.Type != NDPOptionMTU || len(o.Raw) != NDPMTUOptionSize {
		return 0, false
	}
	return binary.BigEndian.Uint32(o.Raw[4:]), true
}

// PrefixInformation returns the view of a Prefix Information option, and
// false if the option is not one or has the wrong length (RFC 4861 §4.6.2:
// Length 4).
func (o NDPOption) PrefixInformation() (NDPPrefixInformation, bool) {
	if o.Type != NDPOptionPrefixInformation || len(o.Raw) != NDPPrefixInformationOptionSize {
		return nil, false
	}
	return NDPPrefixInformation(o.Raw), true
}

// NDPOptionIterator walks NDP options without allocating. Unknown options
// are returned like known ones, for the caller to skip (RFC 4861 §4.6: they
// "MUST be silently ignored"). A zero length or one running past the area
// stops it with Err set; RFC 4861 §6.1 then discards the whole message.
type NDPOptionIterator struct {
	opts []byte
	off  int
	err  error
}

// NewNDPOptionIterator returns an iterator over an options area, such as
// NDPNeighborSolicit.Options().
func NewNDPOptionIterator(opts []byte) NDPOptionIterator { return NDPOptionIterator{opts: opts} }

// Next returns the next option, or false at the end or on error.
func (it *NDPOptionIterator) Next() (NDPOption, bool) {
	if it.err != nil || it.off >= len(it.opts) {
		return NDPOption{}, false
	}
	start := it.off
	if len(it.opts)-start < 2 {
		it.err = errNDPOptTrunc
		return NDPOption{}, false
	}
	l := int(it.opts[start+ndpOptLen]) * 8
	if l == 0 {
		it.err = errNDPOptZero
		return NDPOption{}, false
	}
	if l > len(it.opts)-start {
		it.err = errNDPOptPastEnd
		return NDPOption{}, false
	}
	it.off += l
	return NDPOption{Type: it.opts[start+ndpOptType], Offset: start, Raw: it.opts[start : start+l]}, true
}

// Err returns the error that stopped the iteration, or nil; it wraps
// ErrBadOption.
func (it *NDPOptionIterator) Err() error { return it.err }

// NDPPrefixInformation is a view of a Prefix Information option (RFC 4861
// §4.6.2), type and length included:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |    Length     | Prefix Length |L|A| Reserved1 |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         Valid Lifetime                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       Preferred Lifetime                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                           Reserved2                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                          Prefix (16)                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type NDPPrefixInformation []byte

const (
	ndpPIPrefixLen  = 2
	ndpPIFlags      = 3
	ndpPIValid      = 4
	ndpPIPreferred  = 8
	ndpPIPrefix     = 16
	ndpPIOnLink     = 0x80
	ndpPIAutonomous = 0x40
)

// PrefixLength returns the number of leading bits of Prefix that are valid.
func (b NDPPrefixInformation) PrefixLength() uint8 { return b[ndpPIPrefixLen] }

// OnLink reports the L flag: the prefix is on-link.
func (b NDPPrefixInformation) OnLink() bool { return b[ndpPIFlags]&ndpPIOnLink != 0 }

// Autonomous reports the A flag: hosts may form addresses with SLAAC.
func (b NDPPrefixInformation) Autonomous() bool { return b[ndpPIFlags]&ndpPIAutonomous != 0 }

// ValidLifetime returns the valid lifetime in seconds (0xffffffff: forever).
func (b NDPPrefixInformation) ValidLifetime() uint32 {
	return binary.BigEndian.Uint32(b[ndpPIValid:])
}

// PreferredLifetime returns the preferred lifetime in seconds.
func (b NDPPrefixInformation) PreferredLifetime() uint32 {
	return binary.BigEndian.Uint32(b[ndpPIPreferred:])
}

// PrefixAddress returns the 16 prefix bytes as sent.
func (b NDPPrefixInformation) PrefixAddress() [16]byte {
	return [16]byte(b[ndpPIPrefix : ndpPIPrefix+16])
}

// Prefix returns the prefix as a netip.Prefix, masked to its length; a
// length above 128 yields the invalid zero Prefix.
func (b NDPPrefixInformation) Prefix() netip.Prefix {
	p, err := netip.AddrFrom16(b.PrefixAddress()).Prefix(int(b.PrefixLength()))
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

// NDPPrefix is a Prefix Information option for EncodeNDPRouterAdvert.
type NDPPrefix struct {
	// Prefix and Length give the prefix; bits after Length are written as
	// zero, as RFC 4861 §4.6.2 requires.
	Prefix [16]byte
	Length uint8
	// OnLink and Autonomous are the L and A flags.
	OnLink, Autonomous bool
	// ValidLifetime and PreferredLifetime are in seconds.
	ValidLifetime, PreferredLifetime uint32
}

func putNDPLinkLayerOption(b []byte, t uint8, addr [6]byte) int {
	b[ndpOptType] = t
	b[ndpOptLen] = 1
	copy(b[ndpOptData:NDPLinkLayerAddressOptionSize], addr[:])
	return NDPLinkLayerAddressOptionSize
}

func putNDPMTUOption(b []byte, mtu uint32) int {
	b = b[:NDPMTUOptionSize]
	b[ndpOptType] = NDPOptionMTU
	b[ndpOptLen] = 1
	b[2], b[3] = 0, 0
	binary.BigEndian.PutUint32(b[4:], mtu)
	return NDPMTUOptionSize
}

func putNDPPrefixOption(b []byte, p NDPPrefix) int {
	b = b[:NDPPrefixInformationOptionSize]
	clear(b)
	b[ndpOptType] = NDPOptionPrefixInformation
	b[ndpOptLen] = NDPPrefixInformationOptionSize / 8
	b[ndpPIPrefixLen] = p.Length
	if p.OnLink {
		b[ndpPIFlags] |= ndpPIOnLink
	}
	if p.Autonomous {
		b[ndpPIFlags] |= ndpPIAutonomous
	}
	binary.BigEndian.PutUint32(b[ndpPIValid:], p.ValidLifetime)
	binary.BigEndian.PutUint32(b[ndpPIPreferred:], p.PreferredLifetime)
	copy(b[ndpPIPrefix:], p.Prefix[:])
	// Zero the bits past the prefix length.
	pfx := b[ndpPIPrefix:]
	for i := range 16 {
		bit := int(p.Length) - i*8
		switch {
		case bit <= 0:
			pfx[i] = 0
		case bit < 8:
			pfx[i] &= ^uint8(0xff >> bit)
		}
	}
	return NDPPrefixInformationOptionSize
}

// putICMPv6NDPHeader writes type, code 0 and a zero checksum and returns the
// body slice.
func putICMPv6NDPHeader(b []byte, t ICMPv6Type) []byte {
	b[icmpType] = uint8(t)
	b[icmpCode] = 0
	b[icmpXsum], b[icmpXsum+1] = 0, 0
	return b[ICMPv6HeaderSize:]
}

// NDPRouterSolicitFields holds what EncodeNDPRouterSolicit writes.
type NDPRouterSolicitFields struct {
	// SourceLinkAddr is sent as a Source Link-Layer Address option; the
	// zero address omits it, as required when the IPv6 source is
	// unspecified (RFC 4861 §4.1).
	SourceLinkAddr [6]byte
}

// EncodeNDPRouterSolicit writes a complete Router Solicitation, checksum
// for src and dst included, at the start of b and returns its length.
// Precondition: len(b) >= 8 (+8 with a link-layer address).
func EncodeNDPRouterSolicit(b []byte, f NDPRouterSolicitFields, src, dst [16]byte) int {
	body := putICMPv6NDPHeader(b, ICMPv6RouterSolicit)
	clear(body[:NDPRouterSolicitMinimumSize])
	n := ICMPv6HeaderSize + NDPRouterSolicitMinimumSize
	if f.SourceLinkAddr != ([6]byte{}) {
		n += putNDPLinkLayerOption(b[n:], NDPOptionSourceLinkLayerAddress, f.SourceLinkAddr)
	}
	ICMPv6(b[:n]).UpdateChecksum(src, dst)
	return n
}

// NDPRouterAdvertFields holds what EncodeNDPRouterAdvert writes.
type NDPRouterAdvertFields struct {
	// CurHopLimit is advertised to hosts; 0 means unspecified.
	CurHopLimit uint8
	// Managed and Other are the M and O flags.
	Managed, Other bool
	// RouterLifetime is in seconds; 0 means "not a default router".
	RouterLifetime uint16
	// ReachableTime and RetransTimer are in milliseconds; 0 means
	// unspecified.
	ReachableTime, RetransTimer uint32
	// SourceLinkAddr is sent as a Source Link-Layer Address option unless
	// zero.
	SourceLinkAddr [6]byte
	// MTU is sent as an MTU option unless zero.
	MTU uint32
	// Prefixes are sent as Prefix Information options, in order.
	Prefixes []NDPPrefix
}

// EncodeNDPRouterAdvert writes a complete Router Advertisement, checksum
// for src and dst included, at the start of b and returns its length.
// Precondition: len(b) >= 16 + 8 (link address) + 8 (MTU) + 32 per prefix.
func EncodeNDPRouterAdvert(b []byte, f NDPRouterAdvertFields, src, dst [16]byte) int {
	body := putICMPv6NDPHeader(b, ICMPv6RouterAdvert)[:NDPRouterAdvertMinimumSize]
	body[ndpRAHopLimit] = f.CurHopLimit
	body[ndpRAFlags] = 0
	if f.Managed {
		body[ndpRAFlags] |= ndpRAManaged
	}
	if f.Other {
		body[ndpRAFlags] |= ndpRAOther
	}
	binary.BigEndian.PutUint16(body[ndpRALifetime:], f.RouterLifetime)
	binary.BigEndian.PutUint32(body[ndpRAReachable:], f.ReachableTime)
	binary.BigEndian.PutUint32(body[ndpRARetrans:], f.RetransTimer)
	n := ICMPv6HeaderSize + NDPRouterAdvertMinimumSize
	if f.SourceLinkAddr != ([6]byte{}) {
		n += putNDPLinkLayerOption(b[n:], NDPOptionSourceLinkLayerAddress, f.SourceLinkAddr)
	}
	if f.MTU != 0 {
		n += putNDPMTUOption(b[n:], f.MTU)
	}
	for _, p := range f.Prefixes {
		n += putNDPPrefixOption(b[n:], p)
	}
	ICMPv6(b[:n]).UpdateChecksum(src, dst)
	return n
}

// NDPNeighborSolicitFields holds what EncodeNDPNeighborSolicit writes.
type NDPNeighborSolicitFields struct {
	// Target is the address being resolved.
	Target [16]byte
	// SourceLinkAddr is sent as a Source Link-Layer Address option; the
	// zero address omits it, as Duplicate Address Detection requires (RFC
	// 4861 §4.3: not included when the source is unspecified).
	SourceLinkAddr [6]byte
}

// EncodeNDPNeighborSolicit writes a complete Neighbor Solicitation,
// checksum for src and dst included, at the start of b and returns its
// length.
// Precondition: len(b) >= 24 (+8 with a link-layer address).
func EncodeNDPNeighborSolicit(b []byte, f NDPNeighborSolicitFields, src, dst [16]byte) int {
	body := putICMPv6NDPHeader(b, ICMPv6NeighborSolicit)[:NDPNeighborSolicitMinimumSize]
	clear(body[:ndpTarget])
	copy(body[ndpTarget:], f.Target[:])
	n := ICMPv6HeaderSize + NDPNeighborSolicitMinimumSize
	if f.SourceLinkAddr != ([6]byte{}) {
		n += putNDPLinkLayerOption(b[n:], NDPOptionSourceLinkLayerAddress, f.SourceLinkAddr)
	}
	ICMPv6(b[:n]).UpdateChecksum(src, dst)
	return n
}

// NDPNeighborAdvertFields holds what EncodeNDPNeighborAdvert writes.
type NDPNeighborAdvertFields struct {
	// Target is the address being advertised.
	Target [16]byte
	// Router, Solicited and Override are the R, S and O flags.
	Router, Solicited, Override bool
	// TargetLinkAddr is sent as a Target Link-Layer Address option unless
	// zero (RFC 4861 §4.4: it must be included in answers to multicast
	// solicitations).
	TargetLinkAddr [6]byte
}

// EncodeNDPNeighborAdvert writes a complete Neighbor Advertisement,
// checksum for src and dst included, at the start of b and returns its
// length.
// Precondition: len(b) >= 24 (+8 with a link-layer address).
func EncodeNDPNeighborAdvert(b []byte, f NDPNeighborAdvertFields, src, dst [16]byte) int {
	body := putICMPv6NDPHeader(b, ICMPv6NeighborAdvert)[:NDPNeighborAdvertMinimumSize]
	clear(body[:ndpTarget])
	if f.Router {
		body[ndpNAFlags] |= ndpNARouter
	}
	if f.Solicited {
		body[ndpNAFlags] |= ndpNASolicited
	}
	if f.Override {
		body[ndpNAFlags] |= ndpNAOverride
	}
	copy(body[ndpTarget:], f.Target[:])
	n := ICMPv6HeaderSize + NDPNeighborAdvertMinimumSize
	if f.TargetLinkAddr != ([6]byte{}) {
		n += putNDPLinkLayerOption(b[n:], NDPOptionTargetLinkLayerAddress, f.TargetLinkAddr)
	}
	ICMPv6(b[:n]).UpdateChecksum(src, dst)
	return n
}
