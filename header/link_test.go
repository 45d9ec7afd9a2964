package header_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/nexthop-router/nexthop/header"
)

var (
	mac1  = [6]byte{0x02, 0, 0, 0, 0, 0x01}
	mac2  = [6]byte{0x02, 0, 0, 0, 0, 0x02}
	bcast = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

// goldenARPRequest is a broadcast "who has 198.18.0.2? tell 198.18.0.1",
// padded to the 60-byte Ethernet minimum.
const goldenARPRequest = `
ffffffffffff        // Ethernet destination: broadcast
020000000001        // source 02:00:00:00:00:01
0806                // EtherType ARP
0001 0800           // hardware Ethernet, protocol IPv4
06 04 0001          // hlen 6, plen 4, op request
020000000001        // sender MAC
c6120001            // sender IP 198.18.0.1
000000000000        // target MAC (unknown)
c6120002            // target IP 198.18.0.2
000000000000000000000000000000000000 // padding to 60 bytes
`

func TestEthernetARPGolden(t *testing.T) {
	frame := mustHex(t, goldenARPRequest)
	if len(frame) != 60 {
		t.Fatalf("golden frame is %d bytes", len(frame))
	}
	if err := header.ValidateEthernet(frame); err != nil {
		t.Fatal(err)
	}
	eth := header.Ethernet(frame)
	if eth.Dst() != bcast || eth.Src() != mac1 || eth.EtherType() != header.EtherTypeARP || len(eth.Payload()) != 46 {
		t.Errorf("Ethernet = %x %x %#x", eth.Dst(), eth.Src(), eth.EtherType())
	}
	if err := header.ValidateARP(eth.Payload()); err != nil {
		t.Fatal(err)
	}
	a := header.ARP(eth.Payload())
	if a.Op() != header.ARPRequest || a.SenderHW() != mac1 || a.SenderIP() != v4a || a.TargetHW() != ([6]byte{}) || a.TargetIP() != v4b ||
		a.SenderAddr().String() != "198.18.0.1" || a.TargetAddr().String() != "198.18.0.2" {
		t.Errorf("ARP fields wrong: % x", []byte(a))
	}

	out := make([]byte, 60)
	header.EncodeEthernet(out, bcast, mac1, header.EtherTypeARP)
	header.EncodeARP(out[14:], header.ARPRequest, mac1, v4a, [6]byte{}, v4b)
	if !bytes.Equal(out, frame) {
		t.Errorf("built\n% x\nwant\n% x", out, frame)
	}

	// Turn the request into the reply in place, as arp/ does.
	eth.SetDst(eth.Src())
	eth.SetSrc(mac2)
	a.SetOp(header.ARPReply)
	a.SetTargetHW(a.SenderHW())
	a.SetTargetIP(a.SenderIP())
	a.SetSenderHW(mac2)
	a.SetSenderIP(v4b)
	want := make([]byte, 60)
	header.EncodeEthernet(want, mac1, mac2, header.EtherTypeARP)
	header.EncodeARP(want[14:], header.ARPReply, mac2, v4b, mac1, v4a)
	if !bytes.Equal(frame, want) {
		t.Errorf("in-place reply\n% x\nwant\n% x", frame, want)
	}
	eth.SetEtherType(header.EtherTypeIPv6)
	if eth.EtherType() != 0x86dd {
		t.Errorf("SetEtherType")
	}
}

func TestValidateEthernet(t *testing.T) {
	for n := 0; n < 14; n++ {
		if err := header.ValidateEthernet(make([]byte, n)); !errors.Is(err, header.ErrTooShort) {
			t.Errorf("ValidateEthernet(%d bytes) = %v", n, err)
		}
	}
	if err := header.ValidateEthernet(make([]byte, 14)); err != nil {
		t.Errorf("ValidateEthernet(14 bytes) = %v", err)
	}
}

func TestValidateARP(t *testing.T) {
	good := mustHex(t, goldenARPRequest)[14:42]
	mod := func(i int, v byte) []byte {
		b := append([]byte{}, good...)
		b[i] = v
		return b
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"valid", good, nil},
		{"short", good[:27], header.ErrTooShort},
		{"empty", nil, header.ErrTooShort},
		{"hardware type 6 (IEEE 802)", mod(1, 6), header.ErrUnsupported},
		{"protocol IPv6", mod(2, 0x86), header.ErrUnsupported},
		{"hlen 8", mod(4, 8), header.ErrUnsupported},
		{"plen 16", mod(5, 16), header.ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := header.ValidateARP(tc.b)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("ValidateARP = %v, want %v", err, tc.want)
			}
		})
	}
}
