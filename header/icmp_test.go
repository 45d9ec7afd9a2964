package header_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/nexthop-router/nexthop/header"
)

// goldenPing is a Windows-style ping: IPv4 198.18.0.1 -> 198.18.0.2 carrying
// ICMP Echo Request id 1 seq 1 with the 32-byte "abcdefghijklmnopqrstuvwabcdefghi"
// payload; the well-known 0x4d5a ICMP checksum.
const goldenPing = `
4500 003c           // IPv4, IHL 5, total length 60
1c46 0000           // ID 0x1c46, no flags
80 01 9253          // TTL 128, ICMP, header checksum
c612 0001           // 198.18.0.1
c612 0002           // 198.18.0.2
08 00 4d5a          // ICMP type 8 Echo, code 0, checksum
0001 0001           // identifier 1, sequence 1
6162 6364 6566 6768 696a 6b6c 6d6e 6f70 7172 7374 7576 7761 6263 6465 6667 6869
`

func TestICMPv4Golden(t *testing.T) {
	pkt := mustHex(t, goldenPing)
	if err := header.ValidateIPv4(pkt); err != nil {
		t.Fatal(err)
	}
	ip := header.IPv4(pkt)
	if !ip.IsChecksumValid() || ip.Protocol() != header.IPv4ProtocolICMP {
		t.Fatalf("IPv4 checksum valid %v protocol %d", ip.IsChecksumValid(), ip.Protocol())
	}
	m := header.ICMPv4(ip.Payload())
	if err := header.ValidateICMPv4(m); err != nil {
		t.Fatal(err)
	}
	if m.Type() != header.ICMPv4Echo || m.Code() != 0 || m.Checksum() != 0x4d5a || m.Ident() != 1 || m.Sequence() != 1 ||
		string(m.Payload()) != "abcdefghijklmnopqrstuvwabcdefghi" || !m.IsChecksumValid() || m.CalculateChecksum() != 0x4d5a {
		t.Errorf("echo fields wrong: % x", []byte(m))
	}

	// Answer it in place, as the ipv4 endpoint does: type 0, checksum
	// updated incrementally (the type/code word dropped by 0x0800).
	reply := append(header.ICMPv4{}, m...)
	reply.SetType(header.ICMPv4EchoReply)
	reply.SetChecksum(header.ChecksumUpdate2(reply.Checksum(), 0x0800, 0x0000))
	if !reply.IsChecksumValid() || reply.Checksum() != 0x555a {
		t.Errorf("reply checksum %#04x valid %v, want 0x555a", reply.Checksum(), reply.IsChecksumValid())
	}

	// Build the whole packet from scratch.
	out := make([]byte, len(pkt))
	header.EncodeIPv4(out, header.IPv4Fields{TotalLength: 60, ID: 0x1c46, TTL: 128, Protocol: header.IPv4ProtocolICMP, Src: v4a, Dst: v4b})
	copy(out[28:], "abcdefghijklmnopqrstuvwabcdefghi")
	header.EncodeICMPv4(out[20:], header.ICMPv4Echo, 0, 0x00010001)
	if !bytes.Equal(out, pkt) {
		t.Errorf("built\n% x\nwant\n% x", out, pkt)
	}
}

func TestICMPv4ErrorFields(t *testing.T) {
	m := header.ICMPv4(bytes.Repeat([]byte{0xaa}, 36))
	m.SetType(header.ICMPv4DstUnreachable)
	m.SetCode(header.ICMPv4FragmentationNeeded)
	m.SetMTU(1400)
	m.UpdateChecksum()
	if m.Type() != 3 || m.Code() != 4 || m.MTU() != 1400 || m.RestOfHeader() != 1400 || !m.IsChecksumValid() || !m.Type().IsError() {
		t.Errorf("frag needed: % x", []byte(m))
	}
	m.SetType(header.ICMPv4ParamProblem)
	m.SetCode(header.ICMPv4PointerIndicatesError)
	m.SetPointer(22)
	if m.Pointer() != 22 || m.RestOfHeader() != 22<<24 {
		t.Errorf("pointer: % x", []byte(m))
	}
	m.SetGateway(v4b)
	if m.Gateway() != v4b {
		t.Errorf("Gateway = %v", m.Gateway())
	}
	m.SetIdent(7)
	m.SetSequence(9)
	if m.Ident() != 7 || m.Sequence() != 9 {
		t.Errorf("ident/seq: % x", []byte(m))
	}
	if header.ICMPv4Echo.IsError() || header.ICMPv4EchoReply.IsError() || !header.ICMPv4TimeExceeded.IsError() {
		t.Errorf("IsError wrong")
	}
}

func TestValidateICMP(t *testing.T) {
	for n := 0; n < 8; n++ {
		if err := header.ValidateICMPv4(make([]byte, n)); !errors.Is(err, header.ErrTooShort) {
			t.Errorf("ValidateICMPv4(%d bytes) = %v, want ErrTooShort", n, err)
		}
		if err := header.ValidateICMPv6(make([]byte, n)); !errors.Is(err, header.ErrTooShort) {
			t.Errorf("ValidateICMPv6(%d bytes) = %v, want ErrTooShort", n, err)
		}
	}
	if header.ValidateICMPv4(make([]byte, 8)) != nil || header.ValidateICMPv6(make([]byte, 8)) != nil {
		t.Errorf("8-byte messages rejected")
	}
}

func TestICMPv6ErrorFields(t *testing.T) {
	m := header.ICMPv6(make([]byte, 48))
	m.SetType(header.ICMPv6PacketTooBig)
	m.SetCode(0)
	m.SetMTU(1280)
	m.UpdateChecksum(v6a, v6b)
	if m.MTU() != 1280 || !m.IsChecksumValid(v6a, v6b) || !m.Type().IsError() {
		t.Errorf("PTB: % x", []byte(m))
	}
	m.SetType(header.ICMPv6ParamProblem)
	m.SetCode(header.ICMPv6UnrecognizedNextHeader)
	m.SetPointer(40)
	if m.Pointer() != 40 || m.Code() != 1 {
		t.Errorf("param problem: % x", []byte(m))
	}
	m.SetIdent(1)
	m.SetSequence(2)
	if m.Ident() != 1 || m.Sequence() != 2 || len(m.MessageBody()) != 44 || len(m.Payload()) != 40 {
		t.Errorf("echo fields: % x", []byte(m))
	}
	if header.ICMPv6EchoRequest.IsError() || header.ICMPv6NeighborSolicit.IsError() {
		t.Errorf("IsError wrong")
	}
}
