package lpm

import "encoding/binary"

// batchChunk is how many lookups a batch lookup runs side by side. A lookup
// in a full table is a chain of dependent cache misses (index entry or node,
// then node, then its values); running the chains of 16 addresses level by
// level lets the CPU keep up to 16 misses in flight instead of one, which is
// where the batch forms get their speed. 16 fits the path arrays in 2 KiB of
// stack for IPv6 and is well under the 22+ outstanding L1 misses of current
// x86 cores.
const batchChunk = 16

// Lookup4Batch sets out[i] to the value of the longest IPv4 prefix containing
// dst[i] (the zero V if none). It returns the same answers as Lookup4 but
// overlaps the memory accesses of up to 16 lookups. len(out) must be at least
// len(dst).
func (t *Table[V]) Lookup4Batch(dst [][4]byte, out []V) {
	out = out[:len(dst)]
	for len(dst) > 0 {
		k := min(len(dst), batchChunk)
		t.lookup4Chunk(dst[:k], out[:k])
		dst, out = dst[k:], out[k:]
	}
}

func (t *Table[V]) lookup4Chunk(dst [][4]byte, out []V) {
	dst = dst[:min(len(dst), batchChunk)]
	out = out[:len(dst)]
	if t == nil || t.f4 == nil || t.small4 != nil {
		for i, a := range dst {
			out[i], _ = t.Lookup4(a)
		}
		return
	}
	// The buckets first, then their entries, then the values: the loads of
	// each step are independent across addresses.
	var bk [batchChunk]*uint64
	var x [batchChunk]uint16
	f := t.f4
	for i, a := range dst {
		bk[i] = f.bucketPtr(a[0], a[1])
	}
	for i, a := range dst {
		x[i] = entryAt(bk[i], a)
	}
	for i, a := range dst {
		out[i] = t.vals[f.short(x[i], a[0])]
	}
}

// Lookup6Batch is Lookup4Batch for IPv6.
func (t *Table[V]) Lookup6Batch(dst [][16]byte, out []V) {
	out = out[:len(dst)]
	for len(dst) > 0 {
		k := min(len(dst), batchChunk)
		t.lookup6Chunk(dst[:k], out[:k])
		dst, out = dst[k:], out[k:]
	}
}

func (t *Table[V]) lookup6Chunk(dst [][16]byte, out []V) {
	if t != nil && (t.small6 != nil || t.f6 != nil) {
		t.lookup6ChunkIndex(dst, out)
		return
	}
	t.lookup6ChunkTrie(dst, out)
}

// lookup6ChunkIndex is lookup6Chunk in the compiled index (fib6.go): the
// buckets of all addresses first, then their entries, then the values.
func (t *Table[V]) lookup6ChunkIndex(dst [][16]byte, out []V) {
	dst = dst[:min(len(dst), batchChunk)]
	out = out[:len(dst)]
	if t.small6 != nil {
		for i, a := range dst {
			out[i], _ = t.Lookup6(a)
		}
		return
	}
	// The level-A entries and /32 bits of all addresses first, then levels
	// B and C for those that need them, then the values.
	f := t.f6
	var x [batchChunk]uint16
	var hit [batchChunk]uint64
	any := uint64(0)
	for i := range dst {
		a := &dst[i]
		g := f.group(a[0], a[1])
		k := uint(a[2])<<8 | uint(a[3])
		hit[i] = g.bm[a[1]&15].w[k>>6] >> (k & 63) & 1
		any |= hit[i]
		x[i] = runEntry(g.b[a[1]&15], a[2])
	}
	if any != 0 {
		// Load the first slot word of levels B and C of every address that
		// needs them, with no branch in between, so that their cache misses
		// overlap; then probe on from there.
		var pB, pC [batchChunk]probe6
		for i := range dst {
			if hit[i] != 0 {
				hi := binary.BigEndian.Uint64(dst[i][:8])
				pB[i] = f.hbc.start(markB | hi>>32<<8)
				pC[i] = f.hbc.start(hi >> 24)
			}
		}
		for i := range dst {
			if hit[i] != 0 {
				pB[i].x0 = pB[i].tab[pB[i].i*2&(len(pB[i].tab)-1)]
				pC[i].x0 = pC[i].tab[pC[i].i*2&(len(pC[i].tab)-1)]
			}
		}
		for i := range dst {
			if hit[i] != 0 {
				wB, iB := pB[i].finish()
				wC, iC := pC[i].finish()
				if y := t.pick6(&dst[i], wB, iB, wC, iC); y != 0 {
					x[i] = y
				}
			}
		}
	}
	deep := false
	for i := range dst {
		s := f.short6[dst[i][0]]
		if x[i] == 0 {
			x[i] = s
		}
		deep = deep || x[i] == deepFlag
		out[i] = t.vals[x[i]&^deepFlag]
	}
	if deep {
		for i := range dst {
			if x[i] == deepFlag {
				out[i], _ = t.lookup6Trie(dst[i])
			}
		}
	}
}

// lookup6ChunkTrie is lookup6Chunk in the trie, for a table whose index is
// disabled.
func (t *Table[V]) lookup6ChunkTrie(dst [][16]byte, out []V) {
	var zero V
	if t == nil || t.root6 == nil {
		for i := range out {
			out[i] = zero
		}
		return
	}
	var path [batchChunk][16]*node[V]
	var depth [batchChunk]uint8
	var slot [batchChunk]int
	dst = dst[:min(len(dst), batchChunk)]
	out = out[:len(dst)]
	for i := range dst {
		path[i][0] = t.root6
	}
	for d := uint8(0); d < 15; d++ {
		active := false
		for i := range dst {
			if depth[i] != d {
				continue
			}
			n := path[i][d&15]
			if n.leaf != 0 {
				continue // the descent ends at a leaf
			}
			o := dst[i][d&15]
			w := o >> 6
			k := n.kids[w]
			bit := uint64(1) << (o & 63)
			if k&bit != 0 {
				path[i][(d+1)&15] = n.child[n.childRank(o)]
				depth[i] = d + 1
				active = true
			}
		}
		if !active {
			break
		}
	}
	for i := range dst {
		d := depth[i] & 15
		n := path[i][d]
		if n.leaf != 0 {
			if n.leafContains(&dst[i]) {
				path[i][0] = n
				slot[i] = -2 // the value is the leaf's
				continue
			}
			d-- // the root is never a leaf
			n = path[i][d]
		}
		idx := lpmIndex(&n.pfx, dst[i][d])
		for idx <= 0 && d > 0 {
			d--
			n = path[i][d]
			idx = lpmIndex(&n.pfx, dst[i][d])
		}
		slot[i] = -1
		if idx > 0 {
			path[i][0] = n
			slot[i] = n.valSlot(idx)
		}
	}
	for i := range dst {
		if s := slot[i]; s >= 0 {
			out[i] = path[i][0].vals[s]
		} else if s == -2 {
			out[i] = path[i][0].lv
		} else {
			out[i] = zero
		}
	}
}
