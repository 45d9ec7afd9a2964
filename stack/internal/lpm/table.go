// Package lpm is a persistent longest-prefix-match table for IPv4 and IPv6:
// a multibit trie with stride 8 whose nodes are popcount-compressed ART
// (Allotment Routing Table, Hariharan & Knuth) arrays.
//
// A Table is an immutable snapshot: any number of goroutines may look up in
// it with no locking, and it never changes. Changes are made through a Txn,
// which copies the nodes on the path of each change (copy-on-write, at most
// once per node per Txn) and publishes a new Table on Commit; the old Table
// and the nodes it shares with the new one are left untouched. The router
// publishes the committed Table through an atomic.Pointer (RCU style).
//
// Each node covers one address octet, so a walk of an IPv6 address visits up
// to 16 nodes. Lookups do not walk the trie but compiled indexes of small
// value indexes that the Txn keeps in step with it: for IPv4 a leaf-
// compressed one (16-bit direct pointing, then one stride of 8 bits,
// fib4.go), for IPv6 one split by prefix length into a /16 radix with /32
// bitmaps and hash tables keyed by /32, /40 and /56 (fib6.go). Each is a few
// MiB for a full table, and costs one or two likely cache misses per lookup
// instead of a chain of them. Within a node, the prefixes of
// relative length 0..8 sit at their ART index in a 512-bit bitset; the
// longest one covering an octet is found with a few bit tests and one mask,
// and its value slot with popcounts. Lookups take fixed-size arrays, not
// netip.Addr, and do not allocate.
package lpm

import (
	"encoding/binary"
	"iter"
	"math/bits"
	"net/netip"
)

// Table is an immutable snapshot of a prefix table. The zero value is an
// empty table; a nil *Table is also empty.
type Table[V comparable] struct {
	root4, root6 *node[V]
	len4, len6   int
	// f4 is the compiled IPv4 index (fib4.go), nil if not in use.
	f4 *fib4
	// off4 > 0 means the index is disabled (too many distinct values)
	// since the table had off4 IPv4 prefixes.
	off4 int
	// f6 and off6 are the same for IPv6 (fib6.go).
	f6   *fib6
	off6 int
	// vals are the values the index refers to, by index (vals.go), and vt
	// the writers' side of them.
	vals []V
	vt   *valTab[V]
	// small4 and small6 are the prefixes of a family as a flat list, longest
	// first, if there are few of them (see small.go); else nil. Only a
	// committed Table has them.
	small4 []small4[V]
	small6 []small6[V]
}

// Len4 returns the number of IPv4 prefixes in the table.
func (t *Table[V]) Len4() int {
	if t == nil {
		return 0
	}
	return t.len4
}

// Len6 returns the number of IPv6 prefixes in the table.
func (t *Table[V]) Len6() int {
	if t == nil {
		return 0
	}
	return t.len6
}

// Lookup4 returns the value of the longest IPv4 prefix containing a.
// It reads the compiled index (see fib4.go).
func (t *Table[V]) Lookup4(a [4]byte) (v V, ok bool) {
	if t == nil {
		return v, false
	}
	if s := t.small4; s != nil {
		x := binary.BigEndian.Uint32(a[:])
		for i := range s {
			if x&s[i].mask == s[i].addr {
				return s[i].v, true
			}
		}
		return v, false
	}
	f := t.f4
	if f == nil {
		return t.lookup4Trie(a)
	}
	// f.short(entryAt(f.bucketPtr(...))), inlined by hand: it is over the
	// compiler's budget. Every load depends on the previous one, and there
	// is no data-dependent branch but the rare sub-page test, so that
	// consecutive lookups' cache misses overlap.
	p := f.bucketPtr(a[0], a[1])
	o := a[2]
	k := o >> 6
	h := bucketAt(p, 4)
	r := int(uint8(h>>(8*k))) + bits.OnesCount64(bucketAt(p, int(k))&(2<<(o&63)-1)) - 1
	x := uint16(bucketAt(p, bucketHdr+r>>2) >> (16 * (r & 3)))
	if x&subFlag != 0 {
		i := bucketHdr + int(uint16(h>>32)) + 64*int(x&^subFlag) + int(a[3]>>2)
		x = uint16(bucketAt(p, i) >> (16 * (a[3] & 3)))
	}
	s := f.short4[a[0]]
	if x == 0 {
		x = s
	}
	return t.vals[x], x != 0
}

// lookup6Trie is Lookup6 in the trie. It is apart so that the small-table
// path of Lookup6 does not pay for its stack frame.
func (t *Table[V]) lookup6Trie(a [16]byte) (v V, ok bool) {
	if t.root6 == nil {
		return v, false
	}
	n := t.root6
	// Descend as far as children exist, remembering the path; the longest
	// match is then the leaf the descent ends at, if it matches, or else in
	// the deepest node that has any covering prefix.
	var path [16]*node[V]
	d := 0
	for {
		if n.leaf != 0 {
			if n.leafContains(&a) {
				return n.lv, true
			}
			d-- // the root is never a leaf
			break
		}
		path[d&15] = n
		o := a[d&15]
		w := o >> 6
		k := n.kids[w]
		bit := uint64(1) << (o & 63)
		if k&bit == 0 || d == 15 {
			break
		}
		n = n.child[int(n.kidsRank[w])+bits.OnesCount64(k&(bit-1))]
		d++
	}
	for {
		n := path[d&15]
		o := a[d&15]
		// lpmIndex, inlined by hand: it is over the compiler's budget.
		b8 := int(n.pfx[4|o>>6] >> (o & 63) & 1)
		b7 := int(n.pfx[2|o>>7] >> ((o >> 1) & 63) & 1)
		b6 := int(n.pfx[1] >> (o >> 2) & 1)
		idx := max(b8*(256|int(o)), b7*(128|int(o>>1)), b6*(64|int(o>>2)),
			bits.Len64(n.pfx[0]&anc0[o>>3])-1)
		if idx > 0 {
			return n.vals[n.valSlot(idx)], true
		}
		if d == 0 {
			return v, false
		}
		d--
	}
}

// Lookup returns the value of the longest prefix containing a. IPv4 addresses
// are looked up in the IPv4 table; everything else, including IPv4-mapped
// IPv6 addresses, in the IPv6 table.
func (t *Table[V]) Lookup(a netip.Addr) (v V, ok bool) {
	switch {
	case a.Is4():
		return t.Lookup4(a.As4())
	case a.Is6():
		return t.Lookup6(a.As16())
	}
	return v, false
}

// LookupPrefix is Lookup that also returns the matching prefix. It is meant
// for the control path (diagnostics, next-hop resolution).
func (t *Table[V]) LookupPrefix(a netip.Addr) (p netip.Prefix, v V, ok bool) {
	if t == nil || !a.IsValid() {
		return p, v, false
	}
	a = a.WithZone("")
	n, b, depth := t.root6, a.As16(), 16
	if a.Is4() {
		n, depth = t.root4, 4
		b4 := a.As4()
		copy(b[:], b4[:])
	}
	var bestLen int
	found := false
	for d := 0; d < depth && n != nil; d++ {
		if n.leaf != 0 {
			if n.leafContains(&b) {
				v, found, bestLen = n.lv, true, n.leafBits()
			}
			break
		}
		if idx := lpmIndex(&n.pfx, b[d]); idx > 0 {
			v, found = n.vals[n.valSlot(idx)], true
			bestLen = 8*d + bits.Len(uint(idx)) - 1
		}
		n = n.getChild(b[d])
	}
	if !found {
		return p, v, false
	}
	return netip.PrefixFrom(a, bestLen).Masked(), v, true
}

// Get returns the value stored for exactly prefix p (which is masked first).
func (t *Table[V]) Get(p netip.Prefix) (v V, ok bool) {
	if t == nil || !p.IsValid() {
		return v, false
	}
	n, b, depth, idx := t.locate(p)
	for d := 0; d < depth && n != nil; d++ {
		n = n.getChild(b[d])
		if n != nil && n.leaf != 0 {
			if n.leafIs(&b, p.Bits()) {
				return n.lv, true
			}
			return v, false
		}
	}
	if n == nil {
		return v, false
	}
	return n.getPfx(idx)
}

// locate returns the root for p's family, p's address bytes, the depth of
// the node that stores p and p's ART index in it.
func (t *Table[V]) locate(p netip.Prefix) (root *node[V], b [16]byte, depth int, idx uint) {
	a := p.Addr()
	root = t.root6
	if a.Is4() {
		root = t.root4
		b4 := a.As4()
		copy(b[:], b4[:])
	} else {
		b = a.As16()
	}
	l := p.Bits()
	if l == 0 {
		return root, b, 0, 1
	}
	depth = (l - 1) / 8
	return root, b, depth, pfxIndex(b[depth], l-8*depth)
}

// All yields every prefix of the table with its value: IPv4 first, then
// IPv6, each ordered by address and then by length (shorter first).
func (t *Table[V]) All() iter.Seq2[netip.Prefix, V] {
	return func(yield func(netip.Prefix, V) bool) {
		if t == nil {
			return
		}
		var b [16]byte
		if t.root4 != nil && !walk(t.root4, 0, &b, true, yield) {
			return
		}
		b = [16]byte{}
		if t.root6 != nil {
			walk(t.root6, 0, &b, false, yield)
		}
	}
}

// walk yields the prefixes below n in order. b holds the octets of the path
// to n; octets from depth on are scratch.
func walk[V any](n *node[V], depth int, b *[16]byte, is4 bool, yield func(netip.Prefix, V) bool) bool {
	for s := 0; s < 256; s++ {
		if len(n.vals) > 0 {
			// Prefixes of this node that start at octet s, shorter first.
			for l := 0; l <= 8; l++ {
				if s&(1<<(8-l)-1) != 0 {
					continue
				}
				v, ok := n.getPfx(pfxIndex(uint8(s), l))
				if !ok {
					continue
				}
				b[depth] = uint8(s)
				clear(b[depth+1:])
				var p netip.Prefix
				if is4 {
					p = netip.PrefixFrom(netip.AddrFrom4([4]byte(b[:4])), 8*depth+l)
				} else {
					p = netip.PrefixFrom(netip.AddrFrom16(*b), 8*depth+l)
				}
				if !yield(p, v) {
					return false
				}
			}
		}
		if c := n.getChild(uint8(s)); c != nil && c.leaf != 0 {
			// A leaf is the only prefix of its subtree.
			if !yield(c.leafPrefix(), c.lv) {
				return false
			}
		} else if c != nil {
			b[depth] = uint8(s)
			if !walk(c, depth+1, b, is4, yield) {
				return false
			}
		}
	}
	return true
}
