package ipv4_test

import (
	"testing"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/stack"
)

// FuzzIngress feeds arbitrary frames into NIC 1 of the test router (with
// hosts 1–3 resolved statically, so nothing waits in a neighbour queue)
// and checks: no panic, no leaked frame, and IPv4 counters that add up:
// every received packet was delivered, forwarded or dropped for exactly
// one reason.
func FuzzIngress(f *testing.F) {
	// Seeds: a forwarded packet, TTL 1, an echo to the router, a bad
	// checksum, options, a fragment, ARP, a runt.
	f.Add(fromHost(1, pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, payload: udpPayload(8)}.build()))
	f.Add(fromHost(1, pktSpec{src: hostIP(1), dst: hostIP(3), ttl: 1, payload: udpPayload(8)}.build()))
	f.Add(fromHost(1, pktSpec{src: hostIP(1), dst: routerIP(1), ttl: 9, proto: header.IPv4ProtocolICMP, payload: echoRequest(1, 2, []byte("x"))}.build()))
	bad := pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64}.build()
	bad[10] ^= 1
	f.Add(fromHost(1, bad))
	f.Add(fromHost(1, pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, options: []byte{7, 7, 4, 0, 0, 0, 0, 136, 4, 1, 2}, payload: udpPayload(1600)}.build()))
	f.Add(fromHost(1, pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, fragOff: 8, flags: header.IPv4FlagMoreFragments, payload: udpPayload(1600)}.build()))
	f.Add(eth(stack.BroadcastLinkAddress, hostMAC(1), header.EtherTypeARP, make([]byte, 28)))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, frame []byte) {
		if len(frame) > 9000 {
			return
		}
		var mtu [numNICs + 1]uint32
		mtu[2] = 576
		n := newNet(t, netOpts{mtu: mtu})
		if len(frame) >= 6 {
			// Most frames should reach IP: address them to the router.
			frame = append([]byte(nil), frame...)
			mac := routerMAC(1)
			copy(frame, mac[:])
		}
		if err := n.host[1].WriteFrame(frame); err != nil {
			return
		}
		n.router[1].PollAll(n.w)
		n.s.Tick()
		st := n.ep(1).Stats()
		if st.PacketsReceived > 1 {
			t.Fatalf("PacketsReceived %d for one frame", st.PacketsReceived)
		}
		if sum := st.PacketsDelivered + st.Forwarded + st.TotalDrops(); sum != st.PacketsReceived {
			t.Fatalf("received %d != delivered %d + forwarded %d + drops %d (%v)", st.PacketsReceived, st.PacketsDelivered, st.Forwarded, st.TotalDrops(), st.Drops)
		}
		for i := 2; i <= numNICs; i++ {
			if s := n.ep(i).Stats(); s.TotalDrops() != 0 {
				t.Fatalf("egress NIC %d dropped %v", i, s.Drops)
			}
		}
		// checkLeaks runs in Cleanup.
	})
}
