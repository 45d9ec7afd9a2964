package ipv4_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/stack"
)

// arpFrame builds an Ethernet/ARP frame.
func arpFrame(dst, src stack.LinkAddress, op uint16, sha stack.LinkAddress, spa [4]byte, tha stack.LinkAddress, tpa [4]byte) []byte {
	b := make([]byte, header.ARPSize)
	header.EncodeARP(b, op, sha, spa, tha, tpa)
	return eth(dst, src, header.EtherTypeARP, b)
}

// routerRequest is the broadcast ARP request the router sends on NIC i for
// target.
func routerRequest(i int, target [4]byte) []byte {
	return arpFrame(stack.BroadcastLinkAddress, routerMAC(i), header.ARPRequest, routerMAC(i), routerIP(i), stack.LinkAddress{}, target)
}

// hostReply is host i's ARP reply to the router.
func hostReply(i int) []byte {
	return arpFrame(routerMAC(i), hostMAC(i), header.ARPReply, hostMAC(i), hostIP(i), routerMAC(i), routerIP(i))
}

// TestARPResolutionQueuesAndFlushes: packets to an unresolved next hop
// trigger one broadcast request, wait in a queue bounded to 3 (the oldest
// dropped and counted on the ingress endpoint), and leave when the reply
// arrives. Nothing counts as forwarded or sent while it waits; the three
// that leave count once each, and the pushed-out one only as a drop.
func TestARPResolutionQueuesAndFlushes(t *testing.T) {
	n := newNet(t, netOpts{dynamic: [numNICs + 1]bool{2: true}})
	var ips [][]byte
	var frames [][]byte
	for i := range 4 {
		ip := pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, id: uint16(i), payload: udpPayload(8)}.build()
		ips = append(ips, ip)
		frames = append(frames, fromHost(1, ip))
	}
	n.inject(1, frames...)
	wantFrames(t, "ARP request", n.out(2), [][]byte{routerRequest(2, hostIP(2))})
	cache := n.nics[2].Neighbors(stack.IPv4ProtocolNumber)
	if e, ok := cache.Entry(netip.AddrFrom4(hostIP(2))); !ok || e.State != stack.NeighborIncomplete {
		t.Fatalf("entry %+v, want INCOMPLETE", e)
	}
	wantOnlyDrop(t, n.ep(1).Stats(), int(stack.DropNeighborQueueFull), 1)
	if q := cache.Stats().QueueDrops.Load(); q != 1 {
		t.Errorf("QueueDrops %d, want 1", q)
	}
	wantCounts(t, "waiting", n, 0, 0)

	n.inject(2, hostReply(2))
	want := [][]byte{toHost(2, forwarded(ips[1])), toHost(2, forwarded(ips[2])), toHost(2, forwarded(ips[3]))}
	wantFrames(t, "queued packets", n.out(2), want)
	wantCounts(t, "resolved", n, 3, uint64(3*len(ips[0])))
	wantOnlyDrop(t, n.ep(1).Stats(), int(stack.DropNeighborQueueFull), 1)
	wantOnlyDrop(t, n.ep(2).Stats(), 0, 0)
	if e, _ := cache.Entry(netip.AddrFrom4(hostIP(2))); e.State != stack.NeighborReachable || e.LinkAddr != hostMAC(2) {
		t.Errorf("entry %+v, want REACHABLE at %v", e, hostMAC(2))
	}
	if s := cache.Stats(); s.ResolutionsStarted.Load() != 1 || s.ResolutionsSucceeded.Load() != 1 {
		t.Errorf("resolutions started %d succeeded %d, want 1 and 1", s.ResolutionsStarted.Load(), s.ResolutionsSucceeded.Load())
	}
	// Resolved: the next packet goes straight out.
	n.inject(1, frames[0])
	wantFrames(t, "after resolution", n.out(2), [][]byte{toHost(2, forwarded(ips[0]))})
	wantCounts(t, "direct", n, 4, uint64(4*len(ips[0])))
	if a := n.arpEP(2).ARPStats(); a.RequestsSent != 2 || a.RepliesReceived != 1 { // gratuitous + 1
		t.Errorf("ARP stats %+v", a)
	}
}

// TestARPResolutionFailure: with no answer the router sends exactly one
// request per second, three in all, then the entry fails and every queued
// packet's source gets ICMP Host Unreachable (code 1).
func TestARPResolutionFailure(t *testing.T) {
	n := newNet(t, netOpts{dynamic: [numNICs + 1]bool{2: true}})
	ip1 := pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, id: 1, payload: udpPayload(8)}.build()
	ip2 := pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, id: 2, payload: udpPayload(8)}.build()
	n.inject(1, fromHost(1, ip1))
	req := [][]byte{routerRequest(2, hostIP(2))}
	wantFrames(t, "request at 0 s", n.out(2), req)

	step := func(d time.Duration, what string, want [][]byte) {
		t.Helper()
		n.clock.Advance(d)
		n.s.Tick()
		wantFrames(t, what, n.out(2), want)
	}
	n.clock.Advance(500 * time.Millisecond)
	n.inject(1, fromHost(1, ip2)) // queued; no second request
	wantFrames(t, "no request for a second packet", n.out(2), nil)
	step(499*time.Millisecond, "nothing at 0.999 s", nil)
	step(time.Millisecond, "request at 1 s", req)
	step(999*time.Millisecond, "nothing at 1.999 s", nil)
	step(time.Millisecond, "request at 2 s", req)
	if got := n.out(1); len(got) != 0 {
		t.Fatalf("host 1 got %d frames before the failure", len(got))
	}
	step(time.Second, "no fourth request at 3 s", nil)

	got := n.out(1)
	if len(got) != 2 {
		t.Fatalf("host 1 got %d frames, want 2 Host Unreachable", len(got))
	}
	// The queued packets had already been rewritten for the next hop (TTL
	// 63), and are quoted as they are, like Linux does.
	for i, ip := range [][]byte{ip1, ip2} {
		want := toHost(1, icmpError(ipID(got[i]), routerIP(1), forwarded(ip), header.ICMPv4DstUnreachable, header.ICMPv4HostUnreachable, 0))
		wantFrames(t, "host unreachable", got[i:i+1], [][]byte{want})
	}
	cache := n.nics[2].Neighbors(stack.IPv4ProtocolNumber)
	if e, _ := cache.Entry(netip.AddrFrom4(hostIP(2))); e.State != stack.NeighborFailed {
		t.Errorf("entry state %v, want failed", e.State)
	}
	if f := cache.Stats().ResolutionsFailed.Load(); f != 1 {
		t.Errorf("ResolutionsFailed %d, want 1", f)
	}
	// The drops count once, on the ingress endpoint like every other
	// forwarding drop, and nothing counts as forwarded or sent on.
	wantOnlyDrop(t, n.ep(1).Stats(), int(stack.DropHostUnreachable), 2)
	wantOnlyDrop(t, n.ep(2).Stats(), 0, 0)
	if st := n.ep(1).Stats(); st.Forwarded != 0 || st.ForwardedBytes != 0 {
		t.Errorf("ingress: Forwarded %d (%d bytes), want 0", st.Forwarded, st.ForwardedBytes)
	}
	if st := n.ep(2).Stats(); st.PacketsSent != 0 {
		t.Errorf("egress: PacketsSent %d, want 0", st.PacketsSent)
	}
	// A new packet restarts resolution at once (the last request was a
	// second ago).
	n.inject(1, fromHost(1, ip1))
	wantFrames(t, "restart", n.out(2), req)
}

// wantCounts checks that the ingress endpoint (NIC 1) forwarded fwd
// packets of bytes in all, and that the egress endpoint (NIC 2) sent as
// many (ICMP errors go back out of NIC 1 and count there).
func wantCounts(t *testing.T, what string, n *testNet, fwd, bytes uint64) {
	t.Helper()
	in, out := n.ep(1).Stats(), n.ep(2).Stats()
	if in.Forwarded != fwd || in.ForwardedBytes != bytes || out.PacketsSent != fwd {
		t.Errorf("%s: ingress Forwarded %d (%d bytes), egress PacketsSent %d; want %d (%d bytes) and %d",
			what, in.Forwarded, in.ForwardedBytes, out.PacketsSent, fwd, bytes, fwd)
	}
}

// TestARPLearnFromRequestAndNUDProbe: a request for the router's address is
// answered and teaches the router the sender (STALE); traffic through the
// STALE entry moves it to DELAY, and 5 s later PROBE sends unicast
// requests; a reply makes it REACHABLE again.
func TestARPLearnFromRequestAndNUDProbe(t *testing.T) {
	n := newNet(t, netOpts{dynamic: [numNICs + 1]bool{2: true}})
	n.inject(2, arpFrame(stack.BroadcastLinkAddress, hostMAC(2), header.ARPRequest, hostMAC(2), hostIP(2), stack.LinkAddress{}, routerIP(2)))
	wantReply := arpFrame(hostMAC(2), routerMAC(2), header.ARPReply, routerMAC(2), routerIP(2), hostMAC(2), hostIP(2))
	wantFrames(t, "ARP reply", n.out(2), [][]byte{wantReply})
	cache := n.nics[2].Neighbors(stack.IPv4ProtocolNumber)
	addr := netip.AddrFrom4(hostIP(2))
	if e, _ := cache.Entry(addr); e.State != stack.NeighborStale || e.LinkAddr != hostMAC(2) {
		t.Fatalf("entry %+v, want STALE at %v", e, hostMAC(2))
	}
	ip := pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, payload: udpPayload(8)}.build()
	n.inject(1, fromHost(1, ip))
	wantFrames(t, "forwarded through STALE entry", n.out(2), [][]byte{toHost(2, forwarded(ip))})
	n.s.Tick()
	if e, _ := cache.Entry(addr); e.State != stack.NeighborDelay {
		t.Fatalf("state %v after use, want delay", e.State)
	}
	n.clock.Advance(5 * time.Second)
	n.s.Tick()
	probe := arpFrame(hostMAC(2), routerMAC(2), header.ARPRequest, routerMAC(2), routerIP(2), hostMAC(2), hostIP(2))
	wantFrames(t, "unicast probe", n.out(2), [][]byte{probe})
	if e, _ := cache.Entry(addr); e.State != stack.NeighborProbe {
		t.Fatalf("state %v, want probe", e.State)
	}
	n.inject(2, hostReply(2))
	if e, _ := cache.Entry(addr); e.State != stack.NeighborReachable {
		t.Errorf("state %v after reply, want reachable", e.State)
	}
}

// TestResolutionFailureHairpinNoDeadlock: when the source of a packet
// whose next hop failed is itself unresolved on the same NIC, the ICMP
// error needs the same neighbour cache; the cache must not hold its lock
// while handing failures back (it deadlocked before). The error then waits
// for its own resolution and, failing too, is dropped without a further
// error about an error.
func TestResolutionFailureHairpinNoDeadlock(t *testing.T) {
	n := newNet(t, netOpts{dynamic: [numNICs + 1]bool{2: true}})
	src := [4]byte{198, 18, 2, 5}
	ip := pktSpec{src: src, dst: [4]byte{198, 18, 2, 7}, ttl: 64, payload: udpPayload(8)}.build()
	n.inject(2, fromHost(2, ip))
	for range 8 {
		n.clock.Advance(time.Second)
		n.s.Tick()
	}
	out := n.out(2)
	if len(out) != 6 { // 3 requests for .7, then 3 for .5 (the error's next hop)
		t.Errorf("%d frames, want 6 ARP requests", len(out))
	}
	wantOnlyDrop(t, n.ep(2).Stats(), int(stack.DropHostUnreachable), 2)
	if ic := n.totalICMP(); ic.SentOf(header.ICMPv4DstUnreachable) != 1 || ic.Suppressed != 1 {
		t.Errorf("ICMP sent %v suppressed %d; want one unreachable, one suppressed", ic.Sent, ic.Suppressed)
	}
}

// TestOwnEchoReplyResolutionFailure: the router answers a ping from an
// on-link host that never answers ARP. When resolution fails, the echo
// reply (the router's own packet, NICID 0, from its own address) is
// dropped and counted once; no Host Unreachable goes to the router's own
// address, so there is no "who-has 198.18.2.1 tell 198.18.2.1" and no
// second drop when that resolution fails too.
func TestOwnEchoReplyResolutionFailure(t *testing.T) {
	n := newNet(t, netOpts{dynamic: [numNICs + 1]bool{2: true}})
	ip := pktSpec{src: hostIP(2), dst: routerIP(2), ttl: 64, proto: header.IPv4ProtocolICMP, payload: echoRequest(7, 1, []byte("ping"))}.build()
	n.inject(2, fromHost(2, ip))
	req := routerRequest(2, hostIP(2))
	wantFrames(t, "request at 0 s", n.out(2), [][]byte{req})
	for i := 1; i <= 2; i++ {
		n.clock.Advance(time.Second)
		n.s.Tick()
		wantFrames(t, "retransmission", n.out(2), [][]byte{req})
	}
	// The entry fails at 3 s; keep going long enough for a second
	// resolution (for our own address) to have failed as well.
	for range 5 {
		n.clock.Advance(time.Second)
		n.s.Tick()
		wantFrames(t, "after the failure", n.out(2), nil)
	}
	for i := 1; i <= numNICs; i++ {
		if i != 2 {
			wantFrames(t, "other hosts", n.out(i), nil)
		}
		if _, ok := n.nics[i].Neighbors(stack.IPv4ProtocolNumber).Entry(netip.AddrFrom4(routerIP(i))); ok {
			t.Errorf("NIC %d has a neighbour entry for its own address", i)
		}
	}
	wantOnlyDrop(t, n.ep(2).Stats(), int(stack.DropHostUnreachable), 1)
	wantOnlyDrop(t, n.ep(1).Stats(), -1, 0)
	wantOnlyDrop(t, n.ep(3).Stats(), -1, 0)
	ic := n.totalICMP()
	if ic.SentOf(header.ICMPv4EchoReply) != 1 || ic.SentOf(header.ICMPv4DstUnreachable) != 0 || ic.Suppressed != 1 {
		t.Errorf("ICMP sent %v suppressed %d; want one echo reply, no unreachable, one suppressed", ic.Sent, ic.Suppressed)
	}
	if a := n.arpEP(2).ARPStats(); a.RequestsSent != 1+3 { // gratuitous + 3
		t.Errorf("ARP RequestsSent %d, want 4", a.RequestsSent)
	}
}

// TestLinkRefusalCounted: frames the egress link refuses (its peer's queue
// is full) count as OutgoingPacketErrors and as exactly one drop,
// outgoing_device_no_buffer_space, on the egress endpoint; the link-level
// TXDropped agrees.
func TestLinkRefusalCounted(t *testing.T) {
	const sent, room = 5, 2
	n := newNet(t, netOpts{hostQueue: [numNICs + 1]int{2: room}})
	var frames [][]byte
	for i := range sent {
		frames = append(frames, fromHost(1, pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, id: uint16(i), payload: udpPayload(8)}.build()))
	}
	n.inject(1, frames...) // one batch: one WritePackets on NIC 2
	if got := len(n.out(2)); got != room {
		t.Fatalf("host 2 got %d frames, want %d", got, room)
	}
	const refused = sent - room
	out := n.ep(2).Stats()
	if out.OutgoingPacketErrors != refused {
		t.Errorf("egress OutgoingPacketErrors %d, want %d", out.OutgoingPacketErrors, refused)
	}
	wantOnlyDrop(t, out, int(stack.DropOutgoingDeviceNoBufferSpace), refused)
	wantOnlyDrop(t, n.ep(1).Stats(), 0, 0)
	if r := n.nics[2].TXRefused(stack.IPv4ProtocolNumber); r != refused {
		t.Errorf("NIC TXRefused(IPv4) %d, want %d", r, refused)
	}
	if r := n.nics[2].TXRefused(stack.IPv6ProtocolNumber); r != 0 {
		t.Errorf("NIC TXRefused(IPv6) %d, want 0", r)
	}
	if s := n.nics[2].Stats(); s.TXDropped != refused {
		t.Errorf("NIC TXDropped %d, want %d", s.TXDropped, refused)
	}
}
