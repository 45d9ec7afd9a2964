package ipv6_test

import (
	"testing"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/ndp"
	"github.com/nexthop-router/nexthop/stack"
)

// FuzzIngress6 runs arbitrary IPv6 packets through the whole ingress path
// (NIC dispatch, validation, extension headers, local delivery, NDP,
// forwarding, ICMPv6 errors, NUD timers): no panic, every frame returned,
// and on the ingress endpoint every received packet ends in exactly one of
// delivered, forwarded or one drop reason. The first byte picks the frame's
// destination MAC (unicast, all-nodes, the router's solicited-node group,
// broadcast); the rest is the IPv6 packet.
func FuzzIngress6(f *testing.F) {
	strip := func(p pkt) []byte { return append([]byte{0}, p.frame()[header.EthernetMinimumSize:]...) }
	// Annotated seeds: one per rule family.
	f.Add(strip(pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14)}))         // forwarded
	f.Add(strip(pkt{src: hAddr1, dst: remote, next: header.IPv6ProtocolUDP, payload: udp(14), hop: 1})) // time exceeded
	f.Add(strip(pkt{src: hAddr1, dst: noRoute, next: header.IPv6ProtocolUDP, payload: udp(14)}))        // no route
	f.Add(strip(pkt{src: hAddr1, dst: hAddr2, next: header.IPv6ProtocolUDP, payload: udp(1400)}))       // too big for NIC 2 (MTU 1280)
	f.Add(strip(echo(hAddr1, rAddr1)))                                                                  // echo
	f.Add(strip(pkt{src: hAddr1, dst: remote, next: header.IPv6ExtHopByHop,                             // HBH unknown option 10
		payload: append(hbh(header.IPv6ProtocolUDP, 0x9e, 2, 0, 0), udp(4)...)}))
	f.Add(strip(pkt{src: hAddr1, dst: remote, next: header.IPv6ExtHopByHop, payload: []byte{17, 4, 1, 4, 0, 0, 0, 0}}))          // lying HBH length
	f.Add(strip(pkt{src: hAddr1, dst: rAddr1, next: header.IPv6ExtDestination, payload: []byte{0, 0, 1, 4, 0, 0, 0, 0, 59, 0}})) // misplaced HBH
	ns := append([]byte{2}, ndpPkt(snMAC(rAddr1), hAddr1, snAddr(rAddr1), nsMsg(hAddr1, snAddr(rAddr1), rAddr1, hMAC1)).frame()[header.EthernetMinimumSize:]...)
	f.Add(ns)                                                                                     // neighbor solicitation
	f.Add(strip(ndpPkt(rMAC1, hAddr2, rAddr1, naMsg(hAddr2, rAddr1, hAddr2, hMAC2, true, true)))) // neighbor advertisement
	f.Add([]byte{0, 0x60, 0, 0, 0, 0xff, 0xff, 17, 64})                                           // runt with a lying length

	macs := []stack.LinkAddress{rMAC1, {0x33, 0x33, 0, 0, 0, 1}, snMAC(rAddr1), stack.BroadcastLinkAddress}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 1 || len(data)-1 > 1500 {
			return
		}
		r := newRouter(t, routerConfig{mtu2: 1280})
		frame := make([]byte, header.EthernetMinimumSize+len(data)-1)
		header.EncodeEthernet(frame, macs[int(data[0])%len(macs)], hMAC1, header.EtherTypeIPv6)
		copy(frame[header.EthernetMinimumSize:], data[1:])
		r.inject(1, frame)

		s := r.ep(1).Stats()
		if s.PacketsReceived != 1 {
			t.Fatalf("PacketsReceived = %d, want 1", s.PacketsReceived)
		}
		if got := s.PacketsDelivered + s.Forwarded + s.TotalDrops(); got != 1 {
			t.Fatalf("delivered %d + forwarded %d + dropped %d = %d, want 1 (drops %v)",
				s.PacketsDelivered, s.Forwarded, s.TotalDrops(), got, s.Drops)
		}
		for id := 1; id <= 2; id++ {
			for _, o := range r.drain(id) { // checks every ICMPv6 checksum
				if len(o.ip) > header.IPv6MinimumMTU && o.icmp != nil && o.icmp.Type().IsError() {
					t.Fatalf("ICMPv6 error of %d bytes", len(o.ip))
				}
			}
		}
		// Run the NUD and RA timers over whatever the packet left behind.
		for range 4 {
			r.tick(stack.DefaultNUDConfig().RetransTimer)
		}
		_ = ndp.AllNodes
	})
}
