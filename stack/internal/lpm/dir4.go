package lpm

// The IPv4 lookup does not walk the trie from its root. A Table also keeps a
// direct index of the first 16 address bits (a DIR-16 level): one chunk per
// first octet in use, of 256 entries, one per second octet. An entry holds
// the trie node at depth 2 for its /16 (prefixes /17../32) and, leaf-pushed,
// the value of the longest prefix /8../16 that covers the /16. A lookup is
// then a few loads from small, cache-resident arrays (the top levels and the
// entry's node pointer: 512 KiB for all 65536 entries), one node (two in
// the rare case of a prefix longer than /24) and one value, instead of four
// nodes and their child arrays; prefixes /0../7 are only looked at in the
// root when nothing longer matches.
//
// The index is derived from the trie, which stays the source of truth for
// Get, All, LookupPrefix and the updates, and it shares the depth-2 nodes
// with it, so it costs only the chunks: about 5 KiB per first octet in use.
// It is copy-on-write like the nodes: a change copies (at most once per Txn)
// the small arrays on the path to the groups of 16 entries it affects, and
// recomputes those entries: 1 for a prefix longer than /16, 2^(16-l) for a
// /l of 9..16, 256 for a /8. Changes to /0../7 do not touch the index.

// dir4Top is the index by first octet, in two levels of 16 (by the top and
// bottom half of the octet) so that a change copies two small arrays and
// not one of 256 pointers.
type dir4Top[V any] struct {
	m [16]*dir4Mid[V] // never nil
	// gen is the generation of the Txn that created it (see dir4Chunk).
	gen uint64
	// used is the number of non-nil chunks.
	used int
}

// dir4Mid is 16 consecutive first octets of the index.
type dir4Mid[V any] struct {
	// c[i] is the chunk of the i-th first octet, nil where no prefix
	// /8../32 starts with that octet.
	c   [16]*dir4Chunk[V]
	gen uint64 // as in dir4Chunk
}

// chunk returns the chunk of first octet a0, or nil.
func (d *dir4Top[V]) chunk(a0 uint8) *dir4Chunk[V] {
	if d == nil {
		return nil
	}
	return d.m[a0>>4].c[a0&15]
}

// dir4Chunk is the part of the index under one first octet, split into 16
// groups of 16 entries (by the top and bottom half of the second octet) so
// that a change copies about 300 bytes of it, not 5 KiB: the garbage a
// single-route update leaves behind is what its cost is mostly made of.
type dir4Chunk[V any] struct {
	g [16]*dir4Group[V] // never nil
	// gen is the generation of the Txn that created the chunk; as for
	// nodes, only that Txn may modify it in place.
	gen uint64
}

// dir4Group is 16 consecutive entries (/16s) of a chunk. The node pointers
// come first and apart from the values: they are what every lookup reads,
// and all of them (512 KiB for a full table) fit in the L2 cache.
type dir4Group[V any] struct {
	// n[i] is the trie node at depth 2 for the i-th /16 (prefixes
	// /17../32), or nil.
	n [16]*node[V]
	// val[i] is the value of the longest prefix /8../16 covering the i-th
	// /16, present if bit i of ok is set.
	val [16]V
	ok  uint16
	gen uint64 // as in dir4Chunk
}

// group returns the group of second octet o, for modification by the Txn of
// generation gen: it is copied first unless that Txn created it.
func (c *dir4Chunk[V]) group(o uint8, gen uint64) *dir4Group[V] {
	g := c.g[o>>4]
	if g.gen != gen {
		c2 := *g
		c2.gen = gen
		g = &c2
		c.g[o>>4] = g
	}
	return g
}

// sync4 brings the index up to date after the IPv4 prefix of length l with
// address octets b changed in the trie.
func (tx *Txn[V]) sync4(b *[16]byte, l int) {
	if l < 8 {
		return
	}
	a0 := b[0]
	r := tx.t.root4
	var n1 *node[V]
	has8 := false
	if r != nil {
		n1 = r.getChild(a0)
		has8 = r.hasPfx(256 | uint(a0))
	}
	top := tx.t.dir4
	c := top.chunk(a0)
	if n1 == nil && !has8 && c == nil {
		return
	}
	switch {
	case top == nil:
		top = &dir4Top[V]{gen: tx.gen}
		for i := range top.m {
			top.m[i] = &dir4Mid[V]{gen: tx.gen}
		}
		tx.t.dir4 = top
	case top.gen != tx.gen:
		top = &dir4Top[V]{m: top.m, gen: tx.gen, used: top.used}
		tx.t.dir4 = top
	}
	m := top.m[a0>>4]
	if m.gen != tx.gen {
		m = &dir4Mid[V]{c: m.c, gen: tx.gen}
		top.m[a0>>4] = m
	}
	if n1 == nil && !has8 {
		m.c[a0&15] = nil
		if top.used--; top.used == 0 {
			tx.t.dir4 = nil
		}
		return
	}
	switch {
	case c == nil:
		c = &dir4Chunk[V]{gen: tx.gen}
		for i := range c.g {
			c.g[i] = &dir4Group[V]{gen: tx.gen}
		}
		m.c[a0&15] = c
		top.used++
		for o := range 256 {
			c.fill(r, n1, a0, uint8(o), has8, tx.gen)
		}
		return
	case c.gen != tx.gen:
		c = &dir4Chunk[V]{g: c.g, gen: tx.gen}
		m.c[a0&15] = c
	}
	switch {
	case l > 16:
		var n2 *node[V]
		if n1 != nil {
			n2 = n1.getChild(b[1])
		}
		c.group(b[1], tx.gen).n[b[1]&15] = n2
	default:
		// The entries of the /16s the prefix covers.
		span := 1 << (16 - l)
		lo := int(b[1]) &^ (span - 1)
		for o := lo; o < lo+span; o++ {
			c.fill(r, n1, a0, uint8(o), has8, tx.gen)
		}
	}
}

// fill recomputes entry o of the chunk for first octet a0, whose trie nodes
// are the root r and n1 (nil if absent); has8 says whether r holds a0/8.
func (c *dir4Chunk[V]) fill(r, n1 *node[V], a0, o uint8, has8 bool, gen uint64) {
	g, i := c.group(o, gen), o&15
	g.n[i] = nil
	g.ok &^= 1 << i
	var zero V
	g.val[i] = zero
	if n1 != nil {
		g.n[i] = n1.getChild(o)
		if idx := lpmIndex(&n1.pfx, o); idx > 0 {
			g.val[i] = n1.vals[n1.valSlot(idx)]
			g.ok |= 1 << i
			return
		}
	}
	if has8 {
		g.val[i] = r.vals[r.valSlot(256|int(a0))]
		g.ok |= 1 << i
	}
}
