package lpm

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// BenchmarkLookup4 measures the trie itself on tables of /24s clustered in
// /16 blocks, from cache-resident to larger than the caches.
func BenchmarkLookup4(b *testing.B) {
	for _, n := range []int{1000, 100_000, 1_000_000} {
		if testing.Short() && n > 1000 {
			continue
		}
		r := rand.New(rand.NewPCG(1, 2))
		blocks := make([]uint32, max(4, n/25))
		for i := range blocks {
			blocks[i] = (1+r.Uint32N(222))<<24 | r.Uint32N(256)<<16
		}
		tx := (*Table[*int])(nil).Txn()
		x := 1
		for range n {
			a := blocks[r.IntN(len(blocks))] | r.Uint32N(256)<<8
			var ab [4]byte
			binary.BigEndian.PutUint32(ab[:], a)
			tx.Insert(netip.PrefixFrom(netip.AddrFrom4(ab), 24), &x)
		}
		tb := tx.Commit()
		addrs := make([][4]byte, 1<<20)
		for i := range addrs {
			a := blocks[r.IntN(len(blocks))] | r.Uint32N(1<<16)
			binary.BigEndian.PutUint32(addrs[i][:], a)
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			hits := 0
			i := 0
			for b.Loop() {
				if v, _ := tb.Lookup4(addrs[i&(1<<20-1)]); v != nil {
					hits++
				}
				i++
			}
			b.ReportMetric(float64(hits)/float64(i), "hit")
		})
		b.Run(fmt.Sprint(n, "/batch"), func(b *testing.B) {
			out := make([]*int, 64)
			i := 0
			for b.Loop() {
				tb.Lookup4Batch(addrs[i&(1<<20-1):][:64], out)
				i += 64
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/lookup")
		})
	}
}
