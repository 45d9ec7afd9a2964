package stack

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// threadCPU returns the CPU time the calling OS thread has used. The
// lookup benchmarks report CPU ns per lookup beside wall-clock ns: on a
// shared machine the wall clock also counts the time the thread waited for
// a CPU, which says nothing about the table.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter measures the benchmark goroutine's thread CPU time across
// b.Loop; call start before the loop and report after it.
type cpuMeter struct{ t0 time.Duration }

func (m *cpuMeter) start() {
	runtime.LockOSThread()
	m.t0 = threadCPU()
}

func (m *cpuMeter) report(b *testing.B, n int, unit string) {
	d := threadCPU() - m.t0
	runtime.UnlockOSThread()
	if n > 0 && d > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(n), unit)
	}
}

// The full-table benchmarks use a synthetic, deterministic Internet-like
// table, because the real one is not redistributable and changes daily.
//
// IPv4, 1,000,000 prefixes. Length mix, in percent, modelled on the 2024-25
// BGP table (bgp.potaroo.net): /24 60, /23 9, /22 12, /21 5, /20 4.5, /19 3,
// /18 2, /17 1.5, /16 2, /15 .3, /14 .3, /13 .2, /12 .1, /11 .05, /10 .03,
// /9 .01, /8 .01 (no more-specifics than /24: they are filtered on the
// Internet). Prefixes are clustered into 40,000 allocation blocks: distinct
// /16s drawn from 1/8-223/8 (minus 10/8, 127/8, 172.16/12, 192.168/16), with
// a skewed popularity (block index = N*u², so a few blocks are full of /24s
// and most hold a handful), and prefixes shorter than /16 are the aggregates
// covering those blocks.
//
// IPv6, 250,000 prefixes: /48 57, /32 11, /44 11, /40 8, /36 4, /29 3, /56 4,
// /64 2. Allocation blocks are 30,000 /32s under the RIR /16s (2001, 2003,
// 2400-240f, 2600-260f, 2800-280f, 2a00-2a0f, 2c0f), same skew; inside a /32
// the next octet is skewed towards low values (256*u³), as RIRs and ISPs
// assign /48s from the bottom of a block, so /48s share /40 nodes.

type lenWeight struct {
	bits   int
	weight float64
}

var (
	v4LenMix = []lenWeight{{24, 60}, {23, 9}, {22, 12}, {21, 5}, {20, 4.5}, {19, 3}, {18, 2}, {17, 1.5},
		{16, 2}, {15, .3}, {14, .3}, {13, .2}, {12, .1}, {11, .05}, {10, .03}, {9, .01}, {8, .01}}
	v6LenMix = []lenWeight{{48, 57}, {32, 11}, {44, 11}, {40, 8}, {36, 4}, {29, 3}, {56, 4}, {64, 2}}
)

func pickLen(r *rand.Rand, mix []lenWeight) int {
	total := 0.0
	for _, lw := range mix {
		total += lw.weight
	}
	x := r.Float64() * total
	for _, lw := range mix {
		if x -= lw.weight; x < 0 {
			return lw.bits
		}
	}
	return mix[0].bits
}

// skewed picks an index in [0, n) with popularity falling off like 1/sqrt(i).
func skewed(r *rand.Rand, n int) int {
	u := r.Float64()
	return int(float64(n) * u * u)
}

// genInternet4 returns n distinct masked IPv4 prefixes (see above).
func genInternet4(n int) []netip.Prefix {
	r := rand.New(rand.NewPCG(4, 0x1234))
	var cands []uint32
	for hi := uint32(1); hi <= 223; hi++ {
		if hi == 10 || hi == 127 {
			continue
		}
		for lo := uint32(0); lo < 256; lo++ {
			if hi == 172 && lo >= 16 && lo < 32 || hi == 192 && lo == 168 {
				continue
			}
			cands = append(cands, hi<<8|lo)
		}
	}
	r.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	blocks := cands[:40000]
	seen := make(map[uint64]struct{}, n)
	out := make([]netip.Prefix, 0, n)
	for len(out) < n {
		l := pickLen(r, v4LenMix)
		a := blocks[skewed(r, len(blocks))]<<16 | r.Uint32()&0xffff
		a &= ^uint32(0) << (32 - l)
		k := uint64(a)<<8 | uint64(l)
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], a)
		out = append(out, netip.PrefixFrom(netip.AddrFrom4(b), l))
	}
	return out
}

var v6RIRBlocks = func() (s []uint16) {
	s = append(s, 0x2001, 0x2003, 0x2c0f)
	for _, base := range []uint16{0x2400, 0x2600, 0x2800, 0x2a00} {
		for i := range uint16(16) {
			s = append(s, base+i)
		}
	}
	return s
}()

// genInternet6 returns n distinct masked IPv6 prefixes (see above).
func genInternet6(n int) []netip.Prefix {
	r := rand.New(rand.NewPCG(6, 0x1234))
	blockSet := map[uint32]bool{}
	var blocks []uint32
	for len(blocks) < 30000 {
		b := uint32(v6RIRBlocks[r.IntN(len(v6RIRBlocks))])<<16 | r.Uint32()&0xffff
		if !blockSet[b] {
			blockSet[b] = true
			blocks = append(blocks, b)
		}
	}
	seen := make(map[[17]byte]struct{}, n)
	out := make([]netip.Prefix, 0, n)
	for len(out) < n {
		l := pickLen(r, v6LenMix)
		var b [16]byte
		binary.BigEndian.PutUint32(b[0:], blocks[skewed(r, len(blocks))])
		u := r.Float64()
		b[4] = byte(256 * u * u * u)
		binary.BigEndian.PutUint64(b[5:], r.Uint64())
		p := netip.PrefixFrom(netip.AddrFrom16(b), l).Masked()
		k := [17]byte(append(p.Addr().AsSlice(), byte(l)))
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		out = append(out, p)
	}
	return out
}

// benchNextHops are the entries of the synthetic table: 32 BGP peers on 4
// NICs, and every tenth prefix load-balanced over two of them.
func benchNextHops(i int, is4 bool) []NextHop {
	peer := i % 32
	gw := func(peer int) netip.Addr {
		if is4 {
			return netip.AddrFrom4([4]byte{198, 18, byte(peer % 4), byte(2 + peer)})
		}
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, byte(peer % 4), 15: byte(2 + peer)})
	}
	nh := []NextHop{{Gateway: gw(peer), NIC: NICID(1 + peer%4)}}
	if i%10 == 0 {
		nh = append(nh, NextHop{Gateway: gw(peer + 1), NIC: NICID(1 + (peer+1)%4)})
	}
	return nh
}

func fullChanges(ps []netip.Prefix) []RouteChange {
	cs := make([]RouteChange, len(ps))
	hops := make([][]NextHop, 64)
	for i := range hops {
		hops[i] = benchNextHops(i, ps[0].Addr().Is4())
	}
	for i, p := range ps {
		cs[i] = RouteChange{Op: RouteAdd, Route: Route{Prefix: p, NextHops: hops[i%len(hops)]}}
	}
	return cs
}

// fullTable is the shared full table of one family, built once per process.
type fullTable struct {
	once    sync.Once
	changes []RouteChange
	table   *RouteTable
	random  [][16]byte // random destinations (see randomAddrs)
	match   [][16]byte // destinations inside a table prefix
}

var full4, full6 fullTable

const benchAddrs = 1 << 20 // more than the caches, so lookups are not replayed from L1

func (f *fullTable) get(b *testing.B, is4 bool) *fullTable {
	if testing.Short() {
		b.Skip("full Internet table: skipped in -short mode")
	}
	f.once.Do(func() {
		var ps []netip.Prefix
		if is4 {
			ps = genInternet4(1_000_000)
		} else {
			ps = genInternet6(250_000)
		}
		f.changes = fullChanges(ps)
		f.table = NewRouteTable()
		if err := f.table.Apply(f.changes); err != nil {
			panic(err)
		}
		r := rand.New(rand.NewPCG(99, 1))
		f.random = make([][16]byte, benchAddrs)
		f.match = make([][16]byte, benchAddrs)
		for i := range benchAddrs {
			var x, m [16]byte
			binary.BigEndian.PutUint64(x[0:], r.Uint64())
			binary.BigEndian.PutUint64(x[8:], r.Uint64())
			if !is4 {
				// Uniform over the RIR /16s: uniform over all of 2000::/3
				// would almost never get past the root.
				binary.BigEndian.PutUint16(x[0:], v6RIRBlocks[r.IntN(len(v6RIRBlocks))])
			}
			f.random[i] = x
			p := ps[r.IntN(len(ps))]
			pb := p.Addr().AsSlice()
			binary.BigEndian.PutUint64(m[0:], r.Uint64())
			binary.BigEndian.PutUint64(m[8:], r.Uint64())
			for j := range pb {
				keep := min(8, max(0, p.Bits()-8*j))
				mask := byte(0xff << (8 - keep))
				m[j] = pb[j]&mask | m[j]&^mask
			}
			f.match[i] = m
		}
	})
	return f
}

func BenchmarkRouteLookup4Full(b *testing.B) {
	f := full4.get(b, true)
	for _, c := range []struct {
		name  string
		addrs [][16]byte
	}{{"random", f.random}, {"match", f.match}} {
		b.Run(c.name, func(b *testing.B) {
			addrs := make([][4]byte, len(c.addrs))
			for i, a := range c.addrs {
				addrs[i] = [4]byte(a[:4])
			}
			tb := f.table
			hits := 0
			b.ReportAllocs()
			i := 0
			var m cpuMeter
			m.start()
			for b.Loop() {
				if tb.Lookup4(addrs[i&(benchAddrs-1)]) != nil {
					hits++
				}
				i++
			}
			m.report(b, i, "cpu-ns/lookup")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/lookup")
			b.ReportMetric(100*float64(hits)/float64(i), "%matched")
		})
		b.Run(c.name+"-batch64", func(b *testing.B) {
			addrs := make([][4]byte, len(c.addrs))
			for i, a := range c.addrs {
				addrs[i] = [4]byte(a[:4])
			}
			benchBatch(b, len(addrs), func(i int, out []*FIBEntry) { f.table.Lookup4Batch(addrs[i:i+len(out)], out) })
		})
	}
}

// benchBatch runs lookups in batches of 64, the forwarder's RX batch size.
func benchBatch(b *testing.B, n int, lookup func(i int, out []*FIBEntry)) {
	out := make([]*FIBEntry, 64)
	b.ReportAllocs()
	i := 0
	var m cpuMeter
	m.start()
	for b.Loop() {
		lookup(i&(n-1), out)
		i += len(out)
	}
	m.report(b, i, "cpu-ns/lookup")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/lookup")
}

func BenchmarkRouteLookup6Full(b *testing.B) {
	f := full6.get(b, false)
	for _, c := range []struct {
		name  string
		addrs [][16]byte
	}{{"random", f.random}, {"match", f.match}} {
		b.Run(c.name, func(b *testing.B) {
			tb, addrs := f.table, c.addrs
			hits := 0
			b.ReportAllocs()
			i := 0
			var m cpuMeter
			m.start()
			for b.Loop() {
				if tb.Lookup6(addrs[i&(benchAddrs-1)]) != nil {
					hits++
				}
				i++
			}
			m.report(b, i, "cpu-ns/lookup")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/lookup")
			b.ReportMetric(100*float64(hits)/float64(i), "%matched")
		})
		b.Run(c.name+"-batch64", func(b *testing.B) {
			addrs := c.addrs
			benchBatch(b, len(addrs), func(i int, out []*FIBEntry) { f.table.Lookup6Batch(addrs[i:i+len(out)], out) })
		})
	}
}

// benchBuild measures building a full table in one Apply and the heap it
// keeps (HeapAlloc after GC, before and after; the input is not counted).
func benchBuild(b *testing.B, f *fullTable) {
	b.ReportAllocs()
	var ms runtime.MemStats
	var mib float64
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.HeapAlloc
		b.StartTimer()
		t := NewRouteTable()
		if err := t.Apply(f.changes); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		mib = float64(int64(ms.HeapAlloc)-int64(before)) / (1 << 20)
		runtime.KeepAlive(t)
		b.StartTimer()
	}
	b.ReportMetric(mib, "MiB")
	b.ReportMetric(mib*(1<<20)/float64(len(f.changes)), "B/route")
}

func BenchmarkRouteBuildFull4(b *testing.B) { benchBuild(b, full4.get(b, true)) }

func BenchmarkRouteBuildFull6(b *testing.B) { benchBuild(b, full6.get(b, false)) }

// BenchmarkRouteUpdateSingle is BGP churn on the full IPv4 table: each op is
// one Apply of one change, alternately withdrawing a random prefix of the
// table and announcing it again, so the table stays full.
func BenchmarkRouteUpdateSingle(b *testing.B) { benchUpdate(b, full4.get(b, true)) }

// BenchmarkRouteUpdateSingle6 is BenchmarkRouteUpdateSingle on the full
// IPv6 table.
func BenchmarkRouteUpdateSingle6(b *testing.B) { benchUpdate(b, full6.get(b, false)) }

func benchUpdate(b *testing.B, f *fullTable) {
	r := rand.New(rand.NewPCG(7, 7))
	order := make([]int, 1<<16)
	for i := range order {
		order[i] = r.IntN(len(f.changes))
	}
	one := make([]RouteChange, 1)
	i := 0
	b.ReportAllocs()
	var m cpuMeter
	m.start()
	for b.Loop() {
		one[0] = f.changes[order[(i/2)&(len(order)-1)]]
		if i%2 == 0 {
			one[0].Op = RouteDelete
		}
		if err := f.table.Apply(one); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if i%2 == 1 { // leave the shared table full
		one[0].Op = RouteAdd
		if err := f.table.Apply(one); err != nil {
			b.Fatal(err)
		}
	}
	m.report(b, i, "cpu-ns/update") // of this thread: GC workers not included
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "updates/s")
}

// BenchmarkRouteLookupTiny is a lookup in a one-route table, as in the
// forwarding benchmarks: it measures the fixed cost of a lookup.
func BenchmarkRouteLookupTiny(b *testing.B) {
	t := NewRouteTable()
	hop4 := []NextHop{{NIC: 1}}
	if err := t.Apply([]RouteChange{
		{Route: Route{Prefix: netip.MustParsePrefix("198.18.0.0/15"), NextHops: hop4}},
		{Route: Route{Prefix: netip.MustParsePrefix("2001:db8::/32"), NextHops: hop4}},
	}); err != nil {
		b.Fatal(err)
	}
	// Addresses from an array, not one modified in place: a byte store
	// followed by a wider load of the same bytes stalls store forwarding.
	var dst4 [256][4]byte
	var dst6 [256][16]byte
	for i := range 256 {
		dst4[i] = [4]byte{198, 18, 1, byte(i)}
		dst6[i] = netip.MustParseAddr("2001:db8::1").As16()
		dst6[i][15] = byte(i)
	}
	b.Run("v4", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if t.Lookup4(dst4[i&255]) == nil {
				b.Fatal("no route")
			}
			i++
		}
	})
	b.Run("v6", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if t.Lookup6(dst6[i&255]) == nil {
				b.Fatal("no route")
			}
			i++
		}
	})
}
