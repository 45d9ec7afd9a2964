package lpm

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
)

// smallMax is the largest number of prefixes of one family that a Table
// also keeps as a flat list. A router with a handful of routes (connected
// networks and a default) then looks up with a few compares instead of a
// walk of up to 16 nodes: the trie's cost is a chain of dependent loads,
// and on a small table that chain, not the cache, is the cost.
const smallMax = 8

// small4 is an IPv4 prefix of the flat list: a matches if a&mask == addr.
type small4[V any] struct {
	addr, mask uint32
	v          V
}

// small6 is small4 for IPv6, as two 64-bit halves.
type small6[V any] struct {
	hi, lo, mhi, mlo uint64
	v                V
}

// buildSmall sets t.small4 and t.small6 from the trie: the prefixes longest
// first, so the first one that matches is the longest match; nil for a
// family with more than smallMax prefixes (or none).
func (t *Table[V]) buildSmall() {
	t.small4, t.small6 = nil, nil
	type pv struct {
		p netip.Prefix
		v V
	}
	collect := func(root *node[V], is4 bool) []pv {
		var ps []pv
		var b [16]byte
		walk(root, 0, &b, is4, func(p netip.Prefix, v V) bool {
			ps = append(ps, pv{p, v})
			return true
		})
		slices.SortStableFunc(ps, func(x, y pv) int { return cmp.Compare(y.p.Bits(), x.p.Bits()) })
		return ps
	}
	if t.len4 > 0 && t.len4 <= smallMax {
		for _, e := range collect(t.root4, true) {
			a := e.p.Addr().As4()
			mask := ^uint32(0) << (32 - e.p.Bits()) // 0 for /0: Go shifts out
			t.small4 = append(t.small4, small4[V]{binary.BigEndian.Uint32(a[:]), mask, e.v})
		}
	}
	if t.len6 > 0 && t.len6 <= smallMax {
		for _, e := range collect(t.root6, false) {
			a := e.p.Addr().As16()
			l := e.p.Bits()
			mhi := ^uint64(0) << (64 - min(l, 64))
			mlo := ^uint64(0) << (128 - max(l, 64))
			t.small6 = append(t.small6, small6[V]{
				binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:]), mhi, mlo, e.v})
		}
	}
}
