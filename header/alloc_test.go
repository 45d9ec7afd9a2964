package header_test

import (
	"testing"

	"github.com/nexthop-router/nexthop/header"
)

// sink keeps results alive so the compiler cannot drop the calls measured.
var sink struct {
	u8   uint8
	u16  uint16
	u32  uint32
	i    int
	b    bool
	a4   [4]byte
	a6   [6]byte
	a16  [16]byte
	err  error
	opts []byte
}

func assertNoAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	if n := testing.AllocsPerRun(100, f); n != 0 {
		t.Errorf("%s: %v allocations per run, want 0", name, n)
	}
}

// TestNoAllocs holds the packet-path promise of DESIGN.md §2: validating,
// reading, walking, checksumming and decrementing TTL allocate nothing, and
// neither does rejecting a malformed packet.
func TestNoAllocs(t *testing.T) {
	ping := mustHex(t, goldenPing)
	ipopts := mustHex(t, goldenIPv4Options)
	v6 := []byte(ipv6With(header.IPv6ExtHopByHop, mustHex(t, goldenExtChain)))
	arp := mustHex(t, goldenARPRequest)
	ra := mustHex(t, goldenRA)
	tcp := mustHex(t, goldenTCPSyn)
	udp := mustHex(t, goldenUDP)
	big := make([]byte, 1500)

	assertNoAllocs(t, "Ethernet+ARP", func() {
		sink.err = header.ValidateEthernet(arp)
		e := header.Ethernet(arp)
		sink.a6, sink.u16 = e.Dst(), e.EtherType()
		sink.err = header.ValidateARP(e.Payload())
		a := header.ARP(e.Payload())
		sink.u16, sink.a6, sink.a4 = a.Op(), a.SenderHW(), a.TargetIP()
		sink.b = a.SenderAddr().Is4()
	})
	assertNoAllocs(t, "IPv4 validate+accessors", func() {
		sink.err = header.ValidateIPv4(ping)
		h := header.IPv4(ping)
		sink.u8, sink.u16, sink.i = h.TTL(), h.TotalLength(), h.HeaderLength()
		sink.a4 = h.DestinationAddress()
		sink.b = h.SrcAddr().IsPrivate() || h.DstAddr().IsLoopback()
		sink.b = h.IsChecksumValid()
		sink.opts = h.Payload()
	})
	assertNoAllocs(t, "IPv4 options", func() {
		it := header.IPv4(ipopts).OptionIterator()
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			sink.u8 = o.Type
			sink.b = o.Copied()
		}
		sink.err = it.Err()
	})
	assertNoAllocs(t, "DecrementTTL", func() {
		h := header.IPv4(ping)
		h.DecrementTTL()
		h.SetTTL(128)
		h.UpdateChecksum()
	})
	assertNoAllocs(t, "ICMPv4", func() {
		sink.err = header.ValidateICMPv4(ping[20:])
		m := header.ICMPv4(ping[20:])
		sink.u16 = m.Ident()
		sink.b = m.IsChecksumValid()
	})
	assertNoAllocs(t, "IPv6 walk", func() {
		sink.err = header.ValidateIPv6(v6)
		h := header.IPv6(v6)
		sink.a16 = h.DestinationAddress()
		sink.b = h.DstAddr().IsMulticast()
		w, err := header.WalkIPv6Extensions(h)
		sink.err, sink.u8, sink.i = err, w.Protocol, w.Offset
		it := w.Headers[0].OptionIterator(h)
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			sink.u8 = o.Type
		}
	})
	assertNoAllocs(t, "NDP", func() {
		sink.err = header.ValidateNDP(ra)
		m := header.ICMPv6(ra)
		sink.b = m.IsChecksumValid(llRouter, allNodes)
		it := header.NewNDPOptionIterator(header.NDPRouterAdvert(m.MessageBody()).Options())
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			sink.a6, sink.b = o.LinkLayerAddress()
			if pi, ok := o.PrefixInformation(); ok {
				sink.b = pi.Prefix().IsValid()
			}
		}
	})
	assertNoAllocs(t, "TCP/UDP", func() {
		sink.err = header.ValidateTCP(tcp)
		sink.u16 = header.TCP(tcp).DestinationPort()
		sink.err = header.ValidateUDP(udp)
		ph := header.PseudoHeaderChecksumV4(header.IPv4ProtocolUDP, v4a, v4b, uint16(len(udp)))
		sink.b = header.UDP(udp).IsChecksumValid(ph)
		sink.u16 = header.PseudoHeaderChecksumV6(header.IPv6ProtocolTCP, v6a, v6b, 20)
	})
	assertNoAllocs(t, "Checksum", func() {
		sink.u16 = header.Checksum(big, 0)
		sink.u16 = header.ChecksumUpdate2(sink.u16, 1, 2)
	})
	assertNoAllocs(t, "rejections", func() {
		sink.err = header.ValidateIPv4(ping[:19])
		sink.err = header.ValidateIPv4(ping[:40])
		sink.err = header.ValidateIPv6(v6[:50])
		sink.err = header.ValidateARP(arp[:10])
		sink.err = header.ValidateUDP(udp[:10])
		sink.err = header.ValidateNDP(ra[:10])
	})
	assertNoAllocs(t, "builders", func() {
		header.EncodeIPv4(big, header.IPv4Fields{TotalLength: 20, TTL: 64, Src: v4a, Dst: v4b})
		header.EncodeNDPNeighborSolicit(big, header.NDPNeighborSolicitFields{Target: v6b, SourceLinkAddr: mac1}, v6a, solicitedNode2)
	})
}
