package lpm

import "math/bits"

// The IPv4 lookup does not walk the trie. A Table also keeps a compiled
// index derived from it (Poptrie-like: direct pointing on the first 16 bits,
// then one leaf-compressed stride of 8), whose leaves are small integer
// indexes into the Table's value slice (vals.go) instead of values:
//
//   - bucket(a0, a1) is the bucket of the /16 a0.a1. Logically it is 256
//     uint16 entries, one per third octet, each the index of the value of
//     the longest prefix /9../24 covering that /24 (leaf-pushed), 0 if none,
//     or, with subFlag set, the number of a sub-page of 256 entries (by
//     fourth octet) for a /24 that holds longer prefixes. It is stored
//     compressed (see bucketBuf.encode): a bitmap of where runs of equal
//     entries start and the runs' values, so that a /16 holding a few
//     prefixes costs a cache line or two, not 512 bytes;
//   - short4[a0] is the index of the longest prefix /0../8 covering a0, the
//     answer when the bucket says 0.
//
// A full table of 1M prefixes in 40,000 /16s then compiles to a few MiB, most
// of which stays in the CPU caches (and its pages in the TLB): a lookup is a
// walk of small hot radix nodes (below), one or two lines of one bucket (the
// likely cache miss) and the value (vals holds the distinct values, a few
// dozen for a router: in L1), with no data-dependent branch but the rare
// sub-page test. A /16 with no prefix longer than /16 shares a uniform bucket
// per value, so there is no nil test either.
//
// The index is kept in step with the trie by the Txn, copy-on-write like the
// nodes: a change copies (at most once per Txn) the radix nodes on the path
// to the buckets it affects and re-encodes those buckets with only the
// entries it affects recomputed (1 for a /24, a sub-page for /25../32, the
// 2^(24-l) entries of a /l for l in 17..24, the default entries of 2^(16-l)
// buckets for l in 9..16, the 256 short4 entries for /0../8). A Txn with
// very many changes (a full table load) stops doing that and rebuilds the
// index once at Commit.

const (
	// subFlag marks a bucket entry that is a sub-page number.
	subFlag = 0x8000
	// maxVals4 bounds the value indexes (1..maxVals4-1) that fit beside
	// subFlag in an entry.
	maxVals4 = subFlag
	// rebuild4After is the number of IPv4 changes in one Txn after which
	// the index is rebuilt at Commit instead of updated change by change.
	rebuild4After = 1 << 14
)

// A bucket is encoded as one []uint64, so that a lookup reaches its words
// with one pointer load (from its group, which holds a pointer to the first
// word rather than a slice header: see bucketAt):
//
//	w[0..3]  bitmap: bit o set if entry o starts a run (o == 0 or it
//	         differs from entry o-1)
//	w[4]     bytes 0..3: the number of runs starting in w[0..k-1], for k
//	         0..3; bytes 4..5: the number of value words; bytes 6..7: the
//	         number of sub-pages
//	w[5..]   the runs' values, four uint16 to a word, then the sub-pages,
//	         64 words each (uncompressed: they are rare)
//
// Entry o is then value number rank(o) = (runs starting at or before o) - 1:
// a byte of w[4] plus one popcount.
const bucketHdr = 5

// bucketBuf is a bucket decoded, for the Txn to change and encode again.
type bucketBuf struct {
	e   [256]uint16
	sub [][256]uint16
}

// encode returns the encoding of bb, dropping the sub-pages no entry uses.
// It and decode work run by run: a bucket is re-encoded on every change
// of a route in its /16, so they are a good part of an update's cost.
func (bb *bucketBuf) encode() []uint64 {
	var bm [4]uint64
	runs, any := 0, uint16(0)
	prev := ^uint32(0) // no entry: entry 0 starts a run
	for o, x := range bb.e {
		var b uint64
		if uint32(x) != prev {
			b = 1
		}
		bm[o>>6] |= b << (o & 63)
		prev = uint32(x)
		any |= x
	}
	var rank uint64
	for k := range 4 {
		rank |= uint64(runs) << (8 * k)
		runs += bits.OnesCount64(bm[k])
	}
	nsub := 0
	if any&subFlag != 0 {
		for _, x := range bb.e {
			if x&subFlag != 0 {
				nsub++
			}
		}
	}
	nv := (runs + 3) / 4
	w := newBucket(bucketHdr + nv + 64*nsub)
	copy(w, bm[:])
	w[4] = rank | uint64(nv)<<32 | uint64(nsub)<<48
	vw := w[bucketHdr : bucketHdr+nv]
	r, s := 0, 0
	for k, m := range bm {
		for ; m != 0; m &= m - 1 {
			o := k<<6 | bits.TrailingZeros64(m)
			x := bb.e[o]
			if x&subFlag != 0 {
				// Runs of a sub-page entry are one entry long: entries
				// never share a sub-page.
				pg := w[bucketHdr+nv+64*s:]
				for i, y := range bb.sub[x&^subFlag] {
					pg[i>>2] |= uint64(y) << (16 * (i & 3))
				}
				x = subFlag | uint16(s)
				s++
			}
			vw[r>>2] |= uint64(x) << (16 * (r & 3))
			r++
		}
	}
	return w
}

// newBucket allocates a bucket of n words. (Rounding it up to whole cache
// lines, for alignment, measured slower: the index grows by a fifth.)
func newBucket(n int) []uint64 {
	return make([]uint64, n)
}

// decode sets bb to the contents of bucket w.
func (bb *bucketBuf) decode(w []uint64) {
	bb.sub = bb.sub[:0]
	nv := int(uint16(w[4] >> 32))
	vw := w[bucketHdr : bucketHdr+nv]
	r, start := 0, 0
	var cur uint16
	for k := range 4 {
		for m := w[k]; m != 0; m &= m - 1 {
			o := k<<6 | bits.TrailingZeros64(m)
			fill(bb.e[start:o], cur)
			cur = uint16(vw[r>>2] >> (16 * (r & 3)))
			r++
			start = o
			if cur&subFlag != 0 {
				s := int(cur &^ subFlag)
				var pg [256]uint16
				for i := range pg {
					pg[i] = uint16(w[bucketHdr+nv+64*s+i>>2] >> (16 * (i & 3)))
				}
				cur = subFlag | uint16(len(bb.sub))
				bb.sub = append(bb.sub, pg)
			}
		}
	}
	fill(bb.e[start:], cur)
}

func fill(e []uint16, x uint16) {
	for i := range e {
		e[i] = x
	}
}

// setEntry returns the encoding of bucket w, which has no sub-pages, with
// entry o set to x (not a sub-page), or w itself if it is unchanged. Runs
// starting before o and after o+1 keep their values; only the starts at o
// and o+1 can change. runs is scratch.
func setEntry(w []uint64, o int, x uint16, runs *[256]uint16) []uint64 {
	get := func(p int) uint16 {
		k := p >> 6
		r := int(uint8(w[4]>>(8*k))) + bits.OnesCount64(w[k&3]&(2<<(p&63)-1)) - 1
		return uint16(w[bucketHdr+r>>2] >> (16 * (r & 3)))
	}
	if get(o) == x {
		return w
	}
	var bm [4]uint64
	copy(bm[:], w[:4])
	n := 0
	for _, m := range bm {
		n += bits.OnesCount64(m)
	}
	// Unpack the old run values, and count the old runs starting before o
	// and after o+1.
	vw := w[bucketHdr:]
	for r := range n {
		runs[r] = uint16(vw[r>>2] >> (16 * (r & 3)))
	}
	before := 0
	for k := range o >> 6 {
		before += bits.OnesCount64(bm[k])
	}
	before += bits.OnesCount64(bm[o>>6] & (1<<(o&63) - 1))
	after := n - before
	for p := o; p <= min(o+1, 255); p++ {
		after -= int(bm[p>>6] >> (p & 63) & 1)
	}
	// The new starts at o and o+1.
	start := func(p int, yes bool) {
		bm[p>>6] &^= 1 << (p & 63)
		if yes {
			bm[p>>6] |= 1 << (p & 63)
		}
	}
	var next uint16
	if o < 255 {
		next = get(o + 1)
		start(o+1, next != x)
	}
	start(o, o == 0 || get(o-1) != x)
	var mid [2]uint16
	m := 0
	if bm[o>>6]>>(o&63)&1 != 0 {
		mid[m] = x
		m++
	}
	if o < 255 && bm[(o+1)>>6]>>((o+1)&63)&1 != 0 {
		mid[m] = next
		m++
	}
	// New values: runs[:before] + mid[:m] + runs[n-after:n].
	nn := before + m + after
	copy(runs[before+m:nn], runs[n-after:n])
	copy(runs[before:before+m], mid[:m])
	nv := (nn + 3) / 4
	nw := newBucket(bucketHdr + nv)
	copy(nw, bm[:])
	r := 0
	for k := range 4 {
		nw[4] |= uint64(r) << (8 * k)
		r += bits.OnesCount64(bm[k])
	}
	nw[4] |= uint64(nv) << 32
	nvw := nw[bucketHdr:]
	for r, v := range runs[:nn] {
		nvw[r>>2] |= uint64(v) << (16 * (r & 3))
	}
	return nw
}

// The buckets are reached through a radix tree of 16-way nodes on the four
// nibbles of the first two octets, rather than one array of 65536 bucket
// pointers or 256 of 256: a change then copies four small nodes, well under
// 1 KiB, instead of kilobytes of pointers, and the garbage a single-route
// update leaves is what its cost is mostly made of (GC work). The nodes are
// few and hot (16 + 256 + 4096 for a full table), so their loads are cache
// hits.

// radixMid is the index under one nibble a0>>4 ...
type radixMid[G any] struct {
	c   [16]*radixChunk[G] // never nil
	gen uint64             // as in fib4
}

// ... radixChunk under one first octet a0 ...
type radixChunk[G any] struct {
	g   [16]*G // never nil
	gen uint64
}

// radixRoot is the 16-way radix over the first 16 bits that fib4 and fib6
// share; G is the family's group of 16 /16s.
type radixRoot[G any] [16]*radixMid[G]

// generational is a radix group: it carries the generation of the Txn that
// made it, so a Txn copies a group only once.
type generational[G any] interface {
	*G
	generation() *uint64
}

// emptyRadix returns a radix whose every group is g (shared, never written:
// its generation is 0).
func emptyRadix[G any](g *G) radixRoot[G] {
	c := &radixChunk[G]{}
	for i := range c.g {
		c.g[i] = g
	}
	m := &radixMid[G]{}
	for i := range m.c {
		m.c[i] = c
	}
	var r radixRoot[G]
	for i := range r {
		r[i] = m
	}
	return r
}

// ownGroup returns the group of /16 a0.a1 owned by generation gen, copying
// the nodes on the path to it that gen did not create.
func ownGroup[G any, PG generational[G]](r *radixRoot[G], a0, a1 uint8, gen uint64) *G {
	m := r[a0>>4]
	if m.gen != gen {
		m2 := *m
		m2.gen = gen
		m = &m2
		r[a0>>4] = m
	}
	c := m.c[a0&15]
	if c.gen != gen {
		c2 := *c
		c2.gen = gen
		c = &c2
		m.c[a0&15] = c
	}
	g := c.g[a1>>4]
	if *PG(g).generation() != gen {
		g2 := *g
		*PG(&g2).generation() = gen
		g = &g2
		c.g[a1>>4] = g
	}
	return g
}

// ... and group4 under a0 and a1>>4: the buckets of 16 /16s, by the
// address of their first word. Slice headers would make a group three times
// larger: 1.6 MiB of groups for a full table, a cache miss on every lookup,
// where 576 KiB mostly stay in L2.
type group4 struct {
	b   [16]*uint64 // never nil
	gen uint64
}

func (g *group4) generation() *uint64 { return &g.gen }

var (
	zeroBucket4 = (&bucketBuf{}).encode() // the uniform bucket of index 0 (no match)
	emptyGroup4 = func() *group4 {
		g := &group4{}
		for i := range g.b {
			g.b[i] = &zeroBucket4[0]
		}
		return g
	}()
	emptyRadix4 = emptyRadix(emptyGroup4)
	zeroShort4  = &[256]uint16{}
)

// fib4 is the compiled IPv4 index of a Table.
type fib4 struct {
	m radixRoot[group4] // by a0>>4; never nil
	// short4[a0] is the value index of the longest /0../8 covering a0.
	// A change copies it whole.
	short4 *[256]uint16
	// gen is the generation of the Txn that created it: as for nodes, only
	// that Txn may modify it (or the radix nodes of its generation) in place.
	// Buckets are never modified: a change encodes a new one.
	gen uint64
}

// bucket returns the bucket of /16 a0.a1.
func (f *fib4) bucket(a0, a1 uint8) []uint64 { return bucketSlice(f.bucketPtr(a0, a1)) }

// bucketPtr returns the address of the first word of the bucket of /16
// a0.a1.
func (f *fib4) bucketPtr(a0, a1 uint8) *uint64 { return f.m[a0>>4].c[a0&15].g[a1>>4].b[a1&15] }

// entry returns entry a[2] of bucket w, or of its sub-page for a[3].
func (f *fib4) entry(w []uint64, a [4]byte) uint16 { return entryAt(&w[0], a) }

// entryAt is entry for the bucket whose first word is at p. (Lookup4 has
// it inlined by hand.) Its reads are in bounds: see bucketAt.
func entryAt(p *uint64, a [4]byte) uint16 {
	o := a[2]
	k := o >> 6
	h := bucketAt(p, 4)
	r := int(uint8(h>>(8*k))) + bits.OnesCount64(bucketAt(p, int(k))&(2<<(o&63)-1)) - 1
	x := uint16(bucketAt(p, bucketHdr+r>>2) >> (16 * (r & 3)))
	if x&subFlag != 0 {
		i := bucketHdr + int(uint16(h>>32)) + 64*int(x&^subFlag) + int(a[3]>>2)
		x = uint16(bucketAt(p, i) >> (16 * (a[3] & 3)))
	}
	return x
}

// short returns x, or if it is 0 the /0../8 answer for first octet a0.
func (f *fib4) short(x uint16, a0 uint8) uint16 {
	s := f.short4[a0]
	if x == 0 {
		x = s
	}
	return x
}

// valCache remembers the value index of the last prefix looked up while
// filling entries: neighbouring entries are often covered by one prefix.
type valCache[V comparable] struct {
	n   *node[V]
	idx int
	x   uint16
}

// slotIndex returns the value index of the prefix at ART index idx of n.
func (tx *Txn[V]) slotIndex(n *node[V], idx int, c *valCache[V]) uint16 {
	if c.n == n && c.idx == idx {
		return c.x
	}
	x := tx.valIndex(n.vals[n.valSlot(idx)])
	*c = valCache[V]{n, idx, x}
	return x
}

// init4 makes the index of tx.t usable and owned by tx: a copy, or an empty
// index if there was none.
func (tx *Txn[V]) init4() {
	f := tx.t.f4
	switch {
	case f == nil:
		f = &fib4{m: emptyRadix4, short4: zeroShort4, gen: tx.gen}
	case f.gen != tx.gen:
		c := *f
		c.gen = tx.gen
		f = &c
	}
	tx.t.f4 = f
}

// update4 brings the index up to date after the IPv4 prefix of length l with
// address octets b changed in the trie.
func (tx *Txn[V]) update4(b *[16]byte, l int) {
	if tx.t.off4 > 0 || tx.rebuild4 || tx.overflow {
		return // the index is disabled, or rebuilt at Commit
	}
	if tx.changes4++; tx.changes4 > rebuild4After {
		tx.rebuild4 = true
		return
	}
	tx.init4()
	switch {
	case l <= 8:
		tx.fillShort4()
	case l <= 16:
		span := 1 << (16 - l)
		lo := int(b[1]) &^ (span - 1)
		for o := lo; o < lo+span; o++ {
			tx.fillBucket4(b[0], uint8(o), false)
		}
	default:
		lo, span := int(b[2]), 1
		if l <= 24 {
			span = 1 << (24 - l)
			lo &^= span - 1
		}
		tx.fillSpan4(b[0], b[1], lo, span)
	}
}

// fillShort4 recomputes short4 from the root.
func (tx *Txn[V]) fillShort4() {
	r := tx.t.root4
	var c valCache[V]
	tx.t.f4.short4 = new([256]uint16)
	for a0 := range 256 {
		x := uint16(0)
		if r != nil {
			if idx := lpmIndex(&r.pfx, uint8(a0)); idx > 0 {
				x = tx.slotIndex(r, idx, &c)
			}
		}
		tx.t.f4.short4[a0] = x
	}
}

// nodes4 returns the trie nodes of /16 a0.a1 at depths 1 and 2 (nil if
// absent) and the value index of the longest prefix /9../16 covering it.
func (tx *Txn[V]) nodes4(a0, a1 uint8) (n1, n2 *node[V], d uint16) {
	r := tx.t.root4
	if r == nil {
		return nil, nil, 0
	}
	if n1 = r.getChild(a0); n1 == nil {
		return nil, nil, 0
	}
	if idx := lpmIndex(&n1.pfx, a1); idx > 0 {
		d = tx.valIndex(n1.vals[n1.valSlot(idx)])
	}
	return n1, n1.getChild(a1), d
}

// group4 returns the group of /16 a0.a1, owned by tx, copying the nodes on
// the path to it that tx did not create.
func (tx *Txn[V]) group4(a0, a1 uint8) *group4 {
	return ownGroup(&tx.t.f4.m, a0, a1, tx.gen)
}

// setBucket4 makes b the bucket of /16 a0.a1.
func (tx *Txn[V]) setBucket4(a0, a1 uint8, b []uint64) {
	if tx.t.f4.bucketPtr(a0, a1) == &b[0] {
		return
	}
	tx.group4(a0, a1).b[a1&15] = &b[0]
}

// uniform4 returns the shared uniform bucket of value index x.
func (tx *Txn[V]) uniform4(x uint16) []uint64 {
	if x == 0 {
		return zeroBucket4
	}
	vt := tx.ownVals()
	u := vt.uni[x]
	if u == nil {
		var bb bucketBuf
		for i := range bb.e {
			bb.e[i] = x
		}
		u = bb.encode()
		vt.uni[x] = u
	}
	return u
}

// fillBucket4 recomputes the bucket of /16 a0.a1 after a change of a prefix
// /9../16 covering it: only the entries no prefix /17../24 covers, unless
// full.
func (tx *Txn[V]) fillBucket4(a0, a1 uint8, full bool) {
	_, n2, d := tx.nodes4(a0, a1)
	if n2 == nil {
		tx.setBucket4(a0, a1, tx.uniform4(d))
		return
	}
	bb := tx.buf4()
	if full {
		bb.e, bb.sub = [256]uint16{}, bb.sub[:0]
	} else {
		bb.decode(tx.t.f4.bucket(a0, a1))
	}
	var c valCache[V]
	for o := range 256 {
		if full || lpmIndex(&n2.pfx, uint8(o)) == 0 {
			tx.entry4(bb, n2, uint8(o), d, &c)
		}
	}
	tx.setBucket4(a0, a1, bb.encode())
}

// fillSpan4 recomputes entries lo..lo+span-1 of the bucket of /16 a0.a1
// after a change of a prefix /17../32 that covers exactly those.
func (tx *Txn[V]) fillSpan4(a0, a1 uint8, lo, span int) {
	_, n2, d := tx.nodes4(a0, a1)
	if n2 == nil {
		tx.setBucket4(a0, a1, tx.uniform4(d))
		return
	}
	// The current bucket is up to date but for this span; a uniform one
	// (n2 is new) too, since n2 holds nothing outside the span.
	w := tx.t.f4.bucket(a0, a1)
	if span == 1 && len(w) == bucketHdr+int(uint16(w[4]>>32)) && n2.getChild(uint8(lo)) == nil {
		// The common case, a /24 in a bucket without sub-pages: patch
		// the encoding rather than decode and encode 256 entries.
		x := d
		if idx := lpmIndex(&n2.pfx, uint8(lo)); idx > 0 {
			x = tx.valIndex(n2.vals[n2.valSlot(idx)])
		}
		var runs [256]uint16
		tx.setBucket4(a0, a1, setEntry(w, lo, x, &runs))
		return
	}
	bb := tx.buf4()
	bb.decode(w)
	var c valCache[V]
	for o := lo; o < lo+span; o++ {
		tx.entry4(bb, n2, uint8(o), d, &c)
	}
	tx.setBucket4(a0, a1, bb.encode())
}

// buf4 returns tx's bucket scratch.
func (tx *Txn[V]) buf4() *bucketBuf {
	if tx.bb4 == nil {
		tx.bb4 = new(bucketBuf)
	}
	return tx.bb4
}

// entry4 recomputes entry o of bb for the depth-2 node n2 and the /9../16
// value index d.
func (tx *Txn[V]) entry4(bb *bucketBuf, n2 *node[V], o uint8, d uint16, c *valCache[V]) {
	base := d
	if idx := lpmIndex(&n2.pfx, o); idx > 0 {
		base = tx.slotIndex(n2, idx, c)
	}
	old := bb.e[o]
	n3 := n2.getChild(o)
	if n3 == nil {
		bb.e[o] = base // a sub-page it had is dropped by encode
		return
	}
	s := len(bb.sub)
	if old&subFlag != 0 {
		s = int(old &^ subFlag)
	} else {
		bb.sub = append(bb.sub, [256]uint16{})
	}
	pg := &bb.sub[s]
	for o4 := range 256 {
		x := base
		if idx := lpmIndex(&n3.pfx, uint8(o4)); idx > 0 {
			x = tx.slotIndex(n3, idx, c)
		}
		pg[o4] = x
	}
	bb.e[o] = subFlag | uint16(s)
}

// buildIndex4 computes the whole IPv4 index from the trie. It reports
// false (and disables the index: Lookup4 then walks the trie) if the value
// indexes ran out.
func (tx *Txn[V]) buildIndex4() bool {
	tx.rebuild4, tx.changes4 = false, 0
	tx.t.f4, tx.t.off4 = nil, 0
	tx.init4()
	tx.fillShort4()
	if r := tx.t.root4; r != nil {
		for a0 := range 256 {
			n1 := r.getChild(uint8(a0))
			if n1 == nil {
				continue
			}
			for a1 := range 256 {
				if n1.getChild(uint8(a1)) != nil || lpmIndex(&n1.pfx, uint8(a1)) > 0 {
					tx.fillBucket4(uint8(a0), uint8(a1), true)
				}
			}
		}
	}
	if tx.overflow {
		tx.t.f4, tx.t.off4 = nil, max(1, tx.t.len4)
		return false
	}
	return true
}

// commitIndexes finishes both indexes for Commit. A rebuild of either
// starts from a fresh value table (dropping values no prefix uses any
// more), so it rebuilds both. A family whose distinct values do not fit
// in the indexes gets its index disabled, until a later Commit finds the
// family halved and tries again.
func (tx *Txn[V]) commitIndexes() {
	t := &tx.t
	if tx.overflow || tx.rebuild4 || tx.rebuild6 ||
		t.off4 > 0 && t.len4 <= t.off4/2 || t.off6 > 0 && t.len6 <= t.off6/2 {
		fresh := func() {
			tx.freshVals()
			tx.overflow = false
		}
		fresh()
		ok4 := tx.buildIndex4()
		if !ok4 {
			fresh()
		}
		if !tx.buildIndex6() && ok4 {
			fresh()
			tx.buildIndex4()
		}
	}
	tx.changes4, tx.changes6 = 0, 0
}

// lookup4Trie is Lookup4 by walking the trie, for a table whose index is
// disabled.
func (t *Table[V]) lookup4Trie(a [4]byte) (v V, ok bool) {
	n := t.root4
	for d := 0; d < 4 && n != nil; d++ {
		if idx := lpmIndex(&n.pfx, a[d]); idx > 0 {
			v, ok = n.vals[n.valSlot(idx)], true
		}
		n = n.getChild(a[d])
	}
	return v, ok
}
