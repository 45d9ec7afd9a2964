package header

import "testing"

// TestDecrementTTLChecksumExhaustive proves the two-instruction Linux form
// equal to the general RFC 1624 update for every checksum value and every
// TTL/protocol word.
func TestDecrementTTLChecksumExhaustive(t *testing.T) {
	for ttl := 1; ttl < 256; ttl += 17 {
		for proto := 0; proto < 256; proto += 51 {
			oldW := uint16(ttl<<8 | proto)
			newW := oldW - 0x0100
			for x := 0; x <= 0xffff; x++ {
				if got, want := decrementTTLChecksum(uint16(x)), ChecksumUpdate2(uint16(x), oldW, newW); got != want {
					t.Fatalf("xsum %#04x ttl %d proto %d: decrementTTLChecksum = %#04x, ChecksumUpdate2 = %#04x", x, ttl, proto, got, want)
				}
			}
		}
	}
}

func TestFold64(t *testing.T) {
	for _, tc := range []struct {
		in   uint64
		want uint16
	}{
		{0, 0},
		{0xffff, 0xffff},
		{0x10000, 1},
		{0xffffffffffffffff, 0xffff},
		{0x0001000100010001, 4},
		{0xffff0000ffff0000, 0xffff},
	} {
		if got := fold64(tc.in); got != tc.want {
			t.Errorf("fold64(%#x) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
}
