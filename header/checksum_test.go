package header_test

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/nexthop-router/nexthop/header"
)

func TestChecksumRFC1071Example(t *testing.T) {
	// RFC 1071 §3: 0001 + f203 + f4f5 + f6f7 = 2ddf0, folded ddf2.
	b := mustHex(t, "0001 f203 f4f5 f6f7")
	if got := header.Checksum(b, 0); got != 0xddf2 {
		t.Errorf("Checksum(RFC 1071 example) = %#04x, want 0xddf2", got)
	}
}

func TestChecksumUpdate2RFC1624Example(t *testing.T) {
	// RFC 1624 §4: HC = 0xDD2F, m 0x5555 -> 0x3285 gives HC' = 0x0000
	// (eqn. 3), the same as recomputing ~(0xCD7A + 0x3285).
	if got := header.ChecksumUpdate2(0xdd2f, 0x5555, 0x3285); got != 0x0000 {
		t.Errorf("ChecksumUpdate2(0xdd2f, 0x5555, 0x3285) = %#04x, want 0x0000", got)
	}
}

// TestChecksumDifferential compares Checksum with the byte-pair reference
// for every length 0..2000 at every start offset 0..7, with random data and
// random initial values, plus large and carry-heavy buffers.
func TestChecksumDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 1071))
	buf := make([]byte, 2000+8)
	for n := 0; n <= 2000; n++ {
		for off := 0; off < 8; off++ {
			b := buf[off : off+n]
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			init := uint16(rng.Uint32())
			if got, want := header.Checksum(b, init), refChecksum(b, init); got != want {
				t.Fatalf("len %d off %d init %#x: Checksum = %#04x, reference %#04x", n, off, init, got, want)
			}
		}
	}
	for _, n := range []int{4095, 4096, 9000, 65535, 65536, 65537, 1 << 20} {
		big := make([]byte, n+7)
		for _, fill := range []string{"random", "ones", "zeros"} {
			for i := range big {
				switch fill {
				case "random":
					big[i] = byte(rng.Uint32())
				case "ones":
					big[i] = 0xff
				case "zeros":
					big[i] = 0
				}
			}
			for off := 0; off < 8; off++ {
				b := big[off : off+n-off%2]
				for _, init := range []uint16{0, 1, 0xfffe, 0xffff} {
					if got, want := header.Checksum(b, init), refChecksum(b, init); got != want {
						t.Fatalf("len %d off %d fill %s init %#x: Checksum = %#04x, reference %#04x", len(b), off, fill, init, got, want)
					}
				}
			}
		}
	}
}

// TestChecksumPieces checks that a buffer summed in even-length pieces,
// chained through initial or joined with ChecksumCombine, sums the same as
// in one go.
func TestChecksumPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 1000 {
		b := make([]byte, rng.IntN(3000))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		cut := rng.IntN(len(b)+1) &^ 1
		whole := header.Checksum(b, 0)
		if got := header.Checksum(b[cut:], header.Checksum(b[:cut], 0)); got != whole {
			t.Fatalf("len %d cut %d: chained = %#04x, whole %#04x", len(b), cut, got, whole)
		}
		if got := header.ChecksumCombine(header.Checksum(b[:cut], 0), header.Checksum(b[cut:], 0)); got != whole {
			t.Fatalf("len %d cut %d: combined = %#04x, whole %#04x", len(b), cut, got, whole)
		}
	}
}

// randomIPv4 returns a valid IPv4 header with random fields, random
// options (as opaque NOPs and a Router Alert) and a correct checksum.
func randomIPv4(rng *rand.Rand) header.IPv4 {
	var opts []byte
	switch rng.IntN(3) {
	case 1:
		opts = []byte{header.IPv4OptionRouterAlert, 4, 0, 0}
	case 2:
		opts = make([]byte, 4*rng.IntN(11))
		for i := range opts {
			opts[i] = header.IPv4OptionNOP
		}
	}
	b := make([]byte, header.IPv4MinimumSize+len(opts))
	f := header.IPv4Fields{
		TOS:            uint8(rng.Uint32()),
		TotalLength:    uint16(len(b)),
		ID:             uint16(rng.Uint32()),
		Flags:          uint8(rng.IntN(8)),
		FragmentOffset: uint16(rng.IntN(8192)) * 8,
		TTL:            uint8(1 + rng.IntN(255)),
		Protocol:       uint8(rng.Uint32()),
		Options:        opts,
	}
	binary.BigEndian.PutUint32(f.Src[:], rng.Uint32())
	binary.BigEndian.PutUint32(f.Dst[:], rng.Uint32())
	header.EncodeIPv4(b, f)
	return header.IPv4(b)
}

// TestChecksumUpdate2VsRecompute changes a random 16-bit word of random
// headers and checks that the RFC 1624 update equals a full recomputation,
// bit for bit.
func TestChecksumUpdate2VsRecompute(t *testing.T) {
	rng := rand.New(rand.NewPCG(1624, 3))
	for i := range 200000 {
		h := randomIPv4(rng)
		if !h.IsChecksumValid() {
			t.Fatalf("random header %x has a bad checksum", []byte(h))
		}
		w := 2 * rng.IntN(len(h)/2)
		if w == 0 || w == 10 { // version/IHL (the length to sum), the checksum itself
			continue
		}
		oldW := binary.BigEndian.Uint16(h[w:])
		newW := uint16(rng.Uint32())
		if i%8 == 0 {
			newW = oldW ^ 0xffff // complementing a word exercises -0 edges
		}
		binary.BigEndian.PutUint16(h[w:], newW)
		got := header.ChecksumUpdate2(h.Checksum(), oldW, newW)
		if want := h.CalculateChecksum(); got != want {
			t.Fatalf("header %x word %d %#04x->%#04x: ChecksumUpdate2 = %#04x, recomputed %#04x", []byte(h), w, oldW, newW, got, want)
		}
	}
}

func TestChecksumUpdate4VsRecompute(t *testing.T) {
	rng := rand.New(rand.NewPCG(1624, 4))
	for range 50000 {
		h := randomIPv4(rng)
		oldA := h.SourceAddress()
		var newA [4]byte
		binary.BigEndian.PutUint32(newA[:], rng.Uint32())
		h.SetSource(newA)
		got := header.ChecksumUpdate4(h.Checksum(), oldA, newA)
		if want := h.CalculateChecksum(); got != want {
			t.Fatalf("header %x src %v->%v: ChecksumUpdate4 = %#04x, recomputed %#04x", []byte(h), oldA, newA, got, want)
		}
	}
}

// TestDecrementTTLVsRecompute checks the Linux-style incremental TTL
// checksum against a full recomputation on random headers, all the way down
// from each TTL to 1.
func TestDecrementTTLVsRecompute(t *testing.T) {
	rng := rand.New(rand.NewPCG(1812, 1))
	for range 20000 {
		h := randomIPv4(rng)
		for h.TTL() > 0 {
			ttl := h.TTL()
			h.DecrementTTL()
			if h.TTL() != ttl-1 {
				t.Fatalf("TTL %d -> %d", ttl, h.TTL())
			}
			if want := h.CalculateChecksum(); h.Checksum() != want {
				t.Fatalf("header %x after TTL %d->%d: checksum %#04x, recomputed %#04x", []byte(h), ttl, ttl-1, h.Checksum(), want)
			}
			if !h.IsChecksumValid() {
				t.Fatalf("header %x: checksum invalid after DecrementTTL", []byte(h))
			}
		}
	}
}

func TestPseudoHeaderChecksum(t *testing.T) {
	rng := rand.New(rand.NewPCG(768, 1))
	for range 10000 {
		var s4, d4 [4]byte
		var s6, d6 [16]byte
		for i := range s6 {
			s6[i], d6[i] = byte(rng.Uint32()), byte(rng.Uint32())
		}
		copy(s4[:], s6[:])
		copy(d4[:], d6[:])
		proto := uint8(rng.Uint32())
		l16 := uint16(rng.Uint32())
		ph4 := append(append(append([]byte{}, s4[:]...), d4[:]...), 0, proto, byte(l16>>8), byte(l16))
		if got, want := header.PseudoHeaderChecksumV4(proto, s4, d4, l16), refChecksum(ph4, 0); got != want {
			t.Fatalf("PseudoHeaderChecksumV4 = %#04x, want %#04x", got, want)
		}
		l32 := rng.Uint32()
		ph6 := append(append([]byte{}, s6[:]...), d6[:]...)
		ph6 = binary.BigEndian.AppendUint32(ph6, l32)
		ph6 = append(ph6, 0, 0, 0, proto)
		if got, want := header.PseudoHeaderChecksumV6(proto, s6, d6, l32), refChecksum(ph6, 0); got != want {
			t.Fatalf("PseudoHeaderChecksumV6 = %#04x, want %#04x", got, want)
		}
	}
}

// TestTransportChecksumAllZero guards the one case where summing the whole
// message and subtracting the stored checksum would go wrong: an all-zero
// ICMP Echo Reply must get checksum 0xffff, not 0.
func TestTransportChecksumAllZero(t *testing.T) {
	m := header.ICMPv4(make([]byte, 8))
	m.SetChecksum(0)
	m.UpdateChecksum()
	if m.Checksum() != 0xffff || !m.IsChecksumValid() {
		t.Errorf("all-zero echo reply: checksum %#04x valid=%v, want 0xffff valid", m.Checksum(), m.IsChecksumValid())
	}
	// Whatever the field holds before, the result is the same.
	m.SetChecksum(0x1234)
	if got := m.CalculateChecksum(); got != 0xffff {
		t.Errorf("CalculateChecksum with stale field = %#04x, want 0xffff", got)
	}
	if !bytes.Equal(m[4:], make([]byte, 4)) {
		t.Errorf("CalculateChecksum modified the message")
	}
}

// TestIPv4IsChecksumValidVsChecksum checks the option-less fast path of
// IPv4.IsChecksumValid against the general Checksum on valid headers, on
// headers with one bit flipped, with a checksum field off by one, and on
// the all-zero and all-ones corner values.
func TestIPv4IsChecksumValidVsChecksum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1071, 20))
	check := func(h header.IPv4) {
		t.Helper()
		want := header.Checksum(h[:h.HeaderLength()], 0) == 0xffff
		if got := h.IsChecksumValid(); got != want {
			t.Fatalf("header %x: IsChecksumValid = %v, Checksum says %v", []byte(h), got, want)
		}
	}
	for i := range 100000 {
		h := make(header.IPv4, header.IPv4MinimumSize)
		for j := range h {
			h[j] = byte(rng.Uint32())
		}
		h[0] = 0x45
		if i%2 == 0 {
			h.UpdateChecksum()
			if !h.IsChecksumValid() {
				t.Fatalf("header %x: freshly computed checksum reported invalid", []byte(h))
			}
		}
		check(h)
		bit := rng.IntN(8 * len(h))
		h[bit/8] ^= 1 << (bit % 8)
		if h[0] == 0x45 {
			check(h)
		}
		h[0] = 0x45
		h.SetChecksum(h.Checksum() + 1)
		check(h)
	}
	zero := header.IPv4{0x45, 19: 0}
	check(zero)
	ones := make(header.IPv4, header.IPv4MinimumSize)
	for j := range ones {
		ones[j] = 0xff
	}
	ones[0] = 0x45
	check(ones)
}
