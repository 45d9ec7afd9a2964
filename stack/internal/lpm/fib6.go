package lpm

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// The IPv6 lookup does not walk the trie either. A Table keeps a compiled
// IPv6 index beside the IPv4 one (fib4.go), made of the same run-length
// encoded buckets of uint16 value indexes (vals.go), but split by prefix
// length into levels:
//
//	level  key          entries by  sub-pages by  prefix lengths
//	A      /16 (radix)  octet 2     -             /9../24
//	B      /32 (hash)   octet 4     -             /25../40
//	C      /40 (hash)   octet 5     octet 6       /41../56
//	D      /56 (hash)   octet 7     octet 8       /57../72
//
// An entry of a level holds the longest prefix of the level's lengths that
// covers it (leaf-pushed within the level only), or 0. The answer is the
// entry of the deepest level that is not 0, else short6[a0] (/0../8).
//
// Beside its level-A bucket, a /16 has a bitmap of its 65536 /32s: bit K is
// set if some prefix of /25 or longer covers or lies in /32 K. A lookup
// reads the radix (hot: a few dozen /16s are in use on the Internet) and
// the bitmap word; only if the bit is set (the address is in a /32 that
// holds routes: rare for a random address) does it read level C, then
// level B only if C has no answer, and the level-A entry only if neither
// has. (Reading B and C side by side, for their cache misses to overlap,
// measured slower: most matching addresses are answered by C, and the
// second probe's instructions cost more than the overlap saved.) A key of
// B or C is present only if some prefix of its lengths (or, for C, longer)
// lies in it or covers it. A sub-page entry of C (D) with deepFlag
// set means longer prefixes exist below it: the lookup then reads D (walks
// the trie), which is rare: real and synthetic tables are mostly /32../48.
//
// Levels B and C share one hash table, D has its own; each is split by a
// hash of the key into 16384 segments (hmap6) of a dozen keys, so that a
// change copies little. Slots hold the buckets of one run of a value in a sea of
// another (most /40s hold one /44 or /48, most /32s one /32 or a few
// /36../40) inline; the other buckets follow the slots in the segment's
// memory. A lookup of a /48 thus costs a bitmap word (warm) and a slot
// line of one segment (and, for larger buckets, a line after it): one or
// two likely cache and TLB misses instead of a chain of up to 16 dependent
// nodes.
//
// Changes of a prefix recompute the buckets and bits it affects from the
// trie (see affected6), and store each in a copy of its segment patched in
// place (editSegment); a Txn with very many changes rebuilds the whole
// index at Commit.

const (
	// deepFlag, in a sub-page entry of level C or D, says that longer
	// prefixes exist below the entry: read the next level.
	deepFlag = 0x8000
	// inlineFlag marks a slot word that holds its bucket inline.
	inlineFlag = 1 << 63
	// missInline is the inline bucket of a missing key: all entries 0.
	missInline = inlineFlag
)

// rebuild6After is the number of IPv6 changes in one Txn after which the
// index is rebuilt at Commit instead of updated change by change (a
// variable for tests).
var rebuild6After = 1 << 14

// The level-A radix is fib4's (radixRoot), with a /32 bitmap beside each
// bucket in its groups.
type group6 struct {
	b   [16][]uint64 // never empty
	bm  [16]*bits6   // never nil
	gen uint64
}

func (g *group6) generation() *uint64 { return &g.gen }

// bits6 is the bitmap of the /32s of a /16 that hold prefixes /25+.
type bits6 struct {
	w   [1024]uint64
	gen uint64
}

var (
	zeroBits6   = &bits6{}
	emptyGroup6 = func() *group6 {
		g := &group6{}
		for i := range g.b {
			g.b[i], g.bm[i] = zeroBucket4, zeroBits6
		}
		return g
	}()
	emptyRadix6 = emptyRadix(emptyGroup6)
)

// A hash level is split into 16384 segments (1024 directory nodes of 16) by
// the top bits of a hash of the key (see hmap6.seg). Directory nodes are
// small because a change copies the one it touches (776 bytes). A segment is two
// slices of one allocation: tab, linear probing slots of two words (the
// key with bit 63 set, or 0 for an empty slot; then the bucket inline, or
// offset<<32 | length of the bucket in arena), at most 3/4 full so that
// probes always end (misses are rare: the bitmap filters them); and arena,
// the segment's other buckets end to end. A change copies the segment (a
// dozen keys, some hundred bytes) and the directory nodes above it, which is
// also what keeps old snapshots unchanged; a full build packs all segments
// into one allocation.
//
// An inline bucket is a word with inlineFlag set and, from bit 0, the
// octets lo and hi, then the uint16 values v and base: entries lo..hi are
// v, the others base.
type dir6 struct {
	tab   [segsPerDir][]uint64 // never empty
	arena [segsPerDir][]uint64
	gen   uint64 // as in fib4: only the Txn of this generation may modify it
}

// The directory is two levels of small nodes, so that a change copies
// under 1 KiB of them: the top bits of a hash choose a dirMid6 in the
// hmap6, the next a dir6 in it (the two make the directory node number
// di), the next a segment in that.
const (
	topBits    = 6
	midBits    = 4
	dirBits    = topBits + midBits
	segBits    = 4
	segsPerDir = 1 << segBits
	numDirs    = 1 << dirBits
	numSegs    = 1 << (dirBits + segBits)
)

// dirMid6 holds 16 directory nodes.
type dirMid6 struct {
	d   [1 << midBits]*dir6 // never nil
	gen uint64
}

// segOf splits segment hash h into directory node and segment numbers.
func segOf(h uint64) (di, si uint64) {
	return h >> (64 - dirBits), h >> (64 - dirBits - segBits) & (segsPerDir - 1)
}

// dir returns directory node di.
func (m *hmap6) dir(di uint64) *dir6 { return m.d[di>>midBits].d[di&(1<<midBits-1)] }

// ownDir returns directory node di, owned by gen: copied, and its dirMid6
// with it, if gen did not create it.
func (m *hmap6) ownDir(gen, di uint64) *dir6 {
	mid := m.d[di>>midBits]
	if mid.gen != gen {
		c := *mid
		c.gen = gen
		mid = &c
		m.d[di>>midBits] = mid
	}
	d := mid.d[di&(1<<midBits-1)]
	if d.gen != gen {
		c := *d
		c.gen = gen
		d = &c
		mid.d[di&(1<<midBits-1)] = d
	}
	return d
}

// hmap6 maps the keys of one level to their buckets.
type hmap6 struct {
	d [1 << topBits]*dirMid6 // never nil
	// pend, during a full build, collects the buckets to lay out at the end
	// (building is true then).
	pend     []slot6
	building bool
}

// bucket6 is a bucket being stored: inline if inl != 0, else w.
type bucket6 struct {
	w   []uint64
	inl uint64
}

var (
	emptyTab6 = make([]uint64, 2)
	emptyDir6 = func() *dir6 {
		d := &dir6{}
		for i := range d.tab {
			d.tab[i] = emptyTab6
		}
		return d
	}()
	emptyMid6 = func() *dirMid6 {
		m := &dirMid6{}
		for i := range m.d {
			m.d[i] = emptyDir6
		}
		return m
	}()
)

func hash6(k uint64) uint64 { return k * 0x9e3779b97f4a7c15 }

// markB marks the keys of level B (a /32 k as markB | k<<8) in the table
// they share with level C (a /40 k as k).
const markB = 1 << 56

// seg returns the hash that chooses the segment of key k.
func (m *hmap6) seg(k uint64) uint64 { return hash6(k) }

// probe6 is a probe of a hash level in progress.
type probe6 struct {
	tab   []uint64
	arena []uint64
	want  uint64 // the key with bit 63 set
	i     int    // the slot to look at
	x0    uint64 // tab[2*i], loaded
}

// start begins the probe for key k, short of loading the first slot.
func (m *hmap6) start(k uint64) probe6 {
	tab, arena := m.segment(k)
	return probe6{tab: tab, arena: arena, want: k | 1<<63, i: slotOf(k, tab)}
}

// finish returns the bucket the probe p finds (missInline if none), p.x0
// being loaded.
func (p *probe6) finish() (w []uint64, inl uint64) {
	return findSlot(p.tab, p.arena, p.want, p.i, p.x0)
}

// findSlot returns the bucket of the key want (with bit 63 set) in the
// segment tab, arena, probing from slot i, whose key word x is loaded
// already; missInline if it is absent. Lookup6 calls it with scalars, not
// a probe6: building and copying that struct on the stack cost a failed
// store-to-load forward per field on the hot path. (The batch lookup keeps
// probe6s in arrays, which it builds in place.)
func findSlot(tab, arena []uint64, want uint64, i int, x uint64) (w []uint64, inl uint64) {
	mask := len(tab)/2 - 1
	for {
		if x == want {
			y := tab[2*i+1]
			if y&inlineFlag != 0 {
				return nil, y
			}
			return arena[y>>32:], 0
		}
		if x == 0 {
			return nil, missInline
		}
		i = (i + 1) & mask
		x = tab[2*i]
	}
}

// segment returns the slots and arena of the segment of key k.
func (m *hmap6) segment(k uint64) (tab, arena []uint64) {
	di, si := segOf(m.seg(k))
	d := m.dir(di)
	return d.tab[si], d.arena[si]
}

// slotOf returns the first slot to probe for key k in a segment of tab.
func slotOf(k uint64, tab []uint64) int { return int(hash6(k)>>20) & (len(tab)/2 - 1) }

// get returns the bucket of key k (missInline if absent).
func (m *hmap6) get(k uint64) (w []uint64, inl uint64) {
	tab, arena := m.segment(k)
	i := slotOf(k, tab)
	return findSlot(tab, arena, k|1<<63, i, tab[2*i])
}

// inlineEntry returns entry o of inline bucket x.
func inlineEntry(x uint64, o uint8) uint16 {
	lo, hi := uint8(x), uint8(x>>8)
	if o-lo <= hi-lo {
		return uint16(x >> 16)
	}
	return uint16(x >> 32)
}

// entry6 returns entry o (sub-page entry o2) of bucket w or inl.
func entry6(w []uint64, inl uint64, o, o2 uint8) uint16 {
	if inl != 0 {
		return inlineEntry(inl, o)
	}
	return subEntry6(w, o, o2)
}

// slot6 is a key and its bucket.
type slot6 struct {
	k uint64
	b bucket6
}

// segSize returns the number of slots of a segment of n keys: a power of
// two, at most 3/4 full.
func segSize(n int) int {
	size := 2
	for size*3 < 4*n {
		size *= 2
	}
	return size
}

// segWords returns the size in slots and the words of the segment of es.
func segWords(es []slot6) (size, words int) {
	size = segSize(len(es))
	words = 2 * size
	for _, e := range es {
		words += len(e.b.w)
	}
	return size, words
}

// place stores key k with bucket w or inl in the slots tab (of a segment
// being laid out), appending w to arena.
func place(tab, arena []uint64, k uint64, w []uint64, inl uint64) []uint64 {
	mask := len(tab)/2 - 1
	i := slotOf(k, tab)
	for tab[2*i] != 0 {
		i = (i + 1) & mask
	}
	tab[2*i] = k | 1<<63
	if inl != 0 {
		tab[2*i+1] = inl
		return arena
	}
	tab[2*i+1] = uint64(len(arena))<<32 | uint64(len(w))
	return append(arena, w...)
}

// buildSeg6 lays out the segment of the keys es in buf (it must hold
// segWords words): the slots and then the arena, so that they share pages.
func buildSeg6(es []slot6, buf []uint64) (tab, arena []uint64) {
	if len(es) == 0 {
		return emptyTab6, nil
	}
	size, words := segWords(es)
	tab = buf[: 2*size : 2*size]
	arena = buf[2*size : 2*size : words]
	for _, e := range es {
		arena = place(tab, arena, e.k, e.b.w, e.b.inl)
	}
	if len(arena) == 0 {
		arena = nil
	}
	return tab, arena
}

// editSegment returns segment tab, arena as it is to be with key k's
// bucket b, or without k if b is the missing bucket: a copy, or tab and
// arena themselves if k is absent and to be deleted. A route change edits
// one key of a segment of a dozen or so: copying the segment and
// patching it (a bucket that does not fit where the old one was goes at
// the end of the arena; a deleted key's slot is refilled by backward
// shifting) costs a memmove where laying it out anew rehashes every key.
// ok is false when the slots would be too full, or four times more than
// the keys need, or the arena too sparse: the segment is then to be laid
// out anew.
func editSegment(tab, arena []uint64, k uint64, b bucket6) (ntab, narena []uint64, ok bool) {
	n, live, at := 0, 0, -1
	for j := 0; j < len(tab); j += 2 {
		switch {
		case tab[j] == 0:
		case tab[j] == k|1<<63:
			at = j / 2
		default:
			n++
			if y := tab[j+1]; y&inlineFlag == 0 {
				live += int(y & (1<<32 - 1))
			}
		}
	}
	del := b.inl == missInline
	if del && at < 0 {
		return tab, arena, true // nothing to delete
	}
	if !del {
		n++
		live += len(b.w)
	}
	if size := len(tab) / 2; n == 0 || segSize(n) > size || 4*segSize(n) < size {
		return nil, nil, false
	}
	var old uint64
	if at >= 0 {
		old = tab[2*at+1]
	}
	sameLen := at >= 0 && b.inl == 0 && old&inlineFlag == 0 && int(old&(1<<32-1)) == len(b.w)
	extra := 0
	if b.inl == 0 && !sameLen {
		extra = len(b.w)
	}
	if tooSparse(len(arena)+extra, live) {
		return nil, nil, false
	}
	buf := make([]uint64, len(tab)+len(arena)+extra)
	ntab = buf[:len(tab):len(tab)]
	narena = buf[len(tab) : len(tab)+len(arena) : len(buf)]
	copy(ntab, tab)
	copy(narena, arena)
	switch {
	case at < 0:
		narena = place(ntab, narena, k, b.w, b.inl)
	case del:
		unplace(ntab, at)
	case b.inl != 0:
		ntab[2*at+1] = b.inl
	case sameLen:
		copy(narena[old>>32:], b.w)
	default:
		ntab[2*at+1] = uint64(len(narena))<<32 | uint64(len(b.w))
		narena = append(narena, b.w...)
	}
	if len(narena) == 0 {
		narena = nil
	}
	return ntab, narena, true
}

// unplace empties slot i of tab, moving later keys of its probe run back
// so that every key stays reachable from its home slot (backward-shift
// deletion for linear probing).
func unplace(tab []uint64, i int) {
	mask := len(tab)/2 - 1
	for j := i; ; {
		tab[2*i], tab[2*i+1] = 0, 0
		for {
			j = (j + 1) & mask
			if tab[2*j] == 0 {
				return
			}
			// The key at j may move to i if its home slot is not in
			// (i, j] (cyclically).
			home := slotOf(tab[2*j]&^(1<<63), tab)
			if (j-home)&mask >= (j-i)&mask {
				break
			}
		}
		tab[2*i], tab[2*i+1] = tab[2*j], tab[2*j+1]
		i = j
	}
}

// tooSparse says whether an arena of n words of which live are in use has
// too many dead words to keep.
func tooSparse(n, live int) bool { return n > 2*live+64 }

// resegment returns segment tab, arena laid out anew with key k's bucket
// b, or without k if b is the missing bucket. It reads the
// old segment directly rather than through a []slot6, whose pointers cost
// write barriers and garbage on every route change.
func resegment(tab, arena []uint64, k uint64, b bucket6) (ntab, narena []uint64) {
	n, words := 0, 0
	for i := 0; i < len(tab); i += 2 {
		if tab[i] != 0 && tab[i]&^(1<<63) != k {
			n++
			if y := tab[i+1]; y&inlineFlag == 0 {
				words += int(y & (1<<32 - 1))
			}
		}
	}
	add := b.inl != missInline
	if add {
		n++
		words += len(b.w)
	}
	if n == 0 {
		return emptyTab6, nil
	}
	size := segSize(n)
	buf := make([]uint64, 2*size+words)
	ntab = buf[: 2*size : 2*size]
	narena = buf[2*size : 2*size : len(buf)]
	for i := 0; i < len(tab); i += 2 {
		if tab[i] == 0 || tab[i]&^(1<<63) == k {
			continue
		}
		y := tab[i+1]
		if y&inlineFlag != 0 {
			narena = place(ntab, narena, tab[i]&^(1<<63), nil, y)
			continue
		}
		off, ln := y>>32, y&(1<<32-1)
		narena = place(ntab, narena, tab[i]&^(1<<63), arena[off:off+ln], 0)
	}
	if add {
		narena = place(ntab, narena, k, b.w, b.inl)
	}
	if len(narena) == 0 {
		narena = nil
	}
	return ntab, narena
}

// put makes b the bucket of key k (removing k if b is all zero): in a copy
// of its segment, patched (editSegment) or laid out anew (resegment), in
// copies of the directory nodes above it that gen does not own.
func (m *hmap6) put(gen uint64, k uint64, b bucket6) {
	zero := b.inl == missInline
	if m.building {
		if !zero {
			m.pend = append(m.pend, slot6{k, b})
		}
		return
	}
	w, inl := m.get(k)
	if zero && inl == missInline || b.inl != 0 && inl == b.inl ||
		b.inl == 0 && len(w) == len(b.w) && len(w) > 0 && &w[0] == &b.w[0] {
		return
	}
	di, si := segOf(m.seg(k))
	d := m.ownDir(gen, di)
	if tab, arena, ok := editSegment(d.tab[si], d.arena[si], k, b); ok {
		d.tab[si], d.arena[si] = tab, arena
		return
	}
	d.tab[si], d.arena[si] = resegment(d.tab[si], d.arena[si], k, b)
}

// flush lays out the buckets collected by a full build.
func (m *hmap6) flush(gen uint64) {
	segs := make([][]slot6, numSegs)
	for _, e := range m.pend {
		di, si := segOf(m.seg(e.k))
		segs[di<<segBits|si] = append(segs[di<<segBits|si], e)
	}
	m.pend, m.building = nil, false
	// One allocation for all segments: packed, in as few pages as can be.
	total := 0
	for _, es := range segs {
		if len(es) > 0 {
			_, n := segWords(es)
			total += n
		}
	}
	slab := make([]uint64, total)
	for i := range m.d {
		m.d[i] = &dirMid6{gen: gen}
	}
	for di := range uint64(numDirs) {
		d := &dir6{gen: gen}
		for si := range d.tab {
			es := segs[di<<segBits|uint64(si)]
			var buf []uint64
			if len(es) > 0 {
				_, n := segWords(es)
				buf, slab = slab[:n:n], slab[n:]
			}
			d.tab[si], d.arena[si] = buildSeg6(es, buf)
		}
		m.d[di>>midBits].d[di&(1<<midBits-1)] = d
	}
}

// fib6 is the compiled IPv6 index of a Table.
type fib6 struct {
	// rad holds the level-A buckets and /32 bitmaps, by /16.
	rad radixRoot[group6]
	// hbc holds levels B and C, h56 level D (the top of their directories:
	// 1 KiB that a Txn copies with the fib6).
	hbc, h56 hmap6
	// short6[a0] is the value index of the longest /0../8 covering a0.
	short6 *[256]uint16
	gen    uint64
}

// group returns the radix group that holds /16 a0.a1 (at a1&15).
func (f *fib6) group(a0, a1 uint8) *group6 { return f.rad[a0>>4].c[a0&15].g[a1>>4] }

// runEntry returns entry o of bucket w (a sub-page reference as is).
func runEntry(w []uint64, o uint8) uint16 {
	k := o >> 6
	r := int(uint8(w[4]>>(8*k))) + bits.OnesCount64(w[k&3]&(2<<(o&63)-1)) - 1
	return uint16(w[bucketHdr+r>>2] >> (16 * (r & 3)))
}

// subEntry6 returns entry o of bucket w, or of its sub-page for o2.
func subEntry6(w []uint64, o, o2 uint8) uint16 {
	x := runEntry(w, o)
	if x&subFlag != 0 {
		x = runEntry(w[x&^subFlag:], o2)
	}
	return x
}

// Buckets of levels C and D are encoded as those of fib4 (bucketHdr), but
// a sub-page is run-length encoded too, as a bucket of its own placed after
// the values, and the entry that refers to it holds subFlag | its word
// offset from the start of the bucket (a bucket is well under 32768 words).
// Most sub-pages hold a single longer prefix: a few runs, not 64 words.

// encodeFlat encodes the entries e, subFlag and all, as values, in a
// bucket with extra words at the end.
func encodeFlat(e *[256]uint16, extra int) []uint64 {
	var bm [4]uint64
	runs := 0
	prev := ^uint32(0)
	for o, x := range e {
		if uint32(x) != prev {
			bm[o>>6] |= 1 << (o & 63)
			runs++
		}
		prev = uint32(x)
	}
	nv := (runs + 3) / 4
	w := make([]uint64, bucketHdr+nv+extra)
	copy(w, bm[:])
	r := 0
	for k := range 4 {
		w[4] |= uint64(r) << (8 * k)
		r += bits.OnesCount64(bm[k])
	}
	w[4] |= uint64(nv) << 32
	vw := w[bucketHdr : bucketHdr+nv]
	r = 0
	for k, m := range bm {
		for ; m != 0; m &= m - 1 {
			vw[r>>2] |= uint64(e[k<<6|bits.TrailingZeros64(m)]) << (16 * (r & 3))
			r++
		}
	}
	return w
}

// encode6 encodes bb, whose entries with subFlag hold sub-page numbers,
// with run-length encoded sub-pages.
func (bb *bucketBuf) encode6() []uint64 {
	if len(bb.sub) == 0 {
		return encodeFlat(&bb.e, 0)
	}
	e := bb.e
	runs := 0
	prev := ^uint32(0)
	for _, x := range e {
		if uint32(x) != prev {
			runs++
		}
		prev = uint32(x)
	}
	subs := make([][]uint64, len(bb.sub))
	off := bucketHdr + (runs+3)/4
	for o, x := range e {
		if x&subFlag != 0 {
			s := x &^ subFlag
			subs[s] = encodeFlat(&bb.sub[s], 0)
			e[o] = subFlag | uint16(off)
			off += len(subs[s])
		}
	}
	w := encodeFlat(&e, off-bucketHdr-(runs+3)/4)
	off = bucketHdr + (runs+3)/4
	for _, x := range bb.e {
		if x&subFlag != 0 {
			off += copy(w[off:], subs[x&^subFlag])
		}
	}
	return w
}

// Lookup6 returns the value of the longest IPv6 prefix containing a.
// It reads the compiled index described above, not the trie.
func (t *Table[V]) Lookup6(a [16]byte) (v V, ok bool) {
	if t == nil {
		return v, false
	}
	if s := t.small6; s != nil {
		hi, lo := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
		for i := range s {
			if hi&s[i].mhi == s[i].hi && lo&s[i].mlo == s[i].lo {
				return s[i].v, true
			}
		}
		return v, false
	}
	f := t.f6
	if f == nil {
		return t.lookup6Trie(a)
	}
	g := f.group(a[0], a[1])
	k := uint(a[2])<<8 | uint(a[3])
	bit := g.bm[a[1]&15].w[k>>6] >> (k & 63) & 1
	var x uint16
	if bit != 0 {
		x = t.lookup6Hash(&a)
	}
	if x == 0 {
		// Level A is read only when the deeper levels have no answer.
		x = runEntry(g.b[a[1]&15], a[2])
	}
	s := f.short6[a[0]]
	if x == 0 {
		x = s
	}
	if x == deepFlag {
		return t.lookup6Trie(a)
	}
	return t.vals[x], x != 0
}

// lookup6Hash returns the value index for a, whose /32 holds prefixes /25+,
// from levels B and C (and D); 0 if they have none, deepFlag if the trie
// must answer.
func (t *Table[V]) lookup6Hash(a *[16]byte) uint16 {
	f := t.f6
	hi := binary.BigEndian.Uint64(a[:8])
	kC := hi >> 24
	wC, iC := f.hbc.get(kC)
	if x := t.pickCD(a, wC, iC); x != 0 {
		return x
	}
	wB, iB := f.hbc.get(markB | hi>>32<<8)
	return entry6(wB, iB, a[4], 0)
}

// pick6 is lookup6Hash given the buckets of levels B and C (the batch
// lookup reads both side by side).
func (t *Table[V]) pick6(a *[16]byte, wB []uint64, iB uint64, wC []uint64, iC uint64) uint16 {
	if x := t.pickCD(a, wC, iC); x != 0 {
		return x
	}
	return entry6(wB, iB, a[4], 0)
}

// pickCD returns the answer of levels C and D for a, given its level-C
// bucket: 0 if they have none, deepFlag if the trie must answer.
func (t *Table[V]) pickCD(a *[16]byte, wC []uint64, iC uint64) uint16 {
	xC := entry6(wC, iC, a[5], a[6])
	if xC&deepFlag != 0 {
		wD, iD := t.f6.h56.get(binary.BigEndian.Uint64(a[:8]) >> 8)
		xD := entry6(wD, iD, a[7], a[8])
		if xD&deepFlag != 0 {
			return deepFlag // the trie answers
		}
		if xD != 0 {
			return xD
		}
		xC &^= deepFlag
	}
	return xC
}

// init6 makes the index of tx.t usable and owned by tx.
func (tx *Txn[V]) init6() {
	tx.ownVals() // vals[0] must exist for lookups
	f := tx.t.f6
	switch {
	case f == nil:
		f = &fib6{rad: emptyRadix6, short6: zeroShort4, gen: tx.gen}
		for _, m := range []*hmap6{&f.hbc, &f.h56} {
			for i := range m.d {
				m.d[i] = emptyMid6
			}
		}
	case f.gen != tx.gen:
		c := *f
		c.gen = tx.gen
		f = &c
	}
	tx.t.f6 = f
}

// update6 brings the index up to date after the IPv6 prefix of length l
// with address b changed in the trie.
func (tx *Txn[V]) update6(b *[16]byte, l int) {
	if tx.t.off6 > 0 || tx.rebuild6 || tx.overflow {
		return
	}
	if tx.changes6++; tx.changes6 > rebuild6After {
		tx.rebuild6 = true
		return
	}
	tx.init6()
	tx.affected6(b, l, func(lv int, k uint64) { tx.fill6(lv, k) })
}

// The levels, and their parameters: key length in octets, shortest prefix
// length, whether entries have sub-pages.
const (
	levA = iota
	levB
	levC
	levD
	levShort // short6
	levBit   // the bit of a /32 (key) in its /16's bitmap
)

var levels6 = [...]struct {
	k, lo int
	subs  bool
}{levA: {2, 9, false}, levB: {4, 25, false}, levC: {5, 41, true}, levD: {7, 57, true}}

// affected6 calls fn for every level and key whose bucket (or bit) depends
// on the prefix of length l with address b (masked).
func (tx *Txn[V]) affected6(b *[16]byte, l int, fn func(lv int, k uint64)) {
	hi := binary.BigEndian.Uint64(b[:8])
	span := func(lv, kb int) {
		k := hi >> (64 - kb)
		n := uint64(1)
		if l < kb {
			n = 1 << (kb - l)
		}
		for i := range n {
			fn(lv, k+i) // k has its low kb-l bits clear: b is masked
		}
	}
	switch {
	case l <= 8:
		fn(levShort, 0)
	case l <= 24:
		span(levA, 16)
	case l <= 40:
		span(levB, 32)
		span(levBit, 32)
	case l <= 56:
		span(levC, 40)
		span(levBit, 32)
	default:
		span(levC, 40) // its deep flags
		span(levD, 56)
		span(levBit, 32)
	}
}

// fill6 recomputes the bucket (or bit) of key k of level lv.
func (tx *Txn[V]) fill6(lv int, k uint64) {
	f := tx.t.f6
	switch lv {
	case levShort:
		tx.fillShort6()
		return
	case levBit:
		tx.fillBit6(k)
		return
	}
	L := levels6[lv]
	var a [16]byte
	binary.BigEndian.PutUint64(a[:8], k<<(64-8*L.k))
	b := tx.makeBucket6(a, L.k, L.lo, L.subs)
	switch lv {
	case levA:
		a0, a1 := a[0], a[1]
		w := b.w
		switch {
		case b.inl == missInline:
			w = zeroBucket4
		case b.inl != 0 && uint8(b.inl) == 0 && uint8(b.inl>>8) == 255:
			w = tx.uniform4(uint16(b.inl >> 16))
		case b.inl != 0:
			w = encodeInline(b.inl)
		}
		if old := f.group(a0, a1).b[a1&15]; &old[0] == &w[0] {
			return
		}
		tx.group6(a0, a1).b[a1&15] = w
	case levB:
		f.hbc.put(tx.gen, markB|k<<8, b)
	case levC:
		f.hbc.put(tx.gen, k, b)
	case levD:
		f.h56.put(tx.gen, k, b)
	}
}

// encodeInline returns the run-length encoding of inline bucket x.
func encodeInline(x uint64) []uint64 {
	var e [256]uint16
	for o := range e {
		e[o] = inlineEntry(x, uint8(o))
	}
	return encodeFlat(&e, 0)
}

// fillBit6 recomputes the bit of /32 k in its /16's bitmap: set if a
// prefix /25+ covers or lies in it.
func (tx *Txn[V]) fillBit6(k uint64) {
	var a [16]byte
	binary.BigEndian.PutUint32(a[:4], uint32(k))
	var c valCache[V]
	n, base := tx.keyWalk6(&a, 4, 25, &c)
	var want uint64
	if n != nil || base != 0 {
		want = 1
	}
	a0, a1, i := a[0], a[1], uint(k&0xffff)
	bm := tx.t.f6.group(a0, a1).bm[a1&15]
	if bm.w[i>>6]>>(i&63)&1 == want {
		return
	}
	g := tx.group6(a0, a1)
	if bm.gen != tx.gen {
		c := *bm
		c.gen = tx.gen
		bm = &c
		g.bm[a1&15] = bm
	}
	bm.w[i>>6] ^= 1 << (i & 63)
}

// group6 returns the group of /16 a0.a1, owned by tx, copying the nodes on
// the path to it that tx did not create.
func (tx *Txn[V]) group6(a0, a1 uint8) *group6 {
	return ownGroup(&tx.t.f6.rad, a0, a1, tx.gen)
}

// fillShort6 recomputes short6 from the root.
func (tx *Txn[V]) fillShort6() {
	r := tx.t.root6
	var c valCache[V]
	s := new([256]uint16)
	for a0 := range 256 {
		if r != nil {
			if idx := lpmIndex(&r.pfx, uint8(a0)); idx > 0 {
				s[a0] = tx.slotIndex(r, idx, &c)
			}
		}
	}
	tx.t.f6.short6 = s
}

// keyWalk6 follows the first k octets of a from the root and returns what
// is below them (a node or leaf at depth k, or nil) and the value index of
// the longest prefix of length lo..8k covering them.
func (tx *Txn[V]) keyWalk6(a *[16]byte, k, lo int, c *valCache[V]) (*node[V], uint16) {
	n := tx.t.root6
	var base uint16
	for d := 0; d < k; d++ {
		if n == nil {
			return nil, base
		}
		if n.leaf != 0 {
			break
		}
		if 8*d+1 >= lo {
			if idx := lpmIndex(&n.pfx, a[d]); idx > 0 {
				base = tx.slotIndex(n, idx, c)
			}
		}
		n = n.getChild(a[d])
	}
	if n == nil || n.leaf == 0 {
		return n, base
	}
	// A leaf: its prefix is longer than the depth it sits at, and shares
	// the octets of the path to it.
	l := n.leafBits()
	if l <= 8*k {
		if l >= lo && n.leafContains(a) {
			base = tx.valIndex(n.lv)
		}
		return nil, base
	}
	la := n.leafAddr()
	if string(la[:k]) != string(a[:k]) {
		return nil, base
	}
	return n, base
}

// makeBucket6 computes the bucket of the level with key a[:k] and prefix
// lengths from lo (to 8k+8, or 8k+16 with sub-pages): inline if it can be.
func (tx *Txn[V]) makeBucket6(a [16]byte, k, lo int, subs bool) bucket6 {
	var c valCache[V]
	n, base := tx.keyWalk6(&a, k, lo, &c)
	if n == nil {
		return bucket6{inl: mkInline(0, 255, base, base)}
	}
	bb := tx.buf4()
	bb.sub = bb.sub[:0]
	tx.paint6(n, k, base, &bb.e)
	if subs {
		forKids6(n, k, func(o uint8, ch *node[V]) {
			bb.sub = append(bb.sub, [256]uint16{})
			pg := &bb.sub[len(bb.sub)-1]
			tx.paint6(ch, k+1, bb.e[o], pg)
			forKids6(ch, k+1, func(o2 uint8, _ *node[V]) { pg[o2] |= deepFlag })
			bb.e[o] = subFlag | uint16(len(bb.sub)-1)
		})
	}
	if len(bb.sub) == 0 {
		if x, ok := inline6(&bb.e); ok {
			return bucket6{inl: x}
		}
	}
	return bucket6{w: bb.encode6()}
}

// paint6 sets e to the entries below n (a node or leaf at depth d): base,
// overwritten by the prefixes of n that cover them, shorter first.
func (tx *Txn[V]) paint6(n *node[V], d int, base uint16, e *[256]uint16) {
	fill(e[:], base)
	if n.leaf != 0 {
		if l := n.leafBits(); l <= 8*(d+1) {
			rl := l - 8*d
			start := int(n.leafAddr()[d]) &^ (1<<(8-rl) - 1)
			fill(e[start:start+1<<(8-rl)], tx.valIndex(n.lv))
		}
		return
	}
	// ART indexes grow with the length: shorter prefixes come first.
	r := 0
	for w, m := range n.pfx {
		for ; m != 0; m &= m - 1 {
			idx := w<<6 | bits.TrailingZeros64(m)
			rl := bits.Len(uint(idx)) - 1
			start := (idx - 1<<rl) << (8 - rl)
			fill(e[start:start+1<<(8-rl)], tx.valIndex(n.vals[r]))
			r++
		}
	}
}

// forKids6 calls fn for every octet o below which n (a node or leaf at
// depth d) holds longer prefixes, with what is below it.
func forKids6[V any](n *node[V], d int, fn func(o uint8, ch *node[V])) {
	if n.leaf != 0 {
		if n.leafBits() > 8*(d+1) {
			fn(n.leafAddr()[d], n)
		}
		return
	}
	r := 0
	for w, m := range n.kids {
		for ; m != 0; m &= m - 1 {
			fn(uint8(w<<6|bits.TrailingZeros64(m)), n.child[r])
			r++
		}
	}
}

// inline6 returns the inline form of entries e, if they are one run of a
// value in a sea of another.
func inline6(e *[256]uint16) (uint64, bool) {
	base := e[0]
	lo := 0
	for lo < 256 && e[lo] == base {
		lo++
	}
	if lo == 256 {
		return mkInline(0, 255, base, base), true
	}
	v := e[lo]
	hi := lo
	for hi+1 < 256 && e[hi+1] == v {
		hi++
	}
	for o := hi + 1; o < 256; o++ {
		if e[o] != base {
			return 0, false
		}
	}
	return mkInline(lo, hi, v, base), true
}

// mkInline returns the inline bucket with entries lo..hi v, the others
// base, in its canonical form.
func mkInline(lo, hi int, v, base uint16) uint64 {
	switch {
	case v == 0 && base == 0:
		return missInline
	case v == base:
		lo, hi = 0, 255
	}
	return inlineFlag | uint64(lo) | uint64(hi)<<8 | uint64(v)<<16 | uint64(base)<<32
}

// eachPrefix6 calls fn with the (masked) address and length of every
// prefix below n, a node at depth d; b holds the octets of the path to n.
func eachPrefix6[V any](n *node[V], d int, b *[16]byte, fn func(a *[16]byte, l int)) {
	for w, m := range n.pfx {
		for ; m != 0; m &= m - 1 {
			idx := w<<6 | bits.TrailingZeros64(m)
			rl := bits.Len(uint(idx)) - 1
			var a [16]byte
			copy(a[:d], b[:d])
			a[d] = uint8((idx - 1<<rl) << (8 - rl))
			fn(&a, 8*d+rl)
		}
	}
	r := 0
	for w, m := range n.kids {
		for ; m != 0; m &= m - 1 {
			c := n.child[r]
			r++
			if c.leaf != 0 {
				a := c.leafAddr()
				fn(&a, c.leafBits())
				continue
			}
			b[d] = uint8(w<<6 | bits.TrailingZeros64(m))
			eachPrefix6(c, d+1, b, fn)
		}
	}
}

// buildIndex6 computes the whole IPv6 index from the trie. It reports
// false (and disables the index: Lookup6 then walks the trie) if the value
// indexes ran out.
func (tx *Txn[V]) buildIndex6() bool {
	tx.rebuild6, tx.changes6 = false, 0
	tx.t.f6, tx.t.off6 = nil, 0
	tx.init6()
	f := tx.t.f6
	hs := []*hmap6{&f.hbc, &f.h56}
	for _, m := range hs {
		m.building = true
	}
	tx.fillShort6()
	if r := tx.t.root6; r != nil {
		// The keys each level needs, sorted (the trie walks that fill
		// them then follow each other) and without duplicates.
		var keys [levBit + 1][]uint64
		var b [16]byte
		eachPrefix6(r, 0, &b, func(a *[16]byte, l int) {
			tx.affected6(a, l, func(lv int, k uint64) { keys[lv] = append(keys[lv], k) })
		})
		for lv, ks := range keys {
			if lv != levShort {
				slices.Sort(ks)
				for _, k := range slices.Compact(ks) {
					tx.fill6(lv, k)
				}
			}
		}
	}
	for _, m := range hs {
		m.flush(tx.gen)
	}
	if tx.overflow {
		tx.t.f6, tx.t.off6 = nil, max(1, tx.t.len6)
		return false
	}
	return true
}
