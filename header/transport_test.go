package header_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/nexthop-router/nexthop/header"
)

// goldenTCPSyn: 198.18.0.1:40000 -> 198.18.0.2:80 SYN with MSS and window
// scale options.
const goldenTCPSyn = `
9c40 0050           // source port 40000, destination port 80
01020304            // sequence number
00000000            // acknowledgment number
70 02 faf0          // data offset 7 (28 bytes), SYN, window 64240
5c69 0000           // checksum, urgent pointer
0204 05b4           // MSS 1460
01 030307           // NOP, window scale 7
`

// goldenUDP: 198.18.0.1:5353 -> 198.18.0.2:53, "hello".
const goldenUDP = `
14e9 0035           // source port 5353, destination port 53
000d 1abc           // length 13, checksum
68656c6c6f          // "hello"
`

func TestTCPGolden(t *testing.T) {
	seg := mustHex(t, goldenTCPSyn)
	if err := header.ValidateTCP(seg); err != nil {
		t.Fatal(err)
	}
	h := header.TCP(seg)
	ph := header.PseudoHeaderChecksumV4(header.IPv4ProtocolTCP, v4a, v4b, uint16(len(seg)))
	if h.SourcePort() != 40000 || h.DestinationPort() != 80 || h.SequenceNumber() != 0x01020304 || h.AckNumber() != 0 ||
		h.DataOffset() != 28 || h.Flags() != header.TCPFlagSYN || h.WindowSize() != 64240 || h.Checksum() != 0x5c69 ||
		h.UrgentPointer() != 0 || len(h.Options()) != 8 || len(h.Payload()) != 0 ||
		!h.IsChecksumValid(ph) || h.CalculateChecksum(ph) != 0x5c69 {
		t.Errorf("TCP fields wrong: % x", seg)
	}
	out := make([]byte, 28)
	n := header.EncodeTCP(out, header.TCPFields{SrcPort: 40000, DstPort: 80, SeqNum: 0x01020304, Flags: header.TCPFlagSYN, WindowSize: 64240, Options: h.Options()})
	header.TCP(out).UpdateChecksum(ph)
	if n != 28 || !bytes.Equal(out, seg) {
		t.Errorf("built\n% x\nwant\n% x", out, seg)
	}
	h.SetSequenceNumber(5)
	h.SetAckNumber(6)
	h.SetFlags(header.TCPFlagACK | header.TCPFlagFIN)
	h.SetWindowSize(7)
	h.SetUrgentPointer(8)
	h.SetSourcePort(9)
	h.SetDestinationPort(10)
	if h.SequenceNumber() != 5 || h.AckNumber() != 6 || h.Flags() != 0x11 || h.WindowSize() != 7 || h.UrgentPointer() != 8 || h.SourcePort() != 9 || h.DestinationPort() != 10 {
		t.Errorf("TCP setters: % x", seg)
	}
}

func TestUDPGolden(t *testing.T) {
	d := mustHex(t, goldenUDP)
	if err := header.ValidateUDP(d); err != nil {
		t.Fatal(err)
	}
	u := header.UDP(d)
	ph := header.PseudoHeaderChecksumV4(header.IPv4ProtocolUDP, v4a, v4b, u.Length())
	if u.SourcePort() != 5353 || u.DestinationPort() != 53 || u.Length() != 13 || u.Checksum() != 0x1abc ||
		string(u.Payload()) != "hello" || !u.IsChecksumValid(ph) || u.CalculateChecksum(ph) != 0x1abc {
		t.Errorf("UDP fields wrong: % x", d)
	}
	out := make([]byte, 13)
	copy(out[8:], "hello")
	header.EncodeUDP(out, header.UDPFields{SrcPort: 5353, DstPort: 53, Length: 13})
	header.UDP(out).UpdateChecksum(ph)
	if !bytes.Equal(out, d) {
		t.Errorf("built\n% x\nwant\n% x", out, d)
	}
}

// TestUDPChecksumNeverZero: a datagram whose checksum computes to zero is
// sent as 0xffff, since zero means "no checksum" (RFC 768).
func TestUDPChecksumNeverZero(t *testing.T) {
	u := header.UDP(make([]byte, 10))
	header.EncodeUDP(u, header.UDPFields{Length: 10})
	// Choose payload so the sum is 0xffff: header words are 0, 0, 10, 0,
	// so payload 0xfff5 with a zero pseudo-header sums to 0xffff.
	u[8], u[9] = 0xff, 0xf5
	if got := u.CalculateChecksum(0); got != 0xffff {
		t.Errorf("CalculateChecksum = %#04x, want 0xffff", got)
	}
	u.UpdateChecksum(0)
	if !u.IsChecksumValid(0) {
		t.Errorf("0xffff checksum not valid")
	}
}

func TestValidateUDP(t *testing.T) {
	good := mustHex(t, goldenUDP)
	mod := func(hi, lo byte) []byte { b := append([]byte{}, good...); b[4], b[5] = hi, lo; return b }
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"valid", good, nil},
		{"padding after length", append(append([]byte{}, good...), 0, 0), nil},
		{"7 bytes", good[:7], header.ErrTooShort},
		{"length 7", mod(0, 7), header.ErrBadLength},
		{"length 0", mod(0, 0), header.ErrBadLength},
		{"length > buffer", good[:12], header.ErrBadLength},
		{"length 0xffff", mod(0xff, 0xff), header.ErrBadLength},
		{"header only", mod(0, 8)[:8], nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := header.ValidateUDP(tc.b)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("ValidateUDP = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestValidateTCP(t *testing.T) {
	good := mustHex(t, goldenTCPSyn)
	mod := func(v byte) []byte { b := append([]byte{}, good...); b[12] = v; return b }
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"valid", good, nil},
		{"19 bytes", good[:19], header.ErrTooShort},
		{"data offset 4", mod(0x40), header.ErrBadLength},
		{"data offset 0", mod(0x00), header.ErrBadLength},
		{"data offset past buffer", good[:27], header.ErrBadLength},
		{"data offset 15", mod(0xf0), header.ErrBadLength},
		{"data offset 5", mod(0x50), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := header.ValidateTCP(tc.b)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("ValidateTCP = %v, want %v", err, tc.want)
			}
		})
	}
}
