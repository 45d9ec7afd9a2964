package ipv4_test

import (
	"bytes"
	"testing"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/stack"
)

// TestReceiveValidation covers RFC 1812 §5.2.2: each malformed packet is
// dropped silently (no output) under exactly DropMalformed.
func TestReceiveValidation(t *testing.T) {
	good := pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, payload: udpPayload(16)}.build()
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	cases := []struct {
		name string
		ip   []byte
	}{
		{"shorter than 20 bytes", good[:19]},
		{"version 6", mod(func(b []byte) []byte { b[0] = 0x65; header.IPv4(b[:20]).UpdateChecksum(); return b })},
		{"IHL 4", mod(func(b []byte) []byte { b[0] = 0x44; return b })},
		{"IHL past the packet", mod(func(b []byte) []byte { b[0] = 0x4f; return b[:40] })},
		{"total length below header", mod(func(b []byte) []byte { header.IPv4(b).SetTotalLength(19); header.IPv4(b).UpdateChecksum(); return b })},
		{"total length beyond frame", mod(func(b []byte) []byte {
			header.IPv4(b).SetTotalLength(uint16(len(b) + 1))
			header.IPv4(b).UpdateChecksum()
			return b
		})},
		{"bad header checksum", mod(func(b []byte) []byte { b[10] ^= 0x01; return b })},
		{"truncated option", pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, options: []byte{header.IPv4OptionRecordRoute, 40, 4, 0}}.build()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newNet(t, netOpts{})
			n.inject(1, fromHost(1, tc.ip))
			for i := 2; i <= numNICs; i++ {
				wantFrames(t, "forwarded", n.out(i), nil)
			}
			got := n.out(1)
			st := n.ep(1).Stats()
			wantOnlyDrop(t, st, int(stack.DropMalformed), 1)
			if st.PacketsReceived != 1 || st.ValidPacketsReceived != 0 {
				t.Errorf("received %d valid %d; want 1 and 0", st.PacketsReceived, st.ValidPacketsReceived)
			}
			if tc.name == "truncated option" {
				// Answered with Parameter Problem: TestBadOptionParameterProblem.
				return
			}
			wantFrames(t, "to host 1", got, nil)
		})
	}
}

// TestBadOptionParameterProblem: a malformed option gets ICMP Parameter
// Problem whose pointer is the offending option's offset in the header.
func TestBadOptionParameterProblem(t *testing.T) {
	n := newNet(t, netOpts{})
	ip := pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, options: []byte{header.IPv4OptionNOP, header.IPv4OptionRecordRoute, 40, 4}}.build()
	n.inject(1, fromHost(1, ip))
	got := n.out(1)
	var id uint16
	if len(got) == 1 {
		id = ipID(got[0])
	}
	want := toHost(1, icmpError(id, routerIP(1), ip, header.ICMPv4ParamProblem, 0, 21<<24))
	wantFrames(t, "parameter problem", got, [][]byte{want})
	wantOnlyDrop(t, n.ep(1).Stats(), int(stack.DropMalformed), 1)
}

// TestChecksumSkippedWhenLinkVerified: a link that verified the checksum
// (RXChecksumValidated) saves the check; the packet is forwarded as is
// apart from the TTL.
func TestChecksumSkippedWhenLinkVerified(t *testing.T) {
	n := newNet(t, netOpts{})
	ip := pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, payload: udpPayload(8)}.build()
	ip[10] ^= 0xff // wrong, but the link vouches for it
	pkt := n.s.Frames().Get()
	pkt.SetLen(len(ip))
	copy(pkt.Data(), ip)
	pkt.RXChecksumValidated = true
	pkt.PktType = stack.PacketHost
	n.w.StartBatch()
	n.nics[1].DeliverNetworkPacket(n.w, stack.IPv4ProtocolNumber, pkt)
	got := n.out(2)
	if len(got) != 1 {
		t.Fatalf("got %d frames, want the forwarded packet", len(got))
	}
	if ttl := header.IPv4(got[0][14:]).TTL(); ttl != 63 {
		t.Errorf("TTL %d, want 63", ttl)
	}
	wantOnlyDrop(t, n.ep(1).Stats(), -1, 0)
}

// TestEthernetPaddingTrimmed: bytes after Total Length (Ethernet padding of
// a short frame) are not forwarded.
func TestEthernetPaddingTrimmed(t *testing.T) {
	n := newNet(t, netOpts{})
	ip := pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64}.build() // 20 bytes
	frame := append(fromHost(1, ip), make([]byte, 26)...)         // padded to 60
	n.inject(1, frame)
	wantFrames(t, "forwarded", n.out(2), [][]byte{toHost(2, forwarded(ip))})
}

// TestLocalDelivery covers packets addressed to the router: echo answered
// (from the address pinged, same id/seq/data), other ICMP counted, UDP and
// unknown protocols answered with Port and Protocol Unreachable.
func TestLocalDelivery(t *testing.T) {
	data := []byte("abcdefghijklmnopqrstuvwxyz")
	cases := []struct {
		name     string
		pkt      pktSpec
		reply    func(req []byte, id uint16) []byte // expected IP reply (nil: none)
		drop     int
		recvType header.ICMPv4Type
		sentType header.ICMPv4Type
	}{
		{
			name: "echo request to ingress address",
			pkt:  pktSpec{src: hostIP(1), dst: routerIP(1), ttl: 5, tos: 0x10, proto: header.IPv4ProtocolICMP, payload: echoRequest(0x1234, 7, data)},
			reply: func(req []byte, id uint16) []byte {
				return echoReplyOf(req, id)
			},
			drop: -1, recvType: header.ICMPv4Echo, sentType: header.ICMPv4EchoReply,
		},
		{
			name: "echo request to another NIC's address",
			pkt:  pktSpec{src: hostIP(1), dst: routerIP(3), ttl: 5, proto: header.IPv4ProtocolICMP, payload: echoRequest(1, 1, data)},
			reply: func(req []byte, id uint16) []byte {
				return echoReplyOf(req, id)
			},
			drop: -1, recvType: header.ICMPv4Echo, sentType: header.ICMPv4EchoReply,
		},
		{
			name: "echo reply counted",
			pkt:  pktSpec{src: hostIP(1), dst: routerIP(1), ttl: 5, proto: header.IPv4ProtocolICMP, payload: icmpMsg(header.ICMPv4EchoReply, 0, 5, data)},
			drop: -1, recvType: header.ICMPv4EchoReply,
		},
		{
			name: "timestamp request counted",
			pkt:  pktSpec{src: hostIP(1), dst: routerIP(1), ttl: 5, proto: header.IPv4ProtocolICMP, payload: icmpMsg(header.ICMPv4Timestamp, 0, 5, make([]byte, 12))},
			drop: -1, recvType: header.ICMPv4Timestamp,
		},
		{
			name: "ICMP with bad checksum",
			pkt: pktSpec{src: hostIP(1), dst: routerIP(1), ttl: 5, proto: header.IPv4ProtocolICMP, payload: func() []byte {
				b := echoRequest(1, 1, data)
				b[2] ^= 1
				return b
			}()},
			drop: int(stack.DropMalformed),
		},
		{
			name: "UDP port unreachable",
			pkt:  pktSpec{src: hostIP(1), dst: routerIP(1), ttl: 5, payload: udpPayload(10)},
			reply: func(req []byte, id uint16) []byte {
				return icmpError(id, routerIP(1), req, header.ICMPv4DstUnreachable, header.ICMPv4PortUnreachable, 0)
			},
			drop: int(stack.DropUnknownProtocol), sentType: header.ICMPv4DstUnreachable,
		},
		{
			name: "GRE protocol unreachable",
			pkt:  pktSpec{src: hostIP(1), dst: routerIP(1), ttl: 5, proto: 47, payload: make([]byte, 12)},
			reply: func(req []byte, id uint16) []byte {
				return icmpError(id, routerIP(1), req, header.ICMPv4DstUnreachable, header.ICMPv4ProtoUnreachable, 0)
			},
			drop: int(stack.DropUnknownProtocol), sentType: header.ICMPv4DstUnreachable,
		},
		{
			name: "fragment for the router is not reassembled",
			pkt:  pktSpec{src: hostIP(1), dst: routerIP(1), ttl: 5, flags: header.IPv4FlagMoreFragments, proto: header.IPv4ProtocolICMP, payload: echoRequest(1, 1, data)},
			drop: int(stack.DropPolicy),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newNet(t, netOpts{})
			ip := tc.pkt.build()
			n.inject(1, fromHost(1, ip))
			got := n.out(1)
			var want [][]byte
			if tc.reply != nil {
				var id uint16
				if len(got) == 1 {
					id = ipID(got[0])
				}
				want = [][]byte{toHost(1, tc.reply(ip, id))}
			}
			wantFrames(t, "reply", got, want)
			st := n.ep(1).Stats()
			wantOnlyDrop(t, st, tc.drop, 1)
			wantDelivered := uint64(0)
			if tc.drop < 0 {
				wantDelivered = 1
			}
			if st.PacketsDelivered != wantDelivered {
				t.Errorf("PacketsDelivered %d, want %d", st.PacketsDelivered, wantDelivered)
			}
			ic := n.totalICMP()
			if tc.recvType != 0 || tc.drop < 0 {
				if ic.ReceivedOf(tc.recvType) != 1 {
					t.Errorf("ICMP received %v, want one of type %d", ic.Received, tc.recvType)
				}
			}
			if tc.sentType != 0 || tc.reply != nil {
				if ic.SentOf(tc.sentType) != 1 {
					t.Errorf("ICMP sent %v, want one of type %d", ic.Sent, tc.sentType)
				}
			}
			if tc.name == "ICMP with bad checksum" && ic.InErrors != 1 {
				t.Errorf("ICMP InErrors %d, want 1", ic.InErrors)
			}
		})
	}
}

// icmpMsg is an ICMP message of type t with rest-of-header rest and data.
func icmpMsg(t header.ICMPv4Type, c header.ICMPv4Code, rest uint32, data []byte) []byte {
	b := make([]byte, 8+len(data))
	copy(b[8:], data)
	header.EncodeICMPv4(b, t, c, rest)
	return b
}

// echoReplyOf is the reply the router must send to the echo request req.
func echoReplyOf(req []byte, id uint16) []byte {
	h := header.IPv4(req)
	m := header.ICMPv4(h.Payload())
	b := make([]byte, 20+len(m))
	header.EncodeIPv4(b, header.IPv4Fields{
		TOS: h.TOS(), TotalLength: uint16(len(b)), ID: id, TTL: 64, Protocol: header.IPv4ProtocolICMP,
		Src: h.DestinationAddress(), Dst: h.SourceAddress(),
	})
	copy(b[20:], m)
	header.EncodeICMPv4(b[20:], header.ICMPv4EchoReply, 0, m.RestOfHeader())
	return b
}

// TestNoICMPErrorToBroadcastSource: a packet for the router whose source is
// the broadcast address of an attached subnet (of any NIC, not only the
// ingress one) names no single host: it is dropped without an ICMP error
// (RFC 1812 §4.3.2.7).
func TestNoICMPErrorToBroadcastSource(t *testing.T) {
	cases := []struct {
		name string
		src  [4]byte
	}{
		{"ingress subnet broadcast", [4]byte{198, 18, 1, 255}},
		{"another NIC's subnet broadcast", [4]byte{198, 18, 3, 255}},
		{"the router's own address", routerIP(2)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newNet(t, netOpts{})
			ip := pktSpec{src: tc.src, dst: routerIP(1), ttl: 64, payload: udpPayload(8)}.build()
			n.inject(1, fromHost(1, ip))
			for i := 1; i <= numNICs; i++ {
				wantFrames(t, "to host "+string(rune('0'+i)), n.out(i), nil)
			}
			wantOnlyDrop(t, n.ep(1).Stats(), int(stack.DropUnknownProtocol), 1)
			if ic := n.totalICMP(); ic.Suppressed != 1 || ic.SentOf(header.ICMPv4DstUnreachable) != 0 {
				t.Errorf("ICMP sent %v suppressed %d; want none sent, one suppressed", ic.Sent, ic.Suppressed)
			}
		})
	}
}
