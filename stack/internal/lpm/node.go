package lpm

import (
	"math/bits"
	"slices"
)

// node is one stride-8 level of the trie: a node at depth d covers address
// octet d. Prefixes whose length L satisfies 8d < L <= 8d+8 (and /0 at the
// root) are stored here at their ART index; longer prefixes live in children.
//
// Both the prefixes and the children are popcount-compressed: a bitset says
// which indices are present and a dense slice holds the present entries in
// index order, so an entry's slot is the number of set bits below it. A node
// with a handful of entries therefore costs about 150 bytes, not the 4 KiB of
// an uncompressed 512+256 pointer array.
type node[V any] struct {
	// The fields are laid out in three 64-byte cache lines, and the node is
	// exactly 192 bytes (for a pointer-sized V), a Go size class whose
	// objects are 64-byte aligned: passing through a node reads line 0 only,
	// finding a prefix in the last node reads lines 1 and 2 in parallel,
	// then one slot of vals, and matching a leaf (leaf.go) reads lines 0
	// and 2 in parallel.

	// kids has bit o set when the child node for octet o is present.
	kids [4]uint64
	// child holds the present children, in octet order.
	child []*node[V]
	// kidsRank[w] is the number of children in kids[:w], so a child's slot is
	// one popcount away.
	kidsRank [4]uint8
	// leaf is 1 if this node is a path-compressed leaf (IPv6 only, see
	// leaf.go): then kids holds the leaf's prefix, lv its value, and the
	// node has no prefixes and no children of its own.
	leaf uint8
	_    [3]byte

	// pfx has bit i set when the prefix with ART index i is present. The ART
	// index of a prefix of relative length l (0..8) whose first l bits are
	// the top bits of octet o is 1<<l | o>>(8-l): a complete binary tree in
	// heap order, so the ancestors of index i are i>>1, i>>2, ... 1.
	pfx [8]uint64

	// vals holds the values of the present prefixes, in ART index order.
	vals []V
	// pfxRank[w] is the number of prefixes in pfx[:w].
	pfxRank [8]uint16
	// gen is the generation of the Txn that created this node. Only that Txn
	// may modify the node in place; every other writer copies it first, which
	// is what keeps published snapshots immutable.
	gen uint64
	// lv is the value of a leaf (unused otherwise).
	lv V
	_  [8]byte
}

// anc0 holds, for each value k = o>>3 of an octet o, the mask of the ART
// indices in word 0 (relative lengths 0..5) that cover o: 32+k and its
// ancestors (32+k)>>1 ... 1. Lengths 6, 7 and 8 have one candidate index
// each and are tested directly.
var anc0 = func() (m [32]uint64) {
	for k := range m {
		for i := 32 + k; i > 0; i >>= 1 {
			m[k] |= 1 << i
		}
	}
	return m
}()

// pfxIndex returns the ART index of the prefix of relative length l (0..8)
// whose bits are the top l bits of octet o.
func pfxIndex(o uint8, l int) uint {
	return 1<<uint(l) | uint(o)>>(8-uint(l))
}

// lpmIndex returns the ART index of the longest prefix stored in bitset b
// that covers octet o, or 0 if none does. Lengths 8, 7 and 6 have one
// candidate index each, tested directly; lengths 5..0 are all in word 0,
// found with a mask. The candidates of longer lengths have larger indices,
// so the answer is the maximum over the present candidates, computed without
// data-dependent branches (they would mispredict on random addresses and
// cut the overlap between consecutive lookups' cache misses).
func lpmIndex(b *[8]uint64, o uint8) int {
	b8 := int(b[4|o>>6] >> (o & 63) & 1)
	b7 := int(b[2|o>>7] >> ((o >> 1) & 63) & 1)
	b6 := int(b[1] >> (o >> 2) & 1)
	return max(b8*(256|int(o)), b7*(128|int(o>>1)), b6*(64|int(o>>2)),
		bits.Len64(b[0]&anc0[o>>3])-1)
}

// valSlot returns the slot in vals of the present ART index idx (1..511).
func (n *node[V]) valSlot(idx int) int {
	w := uint(idx>>6) & 7
	return int(n.pfxRank[w]) + bits.OnesCount64(n.pfx[w]&(1<<(uint(idx)&63)-1))
}

// hasPfx reports whether the prefix at ART index idx (1..511) is present.
func (n *node[V]) hasPfx(idx uint) bool {
	return n.pfx[(idx>>6)&7]>>(idx&63)&1 != 0
}

// getChild returns the child for octet o, or nil.
func (n *node[V]) getChild(o uint8) *node[V] {
	w := o >> 6
	bit := uint64(1) << (o & 63)
	k := n.kids[w]
	if k&bit == 0 {
		return nil
	}
	return n.child[int(n.kidsRank[w])+bits.OnesCount64(k&(bit-1))]
}

// childRank returns the slot in child of octet o.
func (n *node[V]) childRank(o uint8) int {
	w := o >> 6
	return int(n.kidsRank[w]) + bits.OnesCount64(n.kids[w]&(uint64(1)<<(o&63)-1))
}

// rerank recomputes kidsRank and pfxRank after the bitsets changed.
func (n *node[V]) rerank() {
	r := 0
	for w, k := range n.kids {
		n.kidsRank[w] = uint8(r)
		r += bits.OnesCount64(k)
	}
	r = 0
	for w, p := range n.pfx {
		n.pfxRank[w] = uint16(r)
		r += bits.OnesCount64(p)
	}
}

// getPfx returns the value at ART index idx, if present.
func (n *node[V]) getPfx(idx uint) (v V, ok bool) {
	if !n.hasPfx(idx) {
		return v, false
	}
	return n.vals[n.valSlot(int(idx))], true
}

// empty reports whether the node holds neither prefixes nor children (a
// leaf is not empty: it holds its prefix).
func (n *node[V]) empty() bool {
	return len(n.vals) == 0 && len(n.child) == 0 && n.leaf == 0
}

// The mutators below must only be called on a node owned by the current Txn.

// setPfx stores v at ART index idx, returning the value it replaced.
func (n *node[V]) setPfx(idx uint, v V) (old V, replaced bool) {
	r := n.valSlot(int(idx))
	if n.hasPfx(idx) {
		old, n.vals[r] = n.vals[r], v
		return old, true
	}
	n.pfx[(idx>>6)&7] |= 1 << (idx & 63)
	n.vals = slices.Insert(n.vals, r, v)
	n.rerank()
	return old, false
}

// delPfx removes ART index idx, which must be present, returning its value.
func (n *node[V]) delPfx(idx uint) V {
	r := n.valSlot(int(idx))
	old := n.vals[r]
	n.pfx[(idx>>6)&7] &^= 1 << (idx & 63)
	n.vals = slices.Delete(n.vals, r, r+1)
	n.rerank()
	return old
}

// setChild installs c as the child for octet o, replacing any existing one.
func (n *node[V]) setChild(o uint8, c *node[V]) {
	r := n.childRank(o)
	bit := uint64(1) << (o & 63)
	if n.kids[o>>6]&bit != 0 {
		n.child[r] = c
		return
	}
	n.kids[o>>6] |= bit
	n.child = slices.Insert(n.child, r, c)
	n.rerank()
}

// delChild removes the child for octet o, which must be present.
func (n *node[V]) delChild(o uint8) {
	r := n.childRank(o)
	n.kids[o>>6] &^= uint64(1) << (o & 63)
	n.child = slices.Delete(n.child, r, r+1)
	n.rerank()
}

// trim releases spare slice capacity left by in-place growth, so a table
// built by one large Txn costs no more memory than one built route by route.
func (n *node[V]) trim() {
	if c, l := cap(n.vals), len(n.vals); c-l > 1+l/8 {
		n.vals = slices.Clone(n.vals)
		if l == 0 {
			n.vals = nil
		}
	}
	if c, l := cap(n.child), len(n.child); c-l > 1+l/8 {
		n.child = slices.Clone(n.child)
		if l == 0 {
			n.child = nil
		}
	}
}
