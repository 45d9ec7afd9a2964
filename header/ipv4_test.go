package header_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/nexthop-router/nexthop/header"
)

// goldenIPv4UDP is the classic IPv4 header with a known checksum (0xb861),
// a UDP datagram from 192.168.0.1 to 192.168.0.199, followed by zeros up to
// its Total Length of 115.
const goldenIPv4UDPHeader = `
45                  // version 4, IHL 5
00                  // TOS
0073                // total length 115
0000                // ID
4000                // flags DF, fragment offset 0
40                  // TTL 64
11                  // protocol UDP
b861                // header checksum
c0a8 0001           // source 192.168.0.1
c0a8 00c7           // destination 192.168.0.199
`

func TestIPv4Golden(t *testing.T) {
	hdr := mustHex(t, goldenIPv4UDPHeader)
	pkt := append(append([]byte{}, hdr...), make([]byte, 115-20+6)...) // 6 bytes of link padding
	if err := header.ValidateIPv4(pkt); err != nil {
		t.Fatalf("ValidateIPv4: %v", err)
	}
	h := header.IPv4(pkt)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"Version", h.Version(), uint8(4)},
		{"HeaderLength", h.HeaderLength(), 20},
		{"TOS", h.TOS(), uint8(0)},
		{"TotalLength", h.TotalLength(), uint16(115)},
		{"ID", h.ID(), uint16(0)},
		{"Flags", h.Flags(), header.IPv4FlagDontFragment},
		{"DontFragment", h.DontFragment(), true},
		{"MoreFragments", h.MoreFragments(), false},
		{"IsFragment", h.IsFragment(), false},
		{"FragmentOffset", h.FragmentOffset(), uint16(0)},
		{"TTL", h.TTL(), uint8(64)},
		{"Protocol", h.Protocol(), header.IPv4ProtocolUDP},
		{"Checksum", h.Checksum(), uint16(0xb861)},
		{"SourceAddress", h.SourceAddress(), [4]byte{192, 168, 0, 1}},
		{"DestinationAddress", h.DestinationAddress(), [4]byte{192, 168, 0, 199}},
		{"SrcAddr", h.SrcAddr(), netip.MustParseAddr("192.168.0.1")},
		{"DstAddr", h.DstAddr(), netip.MustParseAddr("192.168.0.199")},
		{"len(Options)", len(h.Options()), 0},
		{"len(Payload)", len(h.Payload()), 95},
		{"IsChecksumValid", h.IsChecksumValid(), true},
		{"CalculateChecksum", h.CalculateChecksum(), uint16(0xb861)},
	} {
		if c.got != c.want {
			t.Errorf("%s() = %v, want %v", c.name, c.got, c.want)
		}
	}

	// The builder reproduces the header byte for byte.
	out := make([]byte, 20)
	n := header.EncodeIPv4(out, header.IPv4Fields{
		TotalLength: 115, Flags: header.IPv4FlagDontFragment, TTL: 64,
		Protocol: header.IPv4ProtocolUDP,
		Src:      [4]byte{192, 168, 0, 1}, Dst: [4]byte{192, 168, 0, 199},
	})
	if n != 20 || !bytes.Equal(out, hdr) {
		t.Errorf("EncodeIPv4 = %d, % x\nwant 20, % x", n, out, hdr)
	}

	// Forwarding: TTL 64 -> 63 changes the checksum by exactly 0x0100.
	h.DecrementTTL()
	if h.TTL() != 63 || h.Checksum() != 0xb961 || !h.IsChecksumValid() {
		t.Errorf("after DecrementTTL: TTL %d checksum %#04x valid %v, want 63 0xb961 true", h.TTL(), h.Checksum(), h.IsChecksumValid())
	}
}

// goldenIPv4Options carries a Router Alert, two NOPs, an empty Record Route
// and End of Option List padding.
const goldenIPv4Options = `
49 00 002c          // version 4, IHL 9 (36 bytes), TOS 0, total length 44
abcd 2000           // ID 0xabcd, MF set, offset 0
40 11 7ebf          // TTL 64, UDP, checksum
c612 0001           // 198.18.0.1
c613 0001           // 198.19.0.1
9404 0000           // Router Alert (148), len 4, value 0
01 01               // NOP NOP
07 07 04 00000000   // Record Route (7), len 7, pointer 4, one empty slot
00 0000             // EOL, padding
0000 0000 0000 0000 // 8 bytes of payload
`

func TestIPv4OptionsGolden(t *testing.T) {
	pkt := mustHex(t, goldenIPv4Options)
	if err := header.ValidateIPv4(pkt); err != nil {
		t.Fatalf("ValidateIPv4: %v", err)
	}
	h := header.IPv4(pkt)
	if h.HeaderLength() != 36 || !h.IsChecksumValid() || !h.MoreFragments() || len(h.Payload()) != 8 {
		t.Fatalf("HeaderLength %d checksum valid %v MF %v payload %d", h.HeaderLength(), h.IsChecksumValid(), h.MoreFragments(), len(h.Payload()))
	}
	type opt struct {
		typ    uint8
		offset int
		data   string
		copied bool
	}
	var got []opt
	it := h.OptionIterator()
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		got = append(got, opt{o.Type, o.Offset, string(o.Data()), o.Copied()})
	}
	if err := it.Err(); err != nil {
		t.Fatalf("OptionIterator: %v", err)
	}
	want := []opt{
		{header.IPv4OptionRouterAlert, 20, "\x00\x00", true},
		{header.IPv4OptionNOP, 24, "", false},
		{header.IPv4OptionNOP, 25, "", false},
		{header.IPv4OptionRecordRoute, 26, "\x04\x00\x00\x00\x00", false},
	}
	if len(got) != len(want) {
		t.Fatalf("options = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("option %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	// Rebuilding from the parsed fields gives the same header.
	out := make([]byte, len(pkt))
	copy(out[36:], pkt[36:])
	header.EncodeIPv4(out, fieldsOfIPv4(h))
	if !bytes.Equal(out, pkt) {
		t.Errorf("EncodeIPv4(parsed) =\n% x\nwant\n% x", out, pkt)
	}
}

func fieldsOfIPv4(h header.IPv4) header.IPv4Fields {
	return header.IPv4Fields{
		TOS: h.TOS(), TotalLength: h.TotalLength(), ID: h.ID(),
		Flags: h.Flags(), FragmentOffset: h.FragmentOffset(), TTL: h.TTL(),
		Protocol: h.Protocol(), Src: h.SourceAddress(), Dst: h.DestinationAddress(),
		Options: h.Options(),
	}
}

func TestIPv4Setters(t *testing.T) {
	h := header.IPv4(mustHex(t, goldenIPv4UDPHeader))
	h.SetTotalLength(20)
	h.SetTOS(0xb8)
	h.SetID(0x1234)
	h.SetFlagsFragmentOffset(header.IPv4FlagMoreFragments, 1480)
	h.SetTTL(9)
	h.SetProtocol(header.IPv4ProtocolTCP)
	h.SetSource(v4a)
	h.SetDestination(v4b)
	h.UpdateChecksum()
	if err := header.ValidateIPv4(h); err != nil {
		t.Fatal(err)
	}
	if h.TotalLength() != 20 || h.TOS() != 0xb8 || h.ID() != 0x1234 || h.Flags() != header.IPv4FlagMoreFragments ||
		h.FragmentOffset() != 1480 || !h.IsFragment() || h.TTL() != 9 || h.Protocol() != header.IPv4ProtocolTCP ||
		h.SourceAddress() != v4a || h.DestinationAddress() != v4b || !h.IsChecksumValid() {
		t.Errorf("setters did not stick: % x", []byte(h))
	}
}

func TestValidateIPv4(t *testing.T) {
	good := mustHex(t, goldenIPv4UDPHeader)
	good = append(good, make([]byte, 95)...)
	mod := func(f func(b []byte) []byte) []byte {
		return f(append([]byte{}, good...))
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"valid", good, nil},
		{"nil", nil, header.ErrTooShort},
		{"19 bytes", good[:19], header.ErrTooShort},
		{"version 6", mod(func(b []byte) []byte { b[0] = 0x65; return b }), header.ErrBadVersion},
		{"version 0", mod(func(b []byte) []byte { b[0] = 0x05; return b }), header.ErrBadVersion},
		{"IHL 4", mod(func(b []byte) []byte { b[0] = 0x44; return b }), header.ErrBadLength},
		{"IHL 0", mod(func(b []byte) []byte { b[0] = 0x40; return b }), header.ErrBadLength},
		{"IHL past buffer", mod(func(b []byte) []byte { b[0] = 0x4f; return b[:40] }), header.ErrBadLength},
		{"total length < IHL*4", mod(func(b []byte) []byte { b[2], b[3] = 0, 19; return b }), header.ErrBadLength},
		{"total length 0", mod(func(b []byte) []byte { b[2], b[3] = 0, 0; return b }), header.ErrBadLength},
		{"total length > buffer", good[:114], header.ErrBadLength},
		{"total length 65535", mod(func(b []byte) []byte { b[2], b[3] = 0xff, 0xff; return b }), header.ErrBadLength},
		{"header only, total 20", mod(func(b []byte) []byte { b[2], b[3] = 0, 20; return b[:20] }), nil},
		{"bad checksum is not a validation error", mod(func(b []byte) []byte { b[10] = 0; return b }), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := header.ValidateIPv4(tc.b)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("ValidateIPv4 = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestIPv4OptionIteratorErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []byte
		n       int // options returned before the end or the error
		want    error
		errOffs int
	}{
		{"empty", nil, 0, nil, 0},
		{"EOL stops", []byte{0, 7, 0, 0}, 0, nil, 0},
		{"NOPs", []byte{1, 1, 1, 1}, 4, nil, 0},
		{"type without length", []byte{1, 1, 1, 7}, 3, header.ErrBadOption, 3},
		{"length 0", []byte{7, 0, 0, 0}, 0, header.ErrBadOption, 0},
		{"length 1", []byte{1, 148, 1, 0}, 1, header.ErrBadOption, 1},
		{"length past end", []byte{148, 4, 0, 0, 7, 9, 4, 0}, 1, header.ErrBadOption, 4},
		{"length 255", []byte{68, 255, 0, 0}, 0, header.ErrBadOption, 0},
		{"exact fit", []byte{148, 4, 0, 0, 7, 4, 4, 0}, 2, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := header.NewIPv4OptionIterator(tc.opts)
			n := 0
			for _, ok := it.Next(); ok; _, ok = it.Next() {
				n++
			}
			if n != tc.n || !errors.Is(it.Err(), tc.want) || (tc.want == nil) != (it.Err() == nil) {
				t.Fatalf("got %d options, Err %v; want %d, %v", n, it.Err(), tc.n, tc.want)
			}
			if tc.want != nil && it.ErrOffset() != tc.errOffs {
				t.Errorf("ErrOffset = %d, want %d", it.ErrOffset(), tc.errOffs)
			}
			if _, ok := it.Next(); ok {
				t.Errorf("Next after the end returned an option")
			}
		})
	}
}

func TestOptionCopied(t *testing.T) {
	for typ, want := range map[uint8]bool{
		header.IPv4OptionEOL: false, header.IPv4OptionNOP: false,
		header.IPv4OptionRecordRoute: false, header.IPv4OptionTimestamp: false,
		header.IPv4OptionSecurity: true, header.IPv4OptionLSRR: true,
		header.IPv4OptionSSRR: true, header.IPv4OptionRouterAlert: true,
	} {
		if got := header.OptionCopied(typ); got != want {
			t.Errorf("OptionCopied(%d) = %v, want %v", typ, got, want)
		}
	}
}

func TestEncodeIPv4PadsOptions(t *testing.T) {
	b := bytes.Repeat([]byte{0xee}, 40)
	n := header.EncodeIPv4(b, header.IPv4Fields{TotalLength: 24, TTL: 1, Options: []byte{1, 1, 1}})
	if n != 24 || !bytes.Equal(b[20:24], []byte{1, 1, 1, 0}) || b[24] != 0xee {
		t.Errorf("EncodeIPv4 with 3 option bytes = %d, % x", n, b)
	}
	if err := header.ValidateIPv4(b[:24]); err != nil || !header.IPv4(b).IsChecksumValid() {
		t.Errorf("ValidateIPv4 = %v, checksum valid %v", err, header.IPv4(b).IsChecksumValid())
	}
}
