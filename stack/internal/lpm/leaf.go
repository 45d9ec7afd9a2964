package lpm

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// Path compression (IPv6 only). A full IPv6 table is mostly /48s spread
// thinly under their /32s, so without compression nearly every /48 ends a
// chain of nodes of its own down to depth 5, and a lookup walks about six
// cold nodes. Instead, a child subtree that would hold exactly one prefix is
// stored as a leaf in its parent's child slot: a node with leaf set whose
// line 0 holds the whole prefix (kids[0], kids[1]: the masked address as
// two 64-bit halves; kids[2], kids[3]: the mask) and whose lv holds the
// value. It has no prefixes and no children of its own.
//
// A leaf is position independent (it holds the full prefix), so it can be
// moved down when an insert pushes it under a new node, or up when a delete
// leaves it alone under its node, without being copied. The shape stays a
// function of the contents: every IPv6 node but the root has at least two
// prefixes below it, and every child subtree with exactly one is a leaf.
//
// A leaf in the child slot of octet o of a node at depth d holds a prefix
// longer than 8(d+1) bits whose first d+1 octets are the path to it; the
// lookup that reaches it either matches it (it is longer than anything on
// the path) or backtracks from its parent as it does when a child is missing.
//
// IPv4 does not use leaves: its tries are shallow, and its lookups read the
// compiled index (fib4.go), not the trie.

// newLeaf returns a leaf for the prefix of length l (> 8) with address a,
// created by the Txn of generation gen.
func newLeaf[V any](a *[16]byte, l int, v V, gen uint64) *node[V] {
	mhi := ^uint64(0) << (64 - min(l, 64))
	mlo := ^uint64(0) << (128 - max(l, 64)) // 0 for l <= 64: Go shifts out
	hi, lo := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	return &node[V]{
		kids: [4]uint64{hi & mhi, lo & mlo, mhi, mlo},
		leaf: 1,
		lv:   v,
		gen:  gen,
	}
}

// leafContains reports whether the prefix of leaf n contains address a.
func (n *node[V]) leafContains(a *[16]byte) bool {
	hi, lo := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	return hi&n.kids[2] == n.kids[0] && lo&n.kids[3] == n.kids[1]
}

// leafBits returns the length of the prefix of leaf n.
func (n *node[V]) leafBits() int {
	return bits.OnesCount64(n.kids[2]) + bits.OnesCount64(n.kids[3])
}

// leafAddr returns the (masked) address of the prefix of leaf n.
func (n *node[V]) leafAddr() (a [16]byte) {
	binary.BigEndian.PutUint64(a[:8], n.kids[0])
	binary.BigEndian.PutUint64(a[8:], n.kids[1])
	return a
}

// leafPrefix returns the prefix of leaf n.
func (n *node[V]) leafPrefix() netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom16(n.leafAddr()), n.leafBits())
}

// leafIs reports whether leaf n holds exactly the prefix of length l with
// address a (a may have bits set past l).
func (n *node[V]) leafIs(a *[16]byte, l int) bool {
	return n.leafBits() == l && n.leafContains(a)
}

// placeLeaf puts the prefix of leaf c into the new node m at depth k, the
// root of the subtree c was the only content of: as a prefix of m if it
// belongs at depth k, else as a leaf child of m (c itself, unchanged).
func placeLeaf[V any](m, c *node[V], k int) {
	l := c.leafBits()
	a := c.leafAddr()
	if (l-1)/8 == k {
		m.setPfx(pfxIndex(a[k], l-8*k), c.lv)
		return
	}
	m.setChild(a[k], c)
}

// collapse returns what should replace node n, at depth k >= 1 on the path
// b, if the subtree below n holds a single prefix: a leaf for it (the leaf
// child of n itself if that is the prefix), or nil if n holds more.
func collapse[V any](n *node[V], k int, b *[16]byte, gen uint64) *node[V] {
	switch {
	case len(n.vals) == 0 && len(n.child) == 1 && n.child[0].leaf != 0:
		return n.child[0]
	case len(n.vals) == 1 && len(n.child) == 0:
		var idx int
		for w, p := range n.pfx {
			if p != 0 {
				idx = w<<6 | bits.TrailingZeros64(p)
				break
			}
		}
		rl := bits.Len(uint(idx)) - 1 // relative length, 1..8 below the root
		var a [16]byte
		copy(a[:k], b[:k])
		a[k] = uint8((idx &^ (1 << rl)) << (8 - rl))
		return newLeaf(&a, 8*k+rl, n.vals[0], gen)
	}
	return nil
}

// collapse6 is collapse for IPv6 (is6) and nil for IPv4, which has no leaves.
func collapse6[V any](is6 bool, n *node[V], k int, b *[16]byte, gen uint64) *node[V] {
	if !is6 {
		return nil
	}
	return collapse(n, k, b, gen)
}
