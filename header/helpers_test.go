package header_test

import (
	"encoding/hex"
	"strings"
	"testing"
)

// mustHex decodes hex written with spaces, newlines and // comments, so
// golden packets can be annotated field by field.
func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	var sb strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		sb.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		t.Fatalf("mustHex(%q): %v", s, err)
	}
	return b
}

// refChecksum is the obviously correct RFC 1071 sum: big-endian 16-bit
// words, one at a time, folded at the end. Checksum is tested against it.
func refChecksum(b []byte, initial uint16) uint16 {
	sum := uint64(initial)
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint64(b[i])<<8 | uint64(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint64(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

var (
	v4a = [4]byte{198, 18, 0, 1}
	v4b = [4]byte{198, 18, 0, 2}
	v6a = [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1} // 2001:db8::1
	v6b = [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 2} // 2001:db8::2
)
