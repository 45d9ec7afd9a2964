package header_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/nexthop-router/nexthop/header"
)

// goldenIPv6Echo is an ICMPv6 Echo Request from 2001:db8::1 to 2001:db8::2.
const goldenIPv6Echo = `
6 0b 12345                              // version 6, traffic class 0x0b, flow label 0x12345
000c 3a 40                              // payload length 12, next header ICMPv6, hop limit 64
2001 0db8 0000 0000 0000 0000 0000 0001 // source 2001:db8::1
2001 0db8 0000 0000 0000 0000 0000 0002 // destination 2001:db8::2
80 00 333e                              // type 128 Echo Request, code 0, checksum
1234 0001                               // identifier 0x1234, sequence 1
70696e67                                // "ping"
`

func TestIPv6Golden(t *testing.T) {
	pkt := mustHex(t, goldenIPv6Echo)
	if err := header.ValidateIPv6(pkt); err != nil {
		t.Fatalf("ValidateIPv6: %v", err)
	}
	h := header.IPv6(pkt)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"Version", h.Version(), uint8(6)},
		{"TrafficClass", h.TrafficClass(), uint8(0x0b)},
		{"FlowLabel", h.FlowLabel(), uint32(0x12345)},
		{"PayloadLength", h.PayloadLength(), uint16(12)},
		{"NextHeader", h.NextHeader(), header.IPv6ProtocolICMPv6},
		{"HopLimit", h.HopLimit(), uint8(64)},
		{"SourceAddress", h.SourceAddress(), v6a},
		{"DestinationAddress", h.DestinationAddress(), v6b},
		{"SrcAddr", h.SrcAddr(), netip.MustParseAddr("2001:db8::1")},
		{"DstAddr", h.DstAddr(), netip.MustParseAddr("2001:db8::2")},
		{"len(Payload)", len(h.Payload()), 12},
	} {
		if c.got != c.want {
			t.Errorf("%s() = %v, want %v", c.name, c.got, c.want)
		}
	}
	w, err := header.WalkIPv6Extensions(h)
	if err != nil || w.N != 0 || w.Protocol != header.IPv6ProtocolICMPv6 || w.Offset != 40 {
		t.Errorf("WalkIPv6Extensions = %+v, %v; want no headers, ICMPv6 at 40", w, err)
	}

	m := header.ICMPv6(h.Payload())
	if err := header.ValidateICMPv6(m); err != nil {
		t.Fatal(err)
	}
	if m.Type() != header.ICMPv6EchoRequest || m.Code() != 0 || m.Ident() != 0x1234 || m.Sequence() != 1 ||
		string(m.Payload()) != "ping" || !m.IsChecksumValid(v6a, v6b) || m.IsChecksumValid(v6b, v6b) {
		t.Errorf("ICMPv6 echo fields wrong: % x", []byte(m))
	}
	if m.CalculateChecksum(v6a, v6b) != 0x333e {
		t.Errorf("CalculateChecksum = %#04x, want 0x333e", m.CalculateChecksum(v6a, v6b))
	}

	// Build the same packet.
	out := make([]byte, len(pkt))
	header.EncodeIPv6(out, header.IPv6Fields{
		TrafficClass: 0x0b, FlowLabel: 0x12345, PayloadLength: 12,
		NextHeader: header.IPv6ProtocolICMPv6, HopLimit: 64, Src: v6a, Dst: v6b,
	})
	copy(out[48:], "ping")
	header.EncodeICMPv6(out[40:], header.ICMPv6EchoRequest, 0, 0x12340001, v6a, v6b)
	if !bytes.Equal(out, pkt) {
		t.Errorf("built\n% x\nwant\n% x", out, pkt)
	}

	h.DecrementHopLimit()
	h.SetTrafficClass(0x2e)
	h.SetFlowLabel(0xfffff)
	if h.HopLimit() != 63 || h.TrafficClass() != 0x2e || h.FlowLabel() != 0xfffff || h.Version() != 6 {
		t.Errorf("setters: hop %d tc %#x fl %#x v %d", h.HopLimit(), h.TrafficClass(), h.FlowLabel(), h.Version())
	}
}

func TestValidateIPv6(t *testing.T) {
	good := mustHex(t, goldenIPv6Echo)
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte{}, good...)) }
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"valid", good, nil},
		{"with padding", append(append([]byte{}, good...), 0, 0, 0), nil},
		{"nil", nil, header.ErrTooShort},
		{"39 bytes", good[:39], header.ErrTooShort},
		{"version 4", mod(func(b []byte) []byte { b[0] = 0x40; return b }), header.ErrBadVersion},
		{"payload length > buffer", good[:51], header.ErrBadLength},
		{"payload length 0xffff", mod(func(b []byte) []byte { b[4], b[5] = 0xff, 0xff; return b }), header.ErrBadLength},
		{"payload length 0", mod(func(b []byte) []byte { b[4], b[5] = 0, 0; return b[:40] }), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := header.ValidateIPv6(tc.b)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("ValidateIPv6 = %v, want %v", err, tc.want)
			}
		})
	}
}

// ipv6With returns an IPv6 packet from v6a to v6b whose payload is ext and
// whose first Next Header is next.
func ipv6With(next uint8, ext []byte) header.IPv6 {
	b := make([]byte, 40+len(ext))
	header.EncodeIPv6(b, header.IPv6Fields{PayloadLength: uint16(len(ext)), NextHeader: next, HopLimit: 64, Src: v6a, Dst: v6b})
	copy(b[40:], ext)
	return header.IPv6(b)
}

// goldenExtChain: Hop-by-Hop (Router Alert, PadN), Destination Options
// (unknown option with action 10, Pad1s), Routing (type 4 SRH, empty),
// Fragment (first fragment, M set), then UDP.
const goldenExtChain = `
3c 00 05020000 0100     // HbH: next DestOpts(60), len 0 (8 bytes); Router Alert 0 (MLD); PadN len 0
2b 00 8b01ff 00 00 00   // DestOpts: next Routing(43), len 0; option 0x8b len 1 data ff; Pad1 x3
2c 00 04 00 00000000    // Routing: next Fragment(44), len 0, routing type 4, segments left 0
11 00 0001 deadbeef     // Fragment: next UDP(17), offset 0, M=1, ID 0xdeadbeef
1234 0035 000c 0000     // UDP header
0102 0304               // UDP payload
`

func TestIPv6ExtensionWalkGolden(t *testing.T) {
	pkt := ipv6With(header.IPv6ExtHopByHop, mustHex(t, goldenExtChain))
	if err := header.ValidateIPv6(pkt); err != nil {
		t.Fatal(err)
	}
	w, err := header.WalkIPv6Extensions(pkt)
	if err != nil {
		t.Fatalf("WalkIPv6Extensions: %v", err)
	}
	want := []header.IPv6ExtHdr{
		{Type: header.IPv6ExtHopByHop, NextHeader: header.IPv6ExtDestination, Offset: 40, Length: 8},
		{Type: header.IPv6ExtDestination, NextHeader: header.IPv6ExtRouting, Offset: 48, Length: 8},
		{Type: header.IPv6ExtRouting, NextHeader: header.IPv6ExtFragment, Offset: 56, Length: 8},
		{Type: header.IPv6ExtFragment, NextHeader: header.IPv6ProtocolUDP, Offset: 64, Length: 8},
	}
	if w.N != len(want) {
		t.Fatalf("walked %d headers, want %d: %+v", w.N, len(want), w)
	}
	for i := range want {
		if w.Headers[i] != want[i] {
			t.Errorf("header %d = %+v, want %+v", i, w.Headers[i], want[i])
		}
	}
	if w.Protocol != header.IPv6ProtocolUDP || w.Offset != 72 || !w.HopByHop || w.FragmentHeader != 64 || w.NonFirstFragment {
		t.Errorf("walk = proto %d offset %d hbh %v frag %d nonfirst %v", w.Protocol, w.Offset, w.HopByHop, w.FragmentHeader, w.NonFirstFragment)
	}
	if err := header.ValidateUDP(pkt[w.Offset:]); err != nil {
		t.Errorf("ValidateUDP at upper-layer offset: %v", err)
	}

	// Hop-by-Hop options.
	type opt struct {
		typ    uint8
		off    int
		data   string
		action header.IPv6OptionUnknownAction
	}
	collect := func(h header.IPv6ExtHdr) []opt {
		var got []opt
		it := h.OptionIterator(pkt)
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			got = append(got, opt{o.Type, o.Offset, string(o.Data), o.Action()})
		}
		if it.Err() != nil {
			t.Fatalf("options of %+v: %v", h, it.Err())
		}
		return got
	}
	hbh := collect(w.Headers[0])
	wantHBH := []opt{{header.IPv6OptionRouterAlert, 42, "\x00\x00", header.IPv6OptionActionSkip}, {header.IPv6OptionPadN, 46, "", header.IPv6OptionActionSkip}}
	if len(hbh) != 2 || hbh[0] != wantHBH[0] || hbh[1] != wantHBH[1] {
		t.Errorf("HbH options = %+v, want %+v", hbh, wantHBH)
	}
	it := w.Headers[0].OptionIterator(pkt)
	ra, _ := it.Next()
	if v, ok := ra.RouterAlert(); !ok || v != 0 {
		t.Errorf("RouterAlert() = %d, %v", v, ok)
	}
	dst := collect(w.Headers[1])
	if len(dst) != 4 || dst[0] != (opt{0x8b, 50, "\xff", header.IPv6OptionActionDiscardICMP}) || dst[3] != (opt{header.IPv6OptionPad1, 55, "", header.IPv6OptionActionSkip}) {
		t.Errorf("DestOpts options = %+v", dst)
	}

	f := w.Headers[3].Fragment(pkt)
	if f.NextHeader() != header.IPv6ProtocolUDP || f.FragmentOffset() != 0 || !f.More() || f.ID() != 0xdeadbeef {
		t.Errorf("Fragment = next %d off %d more %v id %#x", f.NextHeader(), f.FragmentOffset(), f.More(), f.ID())
	}
	out := make([]byte, 8)
	header.EncodeIPv6Fragment(out, header.IPv6ProtocolUDP, 0, true, 0xdeadbeef)
	if !bytes.Equal(out, w.Headers[3].Bytes(pkt)) {
		t.Errorf("EncodeIPv6Fragment = % x, want % x", out, w.Headers[3].Bytes(pkt))
	}
}

func TestIPv6ExtensionWalkCases(t *testing.T) {
	for _, tc := range []struct {
		name      string
		next      uint8
		ext       string
		want      error
		n         int
		proto     uint8
		offset    int
		ptr       int
		nonFirst  bool
		fragHdrAt int
	}{
		{name: "no payload", next: header.IPv6NoNextHeader, proto: 59, offset: 40},
		{name: "UDP only", next: 17, ext: "0000 0000 0008 0000", proto: 17, offset: 40},
		{name: "ESP stops the walk", next: header.IPv6ExtESP, ext: "00000001 00000001 ffffffff", proto: 50, offset: 40},
		{name: "DestOpts then no next header", next: 60, ext: "3b 00 01 04 00000000", n: 1, proto: 59, offset: 48},
		{name: "AH uses 4-byte units", next: 51, ext: "3a 04 0000 00000001 00000001 00000000 00000000 00000000 80000000", n: 1, proto: 58, offset: 64},
		{name: "non-first fragment stops", next: 44, ext: "3c 00 0050 00000001 3c ff ffff", n: 1, proto: 60, offset: 48, nonFirst: true, fragHdrAt: 40},
		{name: "HbH not first", next: 60, ext: "00 00 01 04 00000000 3b 00 01 04 00000000", want: header.ErrExtHeaderOrder, n: 1, ptr: 40},
		{name: "HbH after HbH", next: 0, ext: "00 00 01 04 00000000 3b 00 01 04 00000000", want: header.ErrExtHeaderOrder, n: 1, ptr: 40},
		{name: "ext length past packet", next: 0, ext: "3b 01 01 04 00000000", want: header.ErrBadLength, ptr: 41},
		{name: "ext length 255", next: 43, ext: "3b ff 0000 00000000", want: header.ErrBadLength, ptr: 41},
		{name: "second header past packet", next: 60, ext: "3c 00 01 04 00000000 3b 02 0000 00000000", want: header.ErrBadLength, n: 1, ptr: 49},
		{name: "one byte of header", next: 60, ext: "3b", want: header.ErrBadLength, ptr: 6},
		{name: "no room for announced header", next: 43, want: header.ErrBadLength, ptr: 6},
		{name: "no room after DestOpts", next: 60, ext: "2b 00 01 04 00000000", want: header.ErrBadLength, n: 1, ptr: 40},
		{name: "truncated fragment", next: 44, ext: "11 00 0000", want: header.ErrBadLength, ptr: 6},
		{name: "AH past packet", next: 51, ext: "3a 04 0000 00000001", want: header.ErrBadLength, ptr: 41},
		{name: "too many headers", next: 60, ext: "3c00010400000000 3c00010400000000 3c00010400000000 3c00010400000000 3c00010400000000 3c00010400000000 3c00010400000000 3c00010400000000 3b00010400000000", want: header.ErrTooManyExtHeaders, n: 8, ptr: 104},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkt := ipv6With(tc.next, mustHex(t, tc.ext))
			if err := header.ValidateIPv6(pkt); err != nil {
				t.Fatal(err)
			}
			w, err := header.WalkIPv6Extensions(pkt)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("WalkIPv6Extensions = %v, want %v", err, tc.want)
			}
			if w.N != tc.n {
				t.Errorf("N = %d, want %d", w.N, tc.n)
			}
			if err != nil {
				if w.ErrPointer != tc.ptr {
					t.Errorf("ErrPointer = %d, want %d", w.ErrPointer, tc.ptr)
				}
				return
			}
			if w.Protocol != tc.proto || w.Offset != tc.offset || w.NonFirstFragment != tc.nonFirst || w.FragmentHeader != tc.fragHdrAt {
				t.Errorf("walk = proto %d offset %d nonfirst %v fraghdr %d; want %d %d %v %d", w.Protocol, w.Offset, w.NonFirstFragment, w.FragmentHeader, tc.proto, tc.offset, tc.nonFirst, tc.fragHdrAt)
			}
		})
	}
}

// TestIPv6WalkIgnoresBytesPastPayloadLength: a header whose length is
// satisfied only by link padding beyond Payload Length is still a lie.
func TestIPv6WalkIgnoresBytesPastPayloadLength(t *testing.T) {
	pkt := ipv6With(60, mustHex(t, "3b 01 0104 00000000"))
	pkt = append(pkt, make([]byte, 8)...) // padding after Payload Length
	if _, err := header.WalkIPv6Extensions(pkt); !errors.Is(err, header.ErrBadLength) {
		t.Errorf("WalkIPv6Extensions = %v, want ErrBadLength", err)
	}
}

func TestIPv6OptionIterator(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts string
		n    int
		want error
		off  int
	}{
		{"empty", "", 0, nil, 0},
		{"Pad1s", "00 00 00 00 00 00", 6, nil, 0},
		{"PadN fills", "01 04 00000000", 1, nil, 0},
		{"jumbo", "c2 04 00010000", 1, nil, 0},
		{"type without length", "00 00 00 00 00 05", 5, header.ErrBadOption, 105},
		{"length past end", "05 02 00 00 01 05 00 00", 1, header.ErrBadOption, 104},
		{"length 255", "01 ff 00 00 00 00", 0, header.ErrBadOption, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := header.NewIPv6OptionIterator(mustHex(t, tc.opts), 100)
			n := 0
			for _, ok := it.Next(); ok; _, ok = it.Next() {
				n++
			}
			if n != tc.n || !errors.Is(it.Err(), tc.want) || (tc.want == nil) != (it.Err() == nil) {
				t.Fatalf("got %d options, Err %v; want %d, %v", n, it.Err(), tc.n, tc.want)
			}
			if tc.want != nil && it.ErrOffset() != tc.off {
				t.Errorf("ErrOffset = %d, want %d", it.ErrOffset(), tc.off)
			}
		})
	}
	it := header.NewIPv6OptionIterator(mustHex(t, "c2 04 00012345"), 0)
	o, _ := it.Next()
	if l, ok := o.JumboPayloadLength(); !ok || l != 0x12345 {
		t.Errorf("JumboPayloadLength = %#x, %v", l, ok)
	}
	if _, ok := o.RouterAlert(); ok {
		t.Errorf("RouterAlert() ok on a Jumbo option")
	}
}

func TestIPv6OptionAction(t *testing.T) {
	for typ, want := range map[uint8]header.IPv6OptionUnknownAction{
		0x00: header.IPv6OptionActionSkip, 0x3f: header.IPv6OptionActionSkip,
		0x40: header.IPv6OptionActionDiscard, 0x80: header.IPv6OptionActionDiscardICMP,
		header.IPv6OptionJumbo: header.IPv6OptionActionDiscardICMPNotMulticast,
	} {
		if got := header.IPv6OptionAction(typ); got != want {
			t.Errorf("IPv6OptionAction(%#x) = %d, want %d", typ, got, want)
		}
	}
	if !header.IPv6OptionMayChange(0x3e) || header.IPv6OptionMayChange(header.IPv6OptionRouterAlert) {
		t.Errorf("IPv6OptionMayChange wrong")
	}
}

func TestIPv6Fragment(t *testing.T) {
	if err := header.ValidateIPv6Fragment(make([]byte, 7)); !errors.Is(err, header.ErrTooShort) {
		t.Errorf("ValidateIPv6Fragment(7 bytes) = %v", err)
	}
	b := make([]byte, 8)
	header.EncodeIPv6Fragment(b, 6, 65528, false, 1)
	f := header.IPv6Fragment(b)
	if f.NextHeader() != 6 || f.FragmentOffset() != 65528 || f.More() || f.ID() != 1 {
		t.Errorf("fragment round trip: % x", b)
	}
}
