package header_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nexthop-router/nexthop/header"
)

func BenchmarkChecksum(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{64, 128, 512, 1500, 9000, 65536} {
		buf := make([]byte, size)
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				sink.u16 = header.Checksum(buf, 0)
			}
		})
	}
}

// BenchmarkChecksumReference measures the byte-pair reference, to show what
// the word-at-a-time loop buys.
func BenchmarkChecksumReference(b *testing.B) {
	buf := make([]byte, 1500)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		sink.u16 = refChecksum(buf, 0)
	}
}

func BenchmarkDecrementTTL(b *testing.B) {
	h := header.IPv4(mustHex(b, goldenPing))
	b.ReportAllocs()
	for b.Loop() {
		h.DecrementTTL()
		if h.TTL() == 1 {
			h.SetTTL(255)
		}
	}
}

// BenchmarkDecrementTTLRecompute is the gVisor way (full header
// recomputation), for comparison.
func BenchmarkDecrementTTLRecompute(b *testing.B) {
	h := header.IPv4(mustHex(b, goldenPing))
	b.ReportAllocs()
	for b.Loop() {
		h.SetTTL(h.TTL() - 1)
		h.UpdateChecksum()
		if h.TTL() == 1 {
			h.SetTTL(255)
		}
	}
}

func BenchmarkValidateIPv4(b *testing.B) {
	pkt := mustHex(b, goldenPing)
	b.ReportAllocs()
	for b.Loop() {
		sink.err = header.ValidateIPv4(pkt)
	}
}

func BenchmarkWalkIPv6Extensions(b *testing.B) {
	pkt := ipv6With(header.IPv6ExtHopByHop, mustHex(b, goldenExtChain))
	b.ReportAllocs()
	for b.Loop() {
		w, err := header.WalkIPv6Extensions(pkt)
		sink.err, sink.i = err, w.Offset
	}
}
