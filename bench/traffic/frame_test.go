package traffic

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/nexthop-router/nexthop/header"
)

var (
	srcMAC = [6]byte{0x02, 0, 0, 0, 0, 1}
	dstMAC = [6]byte{0x02, 0, 0, 0, 0, 2}
	v4Src  = netip.MustParseAddr("198.18.0.1")
	v4Dst  = netip.MustParseAddr("198.19.0.1")
	v6Src  = netip.MustParseAddr("2001:db8::1")
	v6Dst  = netip.MustParseAddr("2001:db8:1::1")
)

func spec(v6 bool, size, flows int, id uint32) Spec {
	s := Spec{SrcMAC: srcMAC, DstMAC: dstMAC, Src: v4Src, Dst: v4Dst, Size: size, Flows: flows, ID: id}
	if v6 {
		s.Src, s.Dst = v6Src, v6Dst
	}
	return s
}

// checkFrame verifies f as a user would with a packet capture: every header
// field, both checksums (with header/'s validators, independently of the
// incremental update), the payload and the zero padding.
func checkFrame(t *testing.T, s Spec, f []byte, seq, tx uint32) {
	t.Helper()
	if len(f) != s.Size-FCSSize {
		t.Fatalf("frame is %d bytes, want %d (size %d minus FCS)", len(f), s.Size-FCSSize, s.Size)
	}
	eth := header.Ethernet(f)
	if eth.Dst() != s.DstMAC || eth.Src() != s.SrcMAC {
		t.Errorf("MACs %x -> %x, want %x -> %x", eth.Src(), eth.Dst(), s.SrcMAC, s.DstMAC)
	}
	var udp header.UDP
	var pseudo uint16
	if s.IPv6() {
		if eth.EtherType() != header.EtherTypeIPv6 {
			t.Fatalf("EtherType %#04x, want IPv6", eth.EtherType())
		}
		ip := header.IPv6(eth.Payload())
		if err := header.ValidateIPv6(ip); err != nil {
			t.Fatalf("ValidateIPv6: %v", err)
		}
		if ip.NextHeader() != header.IPv6ProtocolUDP || ip.HopLimit() != 64 || ip.SrcAddr() != s.Src || ip.DstAddr() != s.Dst {
			t.Errorf("IPv6 header: next %d hop %d %v -> %v", ip.NextHeader(), ip.HopLimit(), ip.SrcAddr(), ip.DstAddr())
		}
		if int(ip.PayloadLength()) != len(f)-14-40 {
			t.Errorf("payload length %d, want %d", ip.PayloadLength(), len(f)-14-40)
		}
		udp = ip.Payload()
		pseudo = header.PseudoHeaderChecksumV6(header.IPv6ProtocolUDP, s.Src.As16(), s.Dst.As16(), uint32(len(udp)))
	} else {
		if eth.EtherType() != header.EtherTypeIPv4 {
			t.Fatalf("EtherType %#04x, want IPv4", eth.EtherType())
		}
		ip := header.IPv4(eth.Payload())
		if err := header.ValidateIPv4(ip); err != nil {
			t.Fatalf("ValidateIPv4: %v", err)
		}
		if !ip.IsChecksumValid() {
			t.Errorf("IPv4 header checksum %#04x is wrong", ip.Checksum())
		}
		if ip.Protocol() != header.IPv4ProtocolUDP || ip.TTL() != 64 || !ip.DontFragment() || ip.IsFragment() || ip.SrcAddr() != s.Src || ip.DstAddr() != s.Dst {
			t.Errorf("IPv4 header: proto %d ttl %d DF %v %v -> %v", ip.Protocol(), ip.TTL(), ip.DontFragment(), ip.SrcAddr(), ip.DstAddr())
		}
		if int(ip.TotalLength()) != len(f)-14 {
			t.Errorf("total length %d, want %d", ip.TotalLength(), len(f)-14)
		}
		udp = ip.Payload()
		pseudo = header.PseudoHeaderChecksumV4(header.IPv4ProtocolUDP, s.Src.As4(), s.Dst.As4(), uint16(len(udp)))
	}
	if err := header.ValidateUDP(udp); err != nil {
		t.Fatalf("ValidateUDP: %v", err)
	}
	if int(udp.Length()) != len(udp) {
		t.Errorf("UDP length %d, want %d", udp.Length(), len(udp))
	}
	if udp.Checksum() == 0 || !udp.IsChecksumValid(pseudo) || udp.Checksum() != udp.CalculateChecksum(pseudo) {
		t.Errorf("UDP checksum %#04x wrong, full recomputation gives %#04x", udp.Checksum(), udp.CalculateChecksum(pseudo))
	}
	wantPort := SrcPortBase + uint16(seq%uint32(s.Flows))
	if udp.SourcePort() != wantPort || udp.DestinationPort() != DstPort {
		t.Errorf("ports %d -> %d, want %d -> %d", udp.SourcePort(), udp.DestinationPort(), wantPort, DstPort)
	}
	pl := udp.Payload()
	if got := binary.BigEndian.Uint32(pl[0:]); got != s.ID^Magic {
		t.Errorf("tag %#08x, want %#08x", got, s.ID^Magic)
	}
	if binary.BigEndian.Uint32(pl[4:]) != seq || binary.BigEndian.Uint32(pl[8:]) != tx {
		t.Errorf("seq/tx %d/%d, want %d/%d", binary.BigEndian.Uint32(pl[4:]), binary.BigEndian.Uint32(pl[8:]), seq, tx)
	}
	if pad := pl[PayloadSize:]; !bytes.Equal(pad, make([]byte, len(pad))) {
		t.Errorf("padding is not zero: %x", pad)
	}
	p, ok := ParseFrame(f, s.ID)
	if !ok || p.Seq != seq || p.TxNs != tx || p.ID != s.ID || p.SrcPort != wantPort {
		t.Errorf("ParseFrame = %+v, %v; want seq %d tx %d port %d", p, ok, seq, tx, wantPort)
	}
}

func TestFramesEverySize(t *testing.T) {
	stamps := []struct{ seq, tx uint32 }{
		{0, 0}, {1, 1}, {63, 0xffffffff}, {64, 0x12345678}, {0xffffffff, 0xfffffffe}, {1e6, 0x80000000},
	}
	for _, v6 := range []bool{false, true} {
		sizes := []int{64, 65, 128, 256, 512, 1024, 1280, 1518}
		if v6 {
			sizes = []int{78, 79, 128, 256, 512, 1024, 1280, 1518}
		}
		for _, size := range sizes {
			for _, id := range []uint32{0, 7, 0xdeadbeef} {
				s := spec(v6, size, 64, id)
				tm, err := NewTemplate(s)
				if err != nil {
					t.Fatalf("NewTemplate(v6=%v size %d): %v", v6, size, err)
				}
				buf := make([]byte, tm.FrameLen())
				tm.Fill(buf)
				for _, st := range stamps {
					tm.Stamp(buf, st.seq, st.tx) // restamping the same buffer must work too
					checkFrame(t, s, buf, st.seq, st.tx)
				}
			}
		}
	}
}

// TestChecksumEveryFlowAndManyStamps sweeps seq and tx so that the
// incremental UDP checksum hits its carry and 0xffff cases.
func TestChecksumEveryFlowAndManyStamps(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		s := spec(v6, MinFrameSize(v6), MaxFlows, 1)
		tm, err := NewTemplate(s)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, tm.FrameLen())
		tm.Fill(buf)
		udpOff := 14 + 20
		if v6 {
			udpOff = 14 + 40
		}
		for seq := uint32(0); seq < 200000; seq += 3 {
			tx := seq * 2654435761
			tm.Stamp(buf, seq, tx)
			udp := header.UDP(buf[udpOff:])
			var pseudo uint16
			if v6 {
				pseudo = header.PseudoHeaderChecksumV6(17, s.Src.As16(), s.Dst.As16(), uint32(len(udp)))
			} else {
				pseudo = header.PseudoHeaderChecksumV4(17, s.Src.As4(), s.Dst.As4(), uint16(len(udp)))
			}
			if want := udp.CalculateChecksum(pseudo); udp.Checksum() != want {
				t.Fatalf("v6=%v seq %d tx %#x: checksum %#04x, full recomputation %#04x", v6, seq, tx, udp.Checksum(), want)
			}
		}
	}
}

func TestMinimumSizes(t *testing.T) {
	if MinFrameSize(false) != 64 || MinFrameSize(true) != 78 {
		t.Fatalf("minimum sizes %d/%d, want 64/78", MinFrameSize(false), MinFrameSize(true))
	}
	for _, tc := range []struct {
		v6   bool
		size int
		want string
	}{
		{false, 63, "at least 64"},
		{false, 0, "at least 64"},
		{true, 77, "at least 78"},
		{true, 64, "IPv6+UDP test frames need at least 78"},
		{false, MaxFrameSize + 1, "too large"},
	} {
		_, err := NewTemplate(spec(tc.v6, tc.size, 1, 0))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("v6=%v size %d: error %v, want one containing %q", tc.v6, tc.size, err, tc.want)
		}
	}
}

func TestSpecErrors(t *testing.T) {
	mixed := spec(false, 64, 1, 0)
	mixed.Dst = v6Dst
	mapped := spec(false, 64, 1, 0)
	mapped.Src = netip.AddrFrom16(v4Src.As16())
	noDst := spec(false, 64, 1, 0)
	noDst.Dst = netip.Addr{}
	for name, tc := range map[string]struct {
		s    Spec
		want string
	}{
		"mixed families": {mixed, "different families"},
		"mapped":         {mapped, "IPv4-mapped"},
		"no dst":         {noDst, "required"},
		"zero flows":     {spec(false, 64, 0, 0), "flows 0 out of range"},
		"too many flows": {spec(false, 64, MaxFlows+1, 0), "out of range"},
	} {
		if err := tc.s.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want error containing %q", name, err, tc.want)
		}
	}
	if err := spec(true, 78, MaxFlows, 0).Validate(); err != nil {
		t.Errorf("valid spec rejected: %v", err)
	}
}

func TestParseFrameRejects(t *testing.T) {
	s := spec(false, 64, 4, 42)
	tm, _ := NewTemplate(s)
	good := make([]byte, tm.FrameLen())
	tm.Fill(good)
	tm.Stamp(good, 5, 6)
	if _, ok := ParseFrame(good, 42); !ok {
		t.Fatal("good frame rejected")
	}
	if _, ok := ParseFrame(good, 43); ok {
		t.Error("frame of run 42 accepted for run 43")
	}
	mut := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	for name, b := range map[string][]byte{
		"arp":          mut(func(b []byte) { b[12], b[13] = 0x08, 0x06 }),
		"tcp":          mut(func(b []byte) { b[14+9] = 6 }),
		"fragment":     mut(func(b []byte) { b[14+6] |= 0x20 }),
		"other port":   mut(func(b []byte) { b[14+20+3] = 10 }),
		"bad tag":      mut(func(b []byte) { b[14+20+8] ^= 1 }),
		"short udp":    mut(func(b []byte) { binary.BigEndian.PutUint16(b[14+20+4:], 8+PayloadSize-1) }),
		"ip too long":  mut(func(b []byte) { binary.BigEndian.PutUint16(b[14+2:], 200) }),
		"ip version 5": mut(func(b []byte) { b[14] = 0x55 }),
	} {
		if _, ok := ParseFrame(b, 42); ok {
			t.Errorf("%s: accepted", name)
		}
	}
	for n := range len(good) {
		if _, ok := ParseFrame(good[:n], 42); ok && n < 14+20+8+PayloadSize {
			t.Errorf("truncated to %d bytes: accepted", n)
		}
	}
}

func TestNoAllocations(t *testing.T) {
	tm, _ := NewTemplate(spec(true, 78, 64, 9))
	buf := make([]byte, tm.FrameLen())
	tm.Fill(buf)
	st := NewStats()
	var seq uint32
	if n := testing.AllocsPerRun(1000, func() {
		tm.Stamp(buf, seq, seq)
		p, ok := ParseFrame(buf, 9)
		if !ok {
			panic("parse")
		}
		st.Add(p, seq+1000)
		seq++
	}); n != 0 {
		t.Errorf("Stamp+ParseFrame+Add: %v allocations per frame, want 0", n)
	}
}

func BenchmarkStamp(b *testing.B) {
	tm, _ := NewTemplate(spec(false, 64, 64, 9))
	buf := make([]byte, tm.FrameLen())
	tm.Fill(buf)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tm.Stamp(buf, uint32(i), uint32(i))
	}
}

func BenchmarkParseAndCount(b *testing.B) {
	tm, _ := NewTemplate(spec(false, 64, 64, 9))
	buf := make([]byte, tm.FrameLen())
	tm.Fill(buf)
	st := NewStats()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tm.Stamp(buf, uint32(i), uint32(i))
		p, _ := ParseFrame(buf, 9)
		st.Add(p, uint32(i)+5000)
	}
}
