package header_test

import (
	"bytes"
	"testing"

	"github.com/nexthop-router/nexthop/header"
)

// The fuzz targets check that no parser panics on any input, that what a
// Validate function accepts is safe for every accessor, and that parsing
// then building from the parsed fields gives the same bytes back. Their
// seeds, the annotated golden packets and a few lies, run in plain go test.

func FuzzChecksum(f *testing.F) {
	f.Add(mustHex(f, "0001 f203 f4f5 f6f7"), uint16(0), uint8(0)) // RFC 1071 §3 example
	f.Add(bytes.Repeat([]byte{0xff}, 129), uint16(0xffff), uint8(3))
	f.Add([]byte{}, uint16(0x1234), uint8(0))
	f.Add([]byte{0x80}, uint16(0), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, initial uint16, off uint8) {
		b := data[min(int(off%8), len(data)):]
		if got, want := header.Checksum(b, initial), refChecksum(b, initial); got != want {
			t.Fatalf("Checksum(% x, %#x) = %#04x, reference %#04x", b, initial, got, want)
		}
	})
}

func FuzzEthernet(f *testing.F) {
	f.Add(mustHex(f, goldenARPRequest))
	f.Add(make([]byte, 13))
	f.Fuzz(func(t *testing.T, data []byte) {
		if header.ValidateEthernet(data) != nil {
			return
		}
		e := header.Ethernet(data)
		out := make([]byte, header.EthernetMinimumSize)
		header.EncodeEthernet(out, e.Dst(), e.Src(), e.EtherType())
		if !bytes.Equal(out, data[:header.EthernetMinimumSize]) || len(e.Payload()) != len(data)-14 {
			t.Fatalf("round trip: % x != % x", out, data[:14])
		}
	})
}

func FuzzARP(f *testing.F) {
	f.Add(mustHex(f, goldenARPRequest)[14:])
	f.Add(mustHex(f, goldenARPRequest)[14:41]) // one byte short
	f.Add(mustHex(f, "0006 0800 06 04 0001"))  // IEEE 802 hardware, truncated
	f.Fuzz(func(t *testing.T, data []byte) {
		if header.ValidateARP(data) != nil {
			return
		}
		a := header.ARP(data)
		_, _ = a.SenderAddr(), a.TargetAddr()
		out := make([]byte, header.ARPSize)
		header.EncodeARP(out, a.Op(), a.SenderHW(), a.SenderIP(), a.TargetHW(), a.TargetIP())
		if !bytes.Equal(out, data[:header.ARPSize]) {
			t.Fatalf("round trip: % x != % x", out, data[:header.ARPSize])
		}
	})
}

func FuzzIPv4(f *testing.F) {
	f.Add(append(mustHex(f, goldenIPv4UDPHeader), make([]byte, 95)...))
	f.Add(mustHex(f, goldenIPv4Options))
	f.Add(mustHex(f, goldenPing))
	f.Add(mustHex(f, "4f00 0014 0000 0000 4011 0000 c612 0001 c612 0002"))         // IHL 15 past a 20-byte buffer
	f.Add(mustHex(f, "4600 0018 0000 0000 4011 0000 c612 0001 c612 0002 9404 00")) // option past end
	f.Fuzz(func(t *testing.T, data []byte) {
		if header.ValidateIPv4(data) != nil {
			return
		}
		h := header.IPv4(data)
		hl := h.HeaderLength()
		if hl < 20 || hl > 60 || hl > len(data) || int(h.TotalLength()) > len(data) || len(h.Payload()) != int(h.TotalLength())-hl {
			t.Fatalf("validated header inconsistent: hl %d total %d len %d", hl, h.TotalLength(), len(data))
		}
		_, _, _, _ = h.SrcAddr(), h.DstAddr(), h.IsFragment(), h.DontFragment()
		next := 20
		it := h.OptionIterator()
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			if o.Offset != next || len(o.Raw) == 0 || o.Offset+len(o.Raw) > hl || o.Raw[0] != o.Type {
				t.Fatalf("option %+v out of place (expected offset %d, header length %d)", o, next, hl)
			}
			_ = o.Data()
			next += len(o.Raw)
		}
		if it.Err() != nil && (it.ErrOffset() < 20 || it.ErrOffset() >= hl) {
			t.Fatalf("ErrOffset %d outside options [20,%d)", it.ErrOffset(), hl)
		}

		// Round trip: the builder reproduces the header, checksum included
		// when the original one was right.
		valid := h.IsChecksumValid()
		out := make([]byte, len(data))
		copy(out[hl:], data[hl:])
		n := header.EncodeIPv4(out, fieldsOfIPv4(h))
		if n != hl || !bytes.Equal(out[:10], data[:10]) || !bytes.Equal(out[12:], data[12:]) {
			t.Fatalf("round trip:\n% x\n% x", out[:hl], data[:hl])
		}
		if valid && !bytes.Equal(out, data) {
			t.Fatalf("round trip changed a valid checksum: % x vs % x", out[10:12], data[10:12])
		}
		if !header.IPv4(out).IsChecksumValid() {
			t.Fatalf("EncodeIPv4 wrote a bad checksum")
		}
		if valid && h.TTL() > 0 {
			h := header.IPv4(bytes.Clone(data)) // the fuzzer's input must not change
			h.DecrementTTL()
			if !h.IsChecksumValid() || h.Checksum() != h.CalculateChecksum() {
				t.Fatalf("DecrementTTL broke the checksum")
			}
		}
	})
}

func FuzzIPv6Ext(f *testing.F) {
	f.Add([]byte(ipv6With(header.IPv6ExtHopByHop, mustHex(f, goldenExtChain))))
	f.Add(mustHex(f, goldenIPv6Echo))
	f.Add([]byte(ipv6With(60, mustHex(f, "00 00 01 04 00000000 3b 00 01 04 00000000")))) // HbH not first
	f.Add([]byte(ipv6With(0, mustHex(f, "3b 01 01 04 00000000"))))                       // length past end
	f.Add([]byte(ipv6With(44, mustHex(f, "3c 00 0050 00000001 3c ff ffff"))))            // non-first fragment
	f.Add([]byte(ipv6With(51, mustHex(f, "3a 04 0000 00000001 00000001 00000000 00000000 00000000 80000000"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := header.WalkIPv6Extensions(data) // must not panic even unvalidated
		if verr := header.ValidateIPv6(data); verr != nil {
			if err != verr {
				t.Fatalf("WalkIPv6Extensions on an invalid packet = %v, want %v", err, verr)
			}
			return
		}
		h := header.IPv6(data)
		end := 40 + int(h.PayloadLength())
		_, _ = h.SrcAddr(), h.DstAddr()
		if err != nil {
			if w.ErrPointer < 0 || w.ErrPointer >= len(data) {
				t.Fatalf("ErrPointer %d outside the packet (%d bytes)", w.ErrPointer, len(data))
			}
		} else if w.Offset > end {
			t.Fatalf("upper layer at %d past payload end %d", w.Offset, end)
		}
		next := 40
		for _, eh := range w.Headers[:w.N] {
			if eh.Offset != next || eh.Length < 8 || eh.Offset+eh.Length > end {
				t.Fatalf("header %+v out of place (expected at %d, end %d)", eh, next, end)
			}
			next += eh.Length
			switch eh.Type {
			case header.IPv6ExtHopByHop, header.IPv6ExtDestination:
				it := eh.OptionIterator(h)
				opt := eh.Offset + 2
				for o, ok := it.Next(); ok; o, ok = it.Next() {
					if o.Offset != opt || o.Offset+len(o.Data) > eh.Offset+eh.Length {
						t.Fatalf("option %+v out of place in %+v", o, eh)
					}
					_, _ = o.RouterAlert()
					_, _ = o.JumboPayloadLength()
					opt += 2 + len(o.Data)
					if o.Type == header.IPv6OptionPad1 {
						opt--
					}
				}
			case header.IPv6ExtFragment:
				fr := eh.Fragment(h)
				_, _, _, _ = fr.NextHeader(), fr.FragmentOffset(), fr.More(), fr.ID()
			}
		}
		if err == nil && w.Offset != next {
			t.Fatalf("upper layer offset %d, headers end at %d", w.Offset, next)
		}

		out := make([]byte, 40)
		header.EncodeIPv6(out, header.IPv6Fields{
			TrafficClass: h.TrafficClass(), FlowLabel: h.FlowLabel(), PayloadLength: h.PayloadLength(),
			NextHeader: h.NextHeader(), HopLimit: h.HopLimit(), Src: h.SourceAddress(), Dst: h.DestinationAddress(),
		})
		if !bytes.Equal(out, data[:40]) {
			t.Fatalf("round trip: % x != % x", out, data[:40])
		}
	})
}

func FuzzICMPv4(f *testing.F) {
	f.Add(mustHex(f, goldenPing)[20:])
	f.Add(mustHex(f, "0304 0000 0000 05dc 4500 0014"))
	f.Add(make([]byte, 7))
	f.Fuzz(func(t *testing.T, data []byte) {
		if header.ValidateICMPv4(data) != nil {
			return
		}
		m := header.ICMPv4(data)
		_, _, _, _, _ = m.MTU(), m.Pointer(), m.Gateway(), m.Ident(), m.Sequence()
		valid := m.IsChecksumValid()
		out := append([]byte{}, data...)
		header.EncodeICMPv4(out, m.Type(), m.Code(), m.RestOfHeader())
		if !header.ICMPv4(out).IsChecksumValid() || !bytes.Equal(out[4:], data[4:]) || !bytes.Equal(out[:2], data[:2]) {
			t.Fatalf("EncodeICMPv4: % x", out)
		}
		if valid && !bytes.Equal(out, data) {
			t.Fatalf("round trip of a valid message changed it: % x vs % x", out, data)
		}
	})
}

func FuzzICMPv6(f *testing.F) {
	f.Add(mustHex(f, goldenIPv6Echo)[40:])
	f.Add(mustHex(f, goldenNS))
	f.Add(mustHex(f, goldenRA))
	f.Add(mustHex(f, "0200 0000 0000 0500 6000 0000"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if header.ValidateICMPv6(data) != nil {
			return
		}
		m := header.ICMPv6(data)
		_, _, _, _ = m.MTU(), m.Pointer(), m.Ident(), m.Sequence()
		valid := m.IsChecksumValid(v6a, v6b)
		out := append([]byte{}, data...)
		header.EncodeICMPv6(out, m.Type(), m.Code(), m.Pointer(), v6a, v6b)
		if !header.ICMPv6(out).IsChecksumValid(v6a, v6b) || !bytes.Equal(out[4:], data[4:]) {
			t.Fatalf("EncodeICMPv6: % x", out)
		}
		if valid && !bytes.Equal(out, data) {
			t.Fatalf("round trip of a valid message changed it")
		}
		if header.ValidateNDP(m) == nil {
			readNDP(t, m)
		}
	})
}

// readNDP touches every accessor of a validated NDP message.
func readNDP(t *testing.T, m header.ICMPv6) {
	body := m.MessageBody()
	var opts []byte
	switch m.Type() {
	case header.ICMPv6RouterSolicit:
		opts = header.NDPRouterSolicit(body).Options()
	case header.ICMPv6RouterAdvert:
		ra := header.NDPRouterAdvert(body)
		_, _, _, _, _, _ = ra.CurHopLimit(), ra.Managed(), ra.Other(), ra.RouterLifetime(), ra.ReachableTime(), ra.RetransTimer()
		opts = ra.Options()
	case header.ICMPv6NeighborSolicit:
		ns := header.NDPNeighborSolicit(body)
		_ = ns.Target()
		opts = ns.Options()
	case header.ICMPv6NeighborAdvert:
		na := header.NDPNeighborAdvert(body)
		_, _, _, _ = na.Router(), na.Solicited(), na.Override(), na.Target()
		opts = na.Options()
	case header.ICMPv6Redirect:
		r := header.NDPRedirect(body)
		_, _ = r.TargetAddress(), r.DestinationAddress()
		opts = r.Options()
	default:
		t.Fatalf("ValidateNDP accepted type %d", m.Type())
	}
	it := header.NewNDPOptionIterator(opts)
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		readNDPOption(o)
	}
	if it.Err() != nil {
		t.Fatalf("ValidateNDP passed but the options fail: %v", it.Err())
	}
}

func readNDPOption(o header.NDPOption) {
	_, _ = o.LinkLayerAddress()
	_, _ = o.MTU()
	if pi, ok := o.PrefixInformation(); ok {
		_, _, _, _, _, _ = pi.PrefixLength(), pi.OnLink(), pi.Autonomous(), pi.ValidLifetime(), pi.PreferredLifetime(), pi.Prefix()
	}
	_ = o.Data()
}

func FuzzNDPOptions(f *testing.F) {
	f.Add(header.NDPRouterAdvert(mustHex(f, goldenRA)[4:]).Options())
	f.Add(mustHex(f, "01 01 020000000001"))
	f.Add(mustHex(f, "01 00 020000000001"))                      // length 0
	f.Add(mustHex(f, "01 02 020000000001"))                      // length past end
	f.Add(mustHex(f, "ff 01 0000 00000000 03 04 40c0 00000000")) // unknown, then truncated prefix
	f.Fuzz(func(t *testing.T, data []byte) {
		it := header.NewNDPOptionIterator(data)
		next := 0
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			if o.Offset != next || len(o.Raw) == 0 || len(o.Raw)%8 != 0 || o.Offset+len(o.Raw) > len(data) || o.Raw[0] != o.Type {
				t.Fatalf("option %+v out of place (expected at %d of %d)", o, next, len(data))
			}
			readNDPOption(o)
			next += len(o.Raw)
		}
		if (it.Err() == nil) != (next == len(data)) {
			t.Fatalf("consumed %d of %d bytes, Err %v", next, len(data), it.Err())
		}
	})
}

func FuzzUDP(f *testing.F) {
	f.Add(mustHex(f, goldenUDP))
	f.Add(mustHex(f, "0035 0035 0020 0000 00")) // length past end
	f.Fuzz(func(t *testing.T, data []byte) {
		if header.ValidateUDP(data) != nil {
			return
		}
		u := header.UDP(data)
		if len(u.Payload()) != int(u.Length())-8 {
			t.Fatalf("payload %d for length %d", len(u.Payload()), u.Length())
		}
		out := make([]byte, 8)
		header.EncodeUDP(out, header.UDPFields{SrcPort: u.SourcePort(), DstPort: u.DestinationPort(), Length: u.Length(), Checksum: u.Checksum()})
		if !bytes.Equal(out, data[:8]) {
			t.Fatalf("round trip: % x != % x", out, data[:8])
		}
		d := header.UDP(bytes.Clone(u[:u.Length()])) // the fuzzer's input must not change
		d.UpdateChecksum(0x1234)
		if !d.IsChecksumValid(0x1234) || d.Checksum() == 0 {
			t.Fatalf("UpdateChecksum: %#04x", d.Checksum())
		}
	})
}

func FuzzTCP(f *testing.F) {
	f.Add(mustHex(f, goldenTCPSyn))
	f.Add(mustHex(f, "0050 0050 00000000 00000000 f0 10 0000 0000 0000")) // offset 15 past end
	f.Fuzz(func(t *testing.T, data []byte) {
		if header.ValidateTCP(data) != nil {
			return
		}
		h := header.TCP(data)
		if len(h.Options())+20+len(h.Payload()) != len(data) {
			t.Fatalf("options %d payload %d of %d", len(h.Options()), len(h.Payload()), len(data))
		}
		out := make([]byte, h.DataOffset())
		n := header.EncodeTCP(out, header.TCPFields{
			SrcPort: h.SourcePort(), DstPort: h.DestinationPort(), SeqNum: h.SequenceNumber(), AckNum: h.AckNumber(),
			Flags: h.Flags(), WindowSize: h.WindowSize(), Checksum: h.Checksum(), UrgentPointer: h.UrgentPointer(),
			Options: h.Options(),
		})
		want := append([]byte{}, data[:n]...)
		want[12] &= 0xf0 // the reserved bits are written as zero
		if n != h.DataOffset() || !bytes.Equal(out, want) {
			t.Fatalf("round trip: % x != % x", out, want)
		}
		h = header.TCP(bytes.Clone(data)) // the fuzzer's input must not change
		h.UpdateChecksum(0xabcd)
		if !h.IsChecksumValid(0xabcd) {
			t.Fatalf("UpdateChecksum did not produce a valid checksum")
		}
	})
}
