package header

import "encoding/binary"

// IPv6 extension header types (RFC 8200 §4, IANA "IPv6 Extension Header
// Types"), as found in a Next Header field.
const (
	IPv6ExtHopByHop    uint8 = 0   // Hop-by-Hop Options, RFC 8200 §4.3
	IPv6ExtRouting     uint8 = 43  // Routing, RFC 8200 §4.4
	IPv6ExtFragment    uint8 = 44  // Fragment, RFC 8200 §4.5
	IPv6ExtESP         uint8 = 50  // Encapsulating Security Payload, RFC 4303: opaque
	IPv6ExtAH          uint8 = 51  // Authentication Header, RFC 4302
	IPv6NoNextHeader   uint8 = 59  // RFC 8200 §4.7: nothing follows
	IPv6ExtDestination uint8 = 60  // Destination Options, RFC 8200 §4.6
	IPv6ExtMobility    uint8 = 135 // RFC 6275
	IPv6ExtHIP         uint8 = 139 // RFC 7401
	IPv6ExtShim6       uint8 = 140 // RFC 5533
	IPv6ExtExp1        uint8 = 253 // RFC 3692 experimentation
	IPv6ExtExp2        uint8 = 254 // RFC 3692 experimentation
)

// IPv6MaxExtHeaders is how many extension headers WalkIPv6Extensions
// records. RFC 8200 §4.1 recommends at most one of each (Destination Options
// twice), about six in all; a longer chain is most likely an attack on
// per-header processing and is rejected with ErrTooManyExtHeaders.
const IPv6MaxExtHeaders = 8

// Every extension header starts with Next Header and, except Fragment, a
// length byte (RFC 8200 §4, RFC 6564 uniform format):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Next Header  |  Hdr Ext Len  |                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	|                  data: (Hdr Ext Len+1)*8 - 2 bytes            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// AH counts 4-byte words minus 2 instead (RFC 4302 §2.2), and Fragment is a
// fixed 8 bytes.
const (
	ipv6ExtNextHeader = 0
	ipv6ExtLen        = 1
	ipv6ExtData       = 2
)

// IPv6ExtHdr describes one extension header found by the walk. Offsets are
// from the start of the IPv6 packet, so pkt[h.Offset:h.Offset+h.Length] is
// the whole header.
type IPv6ExtHdr struct {
	// Type is this header's type (IPv6ExtHopByHop, ...), taken from the
	// previous header's Next Header field.
	Type uint8
	// NextHeader is this header's Next Header field.
	NextHeader uint8
	// Offset is where the header starts in the packet.
	Offset int
	// Length is the header's size in bytes, including Next Header and
	// length bytes.
	Length int
}

// Bytes returns the header's bytes in pkt, the packet it was walked from.
func (h IPv6ExtHdr) Bytes(pkt IPv6) []byte { return pkt[h.Offset : h.Offset+h.Length] }

// OptionIterator returns an iterator over the TLV options of a Hop-by-Hop or
// Destination Options header of pkt, with option offsets from the start of
// the packet (ready for an ICMPv6 Parameter Problem pointer). For other
// header types it iterates nonsense; check Type first.
func (h IPv6ExtHdr) OptionIterator(pkt IPv6) IPv6OptionIterator {
	return NewIPv6OptionIterator(pkt[h.Offset+ipv6ExtData:h.Offset+h.Length], h.Offset+ipv6ExtData)
}

// Fragment returns the view of a Fragment header (Type IPv6ExtFragment).
func (h IPv6ExtHdr) Fragment(pkt IPv6) IPv6Fragment {
	return IPv6Fragment(pkt[h.Offset : h.Offset+h.Length])
}

// IsIPv6ExtensionHeader reports whether Next Header value t names an
// extension header that IPv6ExtHdrIterator walks through (RFC 7045 §2): the
// chain continues after it. ESP and No Next Header end the chain and are not
// included.
func IsIPv6ExtensionHeader(t uint8) bool {
	switch t {
	case IPv6ExtHopByHop, IPv6ExtRouting, IPv6ExtFragment, IPv6ExtAH, IPv6ExtDestination,
		IPv6ExtMobility, IPv6ExtHIP, IPv6ExtShim6, IPv6ExtExp1, IPv6ExtExp2:
		return true
	}
	return false
}

// IPv6ExtHdrIterator walks the extension header chain of a validated IPv6
// packet without allocating. Each Next returns one extension header; when it
// returns false either Err is set or UpperLayer gives the protocol that ends
// the chain. It never reads past Payload Length, whatever the length fields
// say.
type IPv6ExtHdrIterator struct {
	pkt              []byte // the packet up to 40+Payload Length
	next             uint8  // type of the header at off
	off              int    // offset of the next header to parse
	nhOff            int    // offset of the Next Header field that holds next
	errPtr           int
	done             bool
	nonFirstFragment bool
	err              error
}

// NewIPv6ExtHdrIterator starts a walk after the fixed header of pkt, which
// should have passed ValidateIPv6; if it does not, the iterator yields
// nothing and Err returns ValidateIPv6's error.
func NewIPv6ExtHdrIterator(pkt IPv6) IPv6ExtHdrIterator {
	if err := ValidateIPv6(pkt); err != nil {
		return IPv6ExtHdrIterator{err: err}
	}
	return IPv6ExtHdrIterator{
		pkt:   pkt[:IPv6MinimumSize+int(pkt.PayloadLength())],
		next:  pkt.NextHeader(),
		off:   IPv6MinimumSize,
		nhOff: ipv6NextHeader,
	}
}

// Next returns the next extension header, or false at the end of the chain
// or on error.
func (it *IPv6ExtHdrIterator) Next() (IPv6ExtHdr, bool) {
	if it.done || it.err != nil {
		return IPv6ExtHdr{}, false
	}
	if !IsIPv6ExtensionHeader(it.next) {
		it.done = true
		return IPv6ExtHdr{}, false
	}
	if it.next == IPv6ExtHopByHop && it.off != IPv6MinimumSize {
		// RFC 8200 §4: a Next Header of zero anywhere but the IPv6 header
		// is answered with Parameter Problem code 1 pointing at it.
		return it.fail(errIPv6HopByHop, it.nhOff)
	}
	rest := len(it.pkt) - it.off
	if rest < 2 {
		// The packet ends where the previous header said another begins:
		// point at that Next Header field.
		return it.fail(errIPv6ExtTrunc, it.nhOff)
	}
	var l int
	switch it.next {
	case IPv6ExtFragment:
		if rest < IPv6FragmentHeaderSize {
			return it.fail(errIPv6ExtTrunc, it.nhOff)
		}
		l = IPv6FragmentHeaderSize
	case IPv6ExtAH:
		l = (int(it.pkt[it.off+ipv6ExtLen]) + 2) * 4
	default:
		l = (int(it.pkt[it.off+ipv6ExtLen]) + 1) * 8
	}
	if l > rest {
		// The length field lies: point at it.
		return it.fail(errIPv6ExtPastEnd, it.off+ipv6ExtLen)
	}
	h := IPv6ExtHdr{Type: it.next, NextHeader: it.pkt[it.off], Offset: it.off, Length: l}
	it.nhOff = it.off + ipv6ExtNextHeader
	it.next = h.NextHeader
	it.off += l
	if h.Type == IPv6ExtFragment && IPv6Fragment(it.pkt[h.Offset:]).FragmentOffset() != 0 {
		// What follows a non-first fragment's Fragment header is fragment
		// data, not headers (RFC 8200 §4.5).
		it.nonFirstFragment = true
		it.done = true
	}
	return h, true
}

func (it *IPv6ExtHdrIterator) fail(err error, ptr int) (IPv6ExtHdr, bool) {
	it.err = err
	it.errPtr = ptr
	return IPv6ExtHdr{}, false
}

// Err returns the error that stopped the walk, or nil. It wraps ErrBadLength
// (a header runs past the packet) or ErrExtHeaderOrder.
func (it *IPv6ExtHdrIterator) Err() error { return it.err }

// ErrPointer returns, once Err is set, the offset in the packet of the field
// at fault, for the Pointer of an ICMPv6 Parameter Problem (RFC 4443 §3.4):
// the Next Header field naming a misplaced Hop-by-Hop header or a header
// the packet has no room for, or the length field that runs past the
// packet. It is always inside the packet.
func (it *IPv6ExtHdrIterator) ErrPointer() int { return it.errPtr }

// UpperLayer returns, once Next has returned false with Err nil, the
// protocol that ends the chain (TCP, UDP, ICMPv6, ESP, No Next Header, or
// anything unknown) and its offset in the packet. For a non-first fragment
// it is the Fragment header's Next Header, and what is at the offset is
// fragment data.
func (it *IPv6ExtHdrIterator) UpperLayer() (proto uint8, offset int) { return it.next, it.off }

// NonFirstFragment reports whether the walk stopped at the Fragment header
// of a fragment with a non-zero offset.
func (it *IPv6ExtHdrIterator) NonFirstFragment() bool { return it.nonFirstFragment }

// IPv6ExtWalk is the result of WalkIPv6Extensions: the whole chain in a
// fixed array, so the walk allocates nothing and the result can live on the
// caller's stack.
type IPv6ExtWalk struct {
	// Headers[:N] are the extension headers in packet order.
	Headers [IPv6MaxExtHeaders]IPv6ExtHdr
	N       int
	// Protocol is the upper-layer protocol ending the chain (see
	// IPv6ExtHdrIterator.UpperLayer) and Offset where it starts.
	Protocol uint8
	Offset   int
	// HopByHop reports a Hop-by-Hop Options header (always Headers[0]).
	HopByHop bool
	// FragmentHeader is the offset of the Fragment header, or 0 if none.
	FragmentHeader int
	// NonFirstFragment is set when the packet is a fragment other than the
	// first; Protocol and Offset then describe fragment data.
	NonFirstFragment bool
	// ErrPointer is the ICMPv6 Parameter Problem pointer when the walk fails
	// (see IPv6ExtHdrIterator.ErrPointer).
	ErrPointer int
}

// WalkIPv6Extensions walks the extension headers of a validated IPv6 packet
// (ValidateIPv6(pkt) == nil; it re-checks, cheaply, and returns that error
// otherwise) and returns the chain and the upper-layer protocol. It fails
// with ErrBadLength if a header length runs past Payload Length,
// ErrExtHeaderOrder if Hop-by-Hop is not first, and ErrTooManyExtHeaders
// beyond IPv6MaxExtHeaders headers.
func WalkIPv6Extensions(pkt IPv6) (IPv6ExtWalk, error) {
	var w IPv6ExtWalk
	it := NewIPv6ExtHdrIterator(pkt)
	for {
		h, ok := it.Next()
		if !ok {
			break
		}
		if w.N == IPv6MaxExtHeaders {
			w.ErrPointer = h.Offset
			return w, errIPv6TooManyExt
		}
		w.Headers[w.N] = h
		w.N++
		switch h.Type {
		case IPv6ExtHopByHop:
			w.HopByHop = true
		case IPv6ExtFragment:
			w.FragmentHeader = h.Offset
		}
	}
	if err := it.Err(); err != nil {
		w.ErrPointer = it.ErrPointer()
		return w, err
	}
	w.Protocol, w.Offset = it.UpperLayer()
	w.NonFirstFragment = it.NonFirstFragment()
	return w, nil
}

// IPv6 Hop-by-Hop and Destination option types (RFC 8200 §4.2, IANA
// "Destination Options and Hop-by-Hop Options").
const (
	IPv6OptionPad1        uint8 = 0x00
	IPv6OptionPadN        uint8 = 0x01
	IPv6OptionRouterAlert uint8 = 0x05 // RFC 2711
	IPv6OptionJumbo       uint8 = 0xc2 // RFC 2675
)

// IPv6OptionUnknownAction is what RFC 8200 §4.2 says to do with an
// unrecognised option, encoded in the top two bits of its type.
type IPv6OptionUnknownAction uint8

// The four actions of RFC 8200 §4.2.
const (
	// IPv6OptionActionSkip: skip over the option and go on (00).
	IPv6OptionActionSkip IPv6OptionUnknownAction = 0
	// IPv6OptionActionDiscard: discard the packet silently (01).
	IPv6OptionActionDiscard IPv6OptionUnknownAction = 1
	// IPv6OptionActionDiscardICMP: discard and send Parameter Problem code
	// 2 pointing at the option type, whatever the destination (10).
	IPv6OptionActionDiscardICMP IPv6OptionUnknownAction = 2
	// IPv6OptionActionDiscardICMPNotMulticast: discard, and send the ICMP
	// only if the destination was not multicast (11).
	IPv6OptionActionDiscardICMPNotMulticast IPv6OptionUnknownAction = 3
)

// IPv6OptionAction returns the action for an unrecognised option of type t.
func IPv6OptionAction(t uint8) IPv6OptionUnknownAction { return IPv6OptionUnknownAction(t >> 6) }

// IPv6OptionMayChange reports whether option type t has the third-highest
// bit set: its data may change en route, so AH treats it as zero.
func IPv6OptionMayChange(t uint8) bool { return t&0x20 != 0 }

// IPv6Option is one TLV option of a Hop-by-Hop or Destination Options
// header (RFC 8200 §4.2). Data aliases the packet.
type IPv6Option struct {
	// Type is the option type.
	Type uint8
	// Offset is the offset of the type byte on the iterator's base.
	Offset int
	// Data is the option data (nil for Pad1).
	Data []byte
}

// Action returns the RFC 8200 action for the option if it is not
// recognised.
func (o IPv6Option) Action() IPv6OptionUnknownAction { return IPv6OptionAction(o.Type) }

// RouterAlert returns the Router Alert value (RFC 2711: 0 MLD, 1 RSVP,
// 2 Active Networks) and whether the option is a well-formed Router Alert.
func (o IPv6Option) RouterAlert() (uint16, bool) {
	if o.Type != IPv6OptionRouterAlert || len(o.Data) != 2 {
		return 0, false
	}
	return binary.BigEndian.Uint16(o.Data), true
}

// JumboPayloadLength returns the Jumbo Payload Length (RFC 2675) and
// whether the option is a well-formed Jumbo Payload option.
func (o IPv6Option) JumboPayloadLength() (uint32, bool) {
	if o.Type != IPv6OptionJumbo || len(o.Data) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(o.Data), true
}

// IPv6OptionIterator walks the TLV options of a Hop-by-Hop or Destination
// Options header without allocating. Padding (Pad1, PadN) is returned like
// any other option; a length that runs past the area stops it with Err set.
type IPv6OptionIterator struct {
	opts []byte
	off  int
	base int
	err  error
}

// NewIPv6OptionIterator returns an iterator over opts, the option area of
// an extension header (after its first two bytes); reported offsets are
// base + the offset in opts.
func NewIPv6OptionIterator(opts []byte, base int) IPv6OptionIterator {
	return IPv6OptionIterator{opts: opts, base: base}
}

// Next returns the next option, or false at the end of the area or on
// error.
func (it *IPv6OptionIterator) Next() (IPv6Option, bool) {
	if it.err != nil || it.off >= len(it.opts) {
		return IPv6Option{}, false
	}
	start := it.off
	t := it.opts[start]
	if t == IPv6OptionPad1 {
		it.off++
		return IPv6Option{Type: t, Offset: it.base + start}, true
	}
	if start+2 > len(it.opts) {
		it.err = errIPv6OptTrunc
		return IPv6Option{}, false
	}
	end := start + 2 + int(it.opts[start+1])
	if end > len(it.opts) {
		it.err = errIPv6OptPastEnd
		return IPv6Option{}, false
	}
	it.off = end
	return IPv6Option{Type: t, Offset: it.base + start, Data: it.opts[start+2 : end]}, true
}

// Err returns the error that stopped the iteration, or nil; it wraps
// ErrBadOption.
func (it *IPv6OptionIterator) Err() error { return it.err }

// ErrOffset returns the offset (on the iterator's base) of the option that
// made Err non-nil.
func (it *IPv6OptionIterator) ErrOffset() int { return it.base + it.off }

// IPv6 Fragment header, RFC 8200 §4.5:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         Identification                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	ipv6FragNextHeader = 0
	ipv6FragOffsetM    = 2
	ipv6FragID         = 4
)

// IPv6FragmentHeaderSize is the fixed size of the Fragment header.
const IPv6FragmentHeaderSize = 8

// IPv6Fragment is a view of an IPv6 Fragment header, aliasing the packet.
// IPv6ExtHdr.Fragment returns one already checked by the walk.
type IPv6Fragment []byte

// ValidateIPv6Fragment checks that b holds a Fragment header.
func ValidateIPv6Fragment(b []byte) error {
	if len(b) < IPv6FragmentHeaderSize {
		return errIPv6FragShort
	}
	return nil
}

// NextHeader returns the type of the header that follows in the
// reassembled packet.
func (b IPv6Fragment) NextHeader() uint8 { return b[ipv6FragNextHeader] }

// FragmentOffset returns the fragment offset in bytes.
func (b IPv6Fragment) FragmentOffset() uint16 {
	return binary.BigEndian.Uint16(b[ipv6FragOffsetM:]) &^ 7
}

// More reports whether the M flag (more fragments) is set.
func (b IPv6Fragment) More() bool { return b[ipv6FragOffsetM+1]&1 != 0 }

// ID returns the Identification that groups the fragments.
func (b IPv6Fragment) ID() uint32 { return binary.BigEndian.Uint32(b[ipv6FragID:]) }

// EncodeIPv6Fragment writes a Fragment header into b[:8]; offset is in bytes
// and must be a multiple of 8.
// Precondition: len(b) >= IPv6FragmentHeaderSize.
func EncodeIPv6Fragment(b []byte, nextHeader uint8, offset uint16, more bool, id uint32) {
	_ = b[IPv6FragmentHeaderSize-1]
	b[ipv6FragNextHeader] = nextHeader
	b[1] = 0
	v := offset &^ 7
	if more {
		v |= 1
	}
	binary.BigEndian.PutUint16(b[ipv6FragOffsetM:], v)
	binary.BigEndian.PutUint32(b[ipv6FragID:], id)
}
