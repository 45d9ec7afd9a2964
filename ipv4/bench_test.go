package ipv4_test

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/nexthop-router/nexthop/header"
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
// frames of 64 bytes (14 Ethernet + 50 IPv4) from host 1 through the
// router to host 2, with one route and with a million; the targets are
// ≤ 60 ns/packet and 0 allocations. It reports two times per packet:
//
//   - ns/packet-router, the router's work: from polling NIC 1's link
//     (RX dispatch, IPv4, route lookup, neighbour, rewrite, the batch
//     written to NIC 2's link) to host 2 releasing the frames (the TX
//     completion that gives them back). The clock is read twice a batch,
//     about 0.6 ns a packet, and that is counted, not subtracted.
//   - ns/packet, the whole loop: that plus the harness, which takes 64
//     frames from a ring, copies a template into each (standing in for a
//     NIC's RX DMA) and writes them into NIC 1's link. Until 5b03215 the
//     loop copied distinct prebuilt frames (4 MiB of them, read cold, with
//     the full table) and handed them to the NIC directly; since 12438c2
//     it is as described here, so compare ns/packet across those commits
//     with care (bench/RESULTS.md, 21:00, has both side by side).
//
// Both cases inject traffic the same way, so they differ only in the
// table: every frame is the template with its destination written in from
// a compact array read in order, and its header checksum adjusted. With
// the full table the array holds 65,536 destinations spread over the
// whole table, so the lookups touch more of it (about 12 MiB of lines)
// than the core's L2 holds, as on a real port. The frames themselves are
// in L1 when the clock starts, having just been written: a real NIC's
// DMA would leave the first read of each header to the router.
func BenchmarkForward(b *testing.B) {
	for _, bc := range []struct {
		name   string
		routes int
	}{{"1route", 0}, {"1Mroutes", 1 << 20}} {
		b.Run(bc.name, func(b *testing.B) {
			n := newNet(b, netOpts{})
			tmpl := fromHost(1, pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, payload: udpPayload(22)}.build())
			if len(tmpl) != 64 {
				b.Fatalf("frame of %d bytes, want 64", len(tmpl))
			}
			// The destinations, 256 KiB for the full table: a bigger
			// array, streamed through the cache, would evict the route
			// table a real port keeps there.
			tmplDst := binary.BigEndian.Uint32(remoteIP[:])
			tmplSum := header.IPv4(tmpl[header.EthernetMinimumSize:]).Checksum()
			dsts := []uint32{tmplDst}
			if bc.routes > 0 {
				tbl := bigTable(bc.routes)
				if err := n.s.Routes().Apply(tbl); err != nil {
					b.Fatal(err)
				}
				dsts = make([]uint32, 1024*stack.BatchSize)
				for j := range dsts {
					dst := tbl[j*7919%len(tbl)].Route.Prefix.Addr().As4()
					dst[3] = byte(j%254 + 1)
					dsts[j] = binary.BigEndian.Uint32(dst[:])
				}
			}
			pool := memlink.NewRing(4*stack.BatchSize, 2048)
			list := stack.MakePacketBufferList(stack.BatchSize)
			src, rt, sink := n.host[1], n.router[1], n.host[2]
			sink.Discard()
			next := 0
			// batch injects a batch of frames, forwards it and releases
			// what reached host 2. It returns the router's part of the
			// time (see above).
			batch := func() time.Duration {
				for i := range stack.BatchSize {
					pkt := pool.Get()
					pkt.SetLen(len(tmpl))
					d := pkt.Data()
					copy(d, tmpl)
					dst := dsts[(next+i)%len(dsts)]
					binary.BigEndian.PutUint16(d[14+10:], withDst(tmplSum, tmplDst, dst))
					binary.BigEndian.PutUint32(d[14+16:], dst)
					list.PushBack(pkt)
				}
				if next += stack.BatchSize; next >= len(dsts) {
					next = 0
				}
				_, _ = src.WritePackets(list)
				list.Reset()
				t0 := time.Now()
				rt.Poll(n.w, 0)
				sink.Discard()
				return time.Since(t0)
			}
			defer pauseLeakCheck()()
			// Collect the setup's garbage (the route table build) now, so
			// the collector does not run inside the timed loop, which
			// itself allocates nothing.
			runtime.GC()
			b.ReportAllocs()
			b.SetBytes(int64(len(tmpl) * stack.BatchSize))
			var fwd time.Duration
			for b.Loop() {
				fwd += batch()
			}
			b.StopTimer()
			pkts := float64(b.N * stack.BatchSize)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/pkts, "ns/packet")
			b.ReportMetric(float64(fwd.Nanoseconds())/pkts, "ns/packet-router")
			b.ReportMetric(pkts/fwd.Seconds()/1e6, "router-Mpps")
			b.ReportMetric(testing.AllocsPerRun(10, func() { batch() })/stack.BatchSize, "allocs/packet")
			if st := n.ep(1).Stats(); st.TotalDrops() != 0 {
				b.Fatalf("drops during benchmark: %+v", st.Drops)
			}
			if got, want := n.ep(1).Stats().Forwarded, uint64(b.N+11)*stack.BatchSize; got < want {
				b.Fatalf("forwarded %d packets, want at least %d", got, want)
			}
		})
	}
}

// withDst returns IPv4 header checksum sum updated for the destination
// address changing from old to new (RFC 1624, equation 3).
func withDst(sum uint16, old, new uint32) uint16 {
	s := uint32(^sum) + uint32(^uint16(old>>16)) + uint32(^uint16(old)) + new>>16 + new&0xffff
	s = s&0xffff + s>>16
	s = s&0xffff + s>>16
	return ^uint16(s)
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
