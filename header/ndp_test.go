package header_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/nexthop-router/nexthop/header"
)

var (
	solicitedNode2 = [16]byte{0xff, 0x02, 11: 0x01, 12: 0xff, 15: 0x02} // ff02::1:ff00:2
	llRouter       = [16]byte{0xfe, 0x80, 15: 1}                        // fe80::1
	llHost         = [16]byte{0xfe, 0x80, 15: 2}                        // fe80::2
	allNodes       = [16]byte{0xff, 0x02, 15: 1}                        // ff02::1
	allRouters     = [16]byte{0xff, 0x02, 15: 2}                        // ff02::2
)

// Golden NDP messages (ICMPv6 message only). Checksums computed
// independently over the RFC 8200 §8.1 pseudo-header.
const (
	// 2001:db8::1 -> ff02::1:ff00:2: who has 2001:db8::2?
	goldenNS = `
87 00 1c27                              // type 135 NS, code 0, checksum
00000000                                // reserved
2001 0db8 0000 0000 0000 0000 0000 0002 // target 2001:db8::2
01 01 020000000001                      // SLLA option, length 1, 02:00:00:00:00:01
`
	// 2001:db8::2 -> 2001:db8::1: R S O, target 2001:db8::2 is at 02:..:02.
	goldenNA = `
88 00 0a71                              // type 136 NA, checksum
e0 000000                               // R S O flags
2001 0db8 0000 0000 0000 0000 0000 0002 // target
02 01 020000000002                      // TLLA option
`
	// fe80::2 -> ff02::2.
	goldenRS = `
85 00 7a2a                              // type 133 RS, checksum
00000000                                // reserved
01 01 020000000002                      // SLLA option
`
	// fe80::1 -> ff02::1.
	goldenRA = `
86 00 2b98                              // type 134 RA, checksum
40 40 0708                              // cur hop limit 64, O flag, router lifetime 1800 s
00000000 00000000                       // reachable time, retrans timer unspecified
01 01 020000000001                      // SLLA option
05 01 0000 000005dc                     // MTU option 1500
03 04 40 c0 00015180 00003840 00000000  // prefix info: /64, L A, valid 86400, preferred 14400
2001 0db8 0001 0000 0000 0000 0000 0000 // prefix 2001:db8:1::
`
)

func TestNDPGolden(t *testing.T) {
	t.Run("NS", func(t *testing.T) {
		m := header.ICMPv6(mustHex(t, goldenNS))
		if err := header.ValidateNDP(m); err != nil {
			t.Fatal(err)
		}
		if !m.IsChecksumValid(v6a, solicitedNode2) {
			t.Errorf("checksum invalid")
		}
		ns := header.NDPNeighborSolicit(m.MessageBody())
		if ns.TargetAddress() != v6b || ns.Target() != netip.AddrFrom16(v6b) {
			t.Errorf("target = %v", ns.Target())
		}
		it := header.NewNDPOptionIterator(ns.Options())
		o, ok := it.Next()
		if ll, llok := o.LinkLayerAddress(); !ok || o.Type != header.NDPOptionSourceLinkLayerAddress || !llok || ll != mac1 {
			t.Errorf("SLLA = %+v %x", o, ll)
		}
		if _, ok := it.Next(); ok || it.Err() != nil {
			t.Errorf("extra option or error %v", it.Err())
		}
		out := make([]byte, 64)
		n := header.EncodeNDPNeighborSolicit(out, header.NDPNeighborSolicitFields{Target: v6b, SourceLinkAddr: mac1}, v6a, solicitedNode2)
		if !bytes.Equal(out[:n], m) {
			t.Errorf("built\n% x\nwant\n% x", out[:n], []byte(m))
		}
		// DAD: no SLLA when the source is unspecified.
		n = header.EncodeNDPNeighborSolicit(out, header.NDPNeighborSolicitFields{Target: v6b}, [16]byte{}, solicitedNode2)
		if n != 24 || header.ValidateNDP(out[:n]) != nil || !header.ICMPv6(out[:n]).IsChecksumValid([16]byte{}, solicitedNode2) {
			t.Errorf("DAD NS = % x", out[:n])
		}
	})
	t.Run("NA", func(t *testing.T) {
		m := header.ICMPv6(mustHex(t, goldenNA))
		if err := header.ValidateNDP(m); err != nil {
			t.Fatal(err)
		}
		na := header.NDPNeighborAdvert(m.MessageBody())
		if !na.Router() || !na.Solicited() || !na.Override() || na.TargetAddress() != v6b || na.Target() != netip.AddrFrom16(v6b) || !m.IsChecksumValid(v6b, v6a) {
			t.Errorf("NA fields wrong")
		}
		it := header.NewNDPOptionIterator(na.Options())
		o, _ := it.Next()
		if ll, ok := o.LinkLayerAddress(); !ok || o.Type != header.NDPOptionTargetLinkLayerAddress || ll != mac2 {
			t.Errorf("TLLA = %+v", o)
		}
		out := make([]byte, 64)
		n := header.EncodeNDPNeighborAdvert(out, header.NDPNeighborAdvertFields{Target: v6b, Router: true, Solicited: true, Override: true, TargetLinkAddr: mac2}, v6b, v6a)
		if !bytes.Equal(out[:n], m) {
			t.Errorf("built\n% x\nwant\n% x", out[:n], []byte(m))
		}
	})
	t.Run("RS", func(t *testing.T) {
		m := header.ICMPv6(mustHex(t, goldenRS))
		if err := header.ValidateNDP(m); err != nil {
			t.Fatal(err)
		}
		rs := header.NDPRouterSolicit(m.MessageBody())
		it := header.NewNDPOptionIterator(rs.Options())
		if o, _ := it.Next(); o.Type != header.NDPOptionSourceLinkLayerAddress {
			t.Errorf("option = %+v", o)
		}
		out := make([]byte, 64)
		n := header.EncodeNDPRouterSolicit(out, header.NDPRouterSolicitFields{SourceLinkAddr: mac2}, llHost, allRouters)
		if !bytes.Equal(out[:n], m) {
			t.Errorf("built\n% x\nwant\n% x", out[:n], []byte(m))
		}
	})
	t.Run("RA", func(t *testing.T) {
		m := header.ICMPv6(mustHex(t, goldenRA))
		if err := header.ValidateNDP(m); err != nil {
			t.Fatal(err)
		}
		ra := header.NDPRouterAdvert(m.MessageBody())
		if ra.CurHopLimit() != 64 || ra.Managed() || !ra.Other() || ra.RouterLifetime() != 1800 || ra.ReachableTime() != 0 || ra.RetransTimer() != 0 || !m.IsChecksumValid(llRouter, allNodes) {
			t.Errorf("RA fields wrong")
		}
		var types []uint8
		it := header.NewNDPOptionIterator(ra.Options())
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			types = append(types, o.Type)
			switch o.Type {
			case header.NDPOptionMTU:
				if mtu, ok := o.MTU(); !ok || mtu != 1500 {
					t.Errorf("MTU = %d %v", mtu, ok)
				}
			case header.NDPOptionPrefixInformation:
				pi, ok := o.PrefixInformation()
				if !ok || pi.PrefixLength() != 64 || !pi.OnLink() || !pi.Autonomous() || pi.ValidLifetime() != 86400 || pi.PreferredLifetime() != 14400 ||
					pi.Prefix() != netip.MustParsePrefix("2001:db8:1::/64") || pi.PrefixAddress()[5] != 1 {
					t.Errorf("prefix info wrong: % x", o.Raw)
				}
			}
		}
		if !bytes.Equal(types, []byte{1, 5, 3}) || it.Err() != nil {
			t.Errorf("option types %v err %v", types, it.Err())
		}
		out := make([]byte, 128)
		n := header.EncodeNDPRouterAdvert(out, header.NDPRouterAdvertFields{
			CurHopLimit: 64, Other: true, RouterLifetime: 1800,
			SourceLinkAddr: mac1, MTU: 1500,
			Prefixes: []header.NDPPrefix{{
				// Host bits set on purpose: the builder must clear them.
				Prefix: [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 8: 0xff, 15: 1}, Length: 64,
				OnLink: true, Autonomous: true, ValidLifetime: 86400, PreferredLifetime: 14400,
			}},
		}, llRouter, allNodes)
		if !bytes.Equal(out[:n], m) {
			t.Errorf("built\n% x\nwant\n% x", out[:n], []byte(m))
		}
	})
}

func TestNDPPrefixMasking(t *testing.T) {
	out := make([]byte, 64)
	all := [16]byte{}
	for i := range all {
		all[i] = 0xff
	}
	for _, l := range []uint8{0, 1, 7, 8, 9, 63, 64, 65, 127, 128, 200} {
		n := header.EncodeNDPRouterAdvert(out, header.NDPRouterAdvertFields{Prefixes: []header.NDPPrefix{{Prefix: all, Length: l}}}, llRouter, allNodes)
		it := header.NewNDPOptionIterator(header.NDPRouterAdvert(header.ICMPv6(out[:n]).MessageBody()).Options())
		o, _ := it.Next()
		pi, ok := o.PrefixInformation()
		if !ok {
			t.Fatalf("length %d: no prefix option", l)
		}
		got := pi.PrefixAddress()
		ones := 0
		for _, b := range got {
			for ; b&0x80 != 0; b <<= 1 {
				ones++
			}
			if b != 0 {
				t.Fatalf("length %d: prefix % x not contiguous", l, got)
			}
		}
		if want := min(int(l), 128); ones != want {
			t.Errorf("length %d: %d bits set, want %d", l, ones, want)
		}
		if l > 128 && pi.Prefix().IsValid() {
			t.Errorf("length %d: Prefix() = %v, want invalid", l, pi.Prefix())
		}
	}
}

func TestValidateNDP(t *testing.T) {
	ns := mustHex(t, goldenNS)
	ra := mustHex(t, goldenRA)
	mod := func(b []byte, f func([]byte) []byte) []byte { return f(append([]byte{}, b...)) }
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"NS", ns, nil},
		{"NS without options", ns[:24], nil},
		{"NS short", ns[:23], header.ErrTooShort},
		{"empty", nil, header.ErrTooShort},
		{"RS header only", ns[:4], header.ErrTooShort},
		{"not NDP", mod(ns, func(b []byte) []byte { b[0] = 128; return b }), header.ErrUnsupported},
		{"option length 0", mod(ns, func(b []byte) []byte { b[25] = 0; return b }), header.ErrBadOption},
		{"option length past end", mod(ns, func(b []byte) []byte { b[25] = 2; return b }), header.ErrBadOption},
		{"option length 255", mod(ns, func(b []byte) []byte { b[25] = 255; return b }), header.ErrBadOption},
		{"one stray byte of option", append(append([]byte{}, ns...), 1), header.ErrBadOption},
		{"RA", ra, nil},
		{"RA short", ra[:15], header.ErrTooShort},
		{"RA prefix option length 0", mod(ra, func(b []byte) []byte { b[33] = 0; return b }), header.ErrBadOption},
		{"redirect short", mod(ns, func(b []byte) []byte { b[0] = 137; return append(b[:24], make([]byte, 15)...) }), header.ErrTooShort},
		{"redirect", mod(ns, func(b []byte) []byte { b[0] = 137; return append(b[:24], make([]byte, 16)...) }), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := header.ValidateNDP(tc.b)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("ValidateNDP = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNDPRedirect(t *testing.T) {
	b := make([]byte, 36+8)
	copy(b[4:], v6b[:])
	copy(b[20:], v6a[:])
	r := header.NDPRedirect(b)
	if r.TargetAddress() != v6b || r.DestinationAddress() != v6a || len(r.Options()) != 8 {
		t.Errorf("redirect view wrong")
	}
}

func TestNDPOptionAccessorsRejectWrongShapes(t *testing.T) {
	it := header.NewNDPOptionIterator(mustHex(t, "01 02 020000000001 0000000000000000 05 01 0000 000005dc"))
	o, _ := it.Next()
	if _, ok := o.LinkLayerAddress(); ok {
		t.Errorf("16-byte SLLA accepted as Ethernet")
	}
	if _, ok := o.MTU(); ok {
		t.Errorf("SLLA accepted as MTU")
	}
	if _, ok := o.PrefixInformation(); ok {
		t.Errorf("SLLA accepted as prefix info")
	}
	o, _ = it.Next()
	if _, ok := o.LinkLayerAddress(); ok {
		t.Errorf("MTU accepted as SLLA")
	}
	if len(o.Data()) != 6 || o.Offset != 16 {
		t.Errorf("Data/Offset = %d %d", len(o.Data()), o.Offset)
	}
}
