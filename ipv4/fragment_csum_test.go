package ipv4_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/stack"
)

// TestFragmentCompletesPartialChecksum: a UDP datagram whose sender left
// the checksum to offload (a local Linux stack on a veth does) must get it
// finished before it is cut, or the receiver drops the reassembled
// datagram.
func TestFragmentCompletesPartialChecksum(t *testing.T) {
	var mtu [numNICs + 1]uint32
	mtu[2] = 576
	n := newNet(t, netOpts{mtu: mtu})
	udp := udpPayload(1200)
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	ip := pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, id: 77, payload: udp}.build()
	l4 := ip[header.IPv4MinimumSize:]
	pseudo := header.PseudoHeaderChecksumV4(header.IPv4ProtocolUDP, hostIP(1), remoteIP, uint16(len(l4)))
	binary.BigEndian.PutUint16(l4[6:], pseudo) // CHECKSUM_PARTIAL: only the pseudo-header sum

	frame := fromHost(1, ip)
	pkt := n.s.Frames().Get()
	pkt.SetLen(len(frame))
	copy(pkt.Data(), frame)
	pkt.GSO = stack.GSO{NeedsCsum: true, CsumStart: header.IPv4MinimumSize, CsumOffset: 6}
	list := stack.MakePacketBufferList(1)
	list.PushBack(pkt)
	n.nics[1].DeliverNetworkPackets(n.w, &list)

	got := n.out(2)
	if len(got) != 3 {
		t.Fatalf("got %d fragments, want 3", len(got))
	}
	var data []byte
	for _, f := range got {
		h := header.IPv4(f[header.EthernetMinimumSize:])
		data = append(data, h.Payload()...)
	}
	if len(data) != len(l4) || !bytes.Equal(data[8:], l4[8:]) {
		t.Fatalf("reassembled %d bytes, want %d with the same payload", len(data), len(l4))
	}
	if header.Checksum(data, pseudo) != 0xffff {
		t.Errorf("reassembled UDP checksum %#04x does not verify", binary.BigEndian.Uint16(data[6:]))
	}
}
