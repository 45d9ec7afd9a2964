package ipv4_test

import (
	"net/netip"
	"runtime"
	"testing"

	"github.com/nexthop-router/nexthop/link/memlink"
	"github.com/nexthop-router/nexthop/stack"
)

// bigTable returns n IPv4 routes from a deterministic clustered generator:
// runs of consecutive /24s (most of a real full table) with a covering
// /16–/22 now and then, all via host 2, avoiding martian space.
func bigTable(n int) []stack.RouteChange {
	nh := []stack.NextHop{{Gateway: netip.AddrFrom4(hostIP(2)), NIC: 2}}
	out := make([]stack.RouteChange, 0, n)
	for i := 0; len(out) < n; i++ {
		a := 1 + (i>>16)%222 // 1…222
		if a == 10 || a == 127 || a == 169 || a == 198 {
			continue
		}
		addr := [4]byte{byte(a), byte(i >> 8), byte(i), 0}
		bits := 24
		switch i % 64 {
		case 0:
			bits = 16
		case 16:
			bits = 20
		case 32:
			bits = 22
		}
		p := netip.PrefixFrom(netip.AddrFrom4(addr), bits).Masked()
		if p.Bits() != 24 && p.Addr() != netip.AddrFrom4(addr) {
			p = netip.PrefixFrom(netip.AddrFrom4(addr), 24)
		}
		out = append(out, stack.RouteChange{Op: stack.RouteReplace, Route: stack.Route{Prefix: p, NextHops: nh}})
	}
	return out
}

// BenchmarkForward measures the forwarding path on memlink: batches of 64
// frames of 64 bytes (14 Ethernet + 50 IPv4) from NIC 1 to NIC 2, with one
// route and with a million. It reports ns/packet and allocs/packet; the
// targets are ≤ 60 ns/packet and 0 allocations.
func BenchmarkForward(b *testing.B) {
	for _, bc := range []struct {
		name   string
		routes int
	}{{"1route", 0}, {"1Mroutes", 1 << 20}} {
		b.Run(bc.name, func(b *testing.B) {
			n := newNet(b, netOpts{})
			// One batch with one route; with the full table, 1,024
			// batches whose 65,536 destinations spread over the table,
			// so lookups meet a cold cache as on a real port.
			nb := 1
			var tbl []stack.RouteChange
			if bc.routes > 0 {
				nb = 1024
				tbl = bigTable(bc.routes)
				if err := n.s.Routes().Apply(tbl); err != nil {
					b.Fatal(err)
				}
			}
			batches := make([][][]byte, nb)
			for k := range batches {
				batches[k] = make([][]byte, stack.BatchSize)
				for i := range batches[k] {
					dst := remoteIP
					if tbl != nil {
						j := k*stack.BatchSize + i
						dst = tbl[j*7919%len(tbl)].Route.Prefix.Addr().As4()
						dst[3] = byte(j%254 + 1)
					}
					f := fromHost(1, pktSpec{src: hostIP(1), dst: dst, ttl: 64, payload: udpPayload(22)}.build())
					if len(f) != 64 {
						b.Fatalf("frame of %d bytes, want 64", len(f))
					}
					batches[k][i] = f
				}
			}
			frames := batches[0]
			pool := memlink.NewRing(4*stack.BatchSize, 2048)
			list := stack.MakePacketBufferList(stack.BatchSize)
			nic := n.nics[1]
			sink := n.host[2]
			sink.Discard()
			defer pauseLeakCheck()()
			// Collect the setup's garbage (the route table build) now, so
			// the collector does not run inside the timed loop, which
			// itself allocates nothing.
			runtime.GC()
			b.ReportAllocs()
			b.ResetTimer()
			for j := range b.N {
				for _, f := range batches[j%nb] {
					pkt := pool.Get()
					pkt.SetLen(len(f))
					copy(pkt.Data(), f)
					list.PushBack(pkt)
				}
				nic.DeliverNetworkPackets(n.w, &list)
				sink.Discard()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*stack.BatchSize), "ns/packet")
			b.ReportMetric(float64(testing.AllocsPerRun(10, func() {
				for _, f := range frames {
					pkt := pool.Get()
					pkt.SetLen(len(f))
					copy(pkt.Data(), f)
					list.PushBack(pkt)
				}
				nic.DeliverNetworkPackets(n.w, &list)
				sink.Discard()
			}))/stack.BatchSize, "allocs/packet")
			if st := n.ep(1).Stats(); st.TotalDrops() != 0 {
				b.Fatalf("drops during benchmark: %+v", st.Drops)
			}
		})
	}
}

// pauseLeakCheck turns the tests' frame leak checking (TestMain) off for a
// benchmark's timed part and returns the function that turns it back on.
// The check is test instrumentation, two atomic adds per frame on top of
// the router's work, and the router never runs with it; measuring with it
// on would count the checker. The benchmark takes every frame after the
// pause and releases it before the resume, so the live-frame count that
// TestMain checks stays balanced.
func pauseLeakCheck() (resume func()) {
	stack.SetLeakCheck(false)
	return func() { stack.SetLeakCheck(true) }
}
