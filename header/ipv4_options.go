package header

// IPv4 option types (RFC 791 §3.1; IANA "IP Option Numbers"). The type byte
// is copied flag (1 bit), class (2 bits), number (5 bits).
const (
	IPv4OptionEOL         uint8 = 0   // End of Option List, one byte
	IPv4OptionNOP         uint8 = 1   // No Operation, one byte
	IPv4OptionRecordRoute uint8 = 7   // RFC 791
	IPv4OptionTimestamp   uint8 = 68  // RFC 791
	IPv4OptionSecurity    uint8 = 130 // RFC 1108
	IPv4OptionLSRR        uint8 = 131 // Loose Source and Record Route
	IPv4OptionSSRR        uint8 = 137 // Strict Source and Record Route
	IPv4OptionRouterAlert uint8 = 148 // RFC 2113
)

// OptionCopied reports whether IPv4 option type t has the copied flag, the
// top bit: RFC 791 requires such options in every fragment, the others only
// in the first. The fragmenter uses it to build non-first fragment headers.
func OptionCopied(t uint8) bool { return t&0x80 != 0 }

// IPv4Option is one option found by IPv4OptionIterator. Raw aliases the
// packet and holds the whole option: the type byte, and for multi-byte
// options the length byte and data.
type IPv4Option struct {
	// Type is the option type byte.
	Type uint8
	// Offset is the offset of the type byte: from the start of the IPv4
	// header when the iterator came from (IPv4).OptionIterator (ready for an
	// ICMP Parameter Problem pointer), else from the start of the options.
	Offset int
	// Raw is the whole option as on the wire.
	Raw []byte
}

// Data returns the option's data after the type and length bytes; nil for
// the single-byte NOP.
func (o IPv4Option) Data() []byte {
	if len(o.Raw) < 2 {
		return nil
	}
	return o.Raw[2:]
}

// Copied reports whether the option must be copied into every fragment.
func (o IPv4Option) Copied() bool { return OptionCopied(o.Type) }

// IPv4OptionIterator walks an IPv4 options area without allocating. Next
// returns options in order, NOPs included, and stops at End of Option List
// or at the end of the area; a malformed length stops it with Err set.
//
//	it := ip.OptionIterator()
//	for opt, ok := it.Next(); ok; opt, ok = it.Next() { ... }
//	if err := it.Err(); err != nil { ... }
type IPv4OptionIterator struct {
	opts []byte
	off  int
	base int
	err  error
}

// NewIPv4OptionIterator returns an iterator over opts (an options area such
// as (IPv4).Options()); offsets are relative to opts.
func NewIPv4OptionIterator(opts []byte) IPv4OptionIterator {
	return IPv4OptionIterator{opts: opts}
}

// OptionIterator returns an iterator over the header's options whose
// offsets are relative to the start of the header.
func (b IPv4) OptionIterator() IPv4OptionIterator {
	return IPv4OptionIterator{opts: b.Options(), base: ipv4Options}
}

// Next returns the next option, or false at the end of the list or on error.
func (it *IPv4OptionIterator) Next() (IPv4Option, bool) {
	if it.err != nil || it.off >= len(it.opts) {
		return IPv4Option{}, false
	}
	start := it.off
	t := it.opts[start]
	switch t {
	case IPv4OptionEOL:
		// RFC 791: the rest of the area is padding.
		it.off = len(it.opts)
		return IPv4Option{}, false
	case IPv4OptionNOP:
		it.off++
		return IPv4Option{Type: t, Offset: it.base + start, Raw: it.opts[start : start+1]}, true
	}
	if start+1 >= len(it.opts) {
		it.err = errIPv4OptTrunc
		return IPv4Option{}, false
	}
	l := int(it.opts[start+1])
	if l < 2 {
		it.err = errIPv4OptLenSmall
		return IPv4Option{}, false
	}
	if l > len(it.opts)-start {
		it.err = errIPv4OptPastEnd
		return IPv4Option{}, false
	}
	it.off += l
	return IPv4Option{Type: t, Offset: it.base + start, Raw: it.opts[start : start+l]}, true
}

// Err returns the error that stopped the iteration, or nil if the options
// were well formed. It wraps ErrBadOption.
func (it *IPv4OptionIterator) Err() error { return it.err }

// ErrOffset returns the offset (on the iterator's base) of the option that
// made Err non-nil, for an ICMP Parameter Problem pointer (RFC 792). Its
// value is meaningless while Err is nil.
func (it *IPv4OptionIterator) ErrOffset() int { return it.base + it.off }
