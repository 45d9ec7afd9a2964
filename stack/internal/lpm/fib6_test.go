package lpm

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// want6 returns the trie's answer for a among the prefixes of length lo..hi.
func want6(tb *Table[int], a *[16]byte, lo, hi int) (int, bool) {
	st := walk6(a, lo, hi, walkState6{n: tb.root6}, 16)
	return st.v, st.ok
}

// walkState6 is a walk of the trie for want6, paused at depth d.
type walkState6 struct {
	n    *node[int]
	d    int
	v    int
	ok   bool
	done bool
}

// walk6 goes on with walk st down to depth upto (at most).
func walk6(a *[16]byte, lo, hi int, st walkState6, upto int) walkState6 {
	for ; st.d < upto && st.n != nil && !st.done; st.d++ {
		n := st.n
		if n.leaf != 0 {
			if l := n.leafBits(); l >= lo && l <= hi && n.leafContains(a) {
				st.v, st.ok = n.lv, true
			}
			st.done = true
			break
		}
		if idx := lpmIndex(&n.pfx, a[st.d]); idx > 0 {
			if l := 8*st.d + bits.Len(uint(idx)) - 1; l >= lo && l <= hi {
				st.v, st.ok = n.vals[n.valSlot(idx)], true
			}
		}
		st.n = n.getChild(a[st.d])
	}
	return st
}

// checkFib6 verifies that the compiled IPv6 index of tb says what the trie
// says, entry by entry, that it holds exactly the keys the table's prefixes
// call for, and that its buckets and hash segments are shaped as documented.
func checkFib6(t *testing.T, tb *Table[int]) {
	t.Helper()
	if tb == nil {
		return
	}
	f := tb.f6
	switch {
	case tb.off6 > 0 && f != nil:
		t.Fatal("IPv6 index both disabled and in use")
	case tb.off6 > 0:
		return
	case f == nil && tb.len6 > 0:
		t.Fatal("IPv6 index not in use")
	case f == nil:
		return
	}
	val := func(x uint16) (int, bool) {
		if int(x) >= len(tb.vals) {
			t.Fatalf("value index %d out of range %d", x, len(tb.vals))
		}
		return tb.vals[x], x != 0
	}
	// The keys each level must hold, from the prefixes themselves.
	var ps []netip.Prefix
	for p := range tb.All() {
		if p.Addr().Is6() {
			ps = append(ps, p)
		}
	}
	wantKeys := func(kb, lo int) map[uint64]bool {
		m := map[uint64]bool{}
		for _, p := range ps {
			l := p.Bits()
			if l < lo || lo == 9 && l > 24 || lo == 25 && l > 40 {
				continue
			}
			a := p.Addr().As16()
			k := binary.BigEndian.Uint64(a[:8]) >> (64 - kb)
			for i := uint64(0); l < kb && i < 1<<(kb-l) || i == 0; i++ {
				m[k+i] = true
			}
		}
		return m
	}
	for a0 := range 256 {
		a := [16]byte{uint8(a0)}
		wv, wok := want6(tb, &a, 0, 8)
		if v, ok := val(f.short6[a0]); v != wv || ok != wok {
			t.Fatalf("short6[%d] = %d, %v; want %d, %v", a0, v, ok, wv, wok)
		}
	}
	// The /32 bits: set where a prefix /25+ covers or lies in the /32.
	wantBits := map[uint64]bool{}
	for _, p := range ps {
		if l := p.Bits(); l >= 25 {
			a := p.Addr().As16()
			k := uint64(binary.BigEndian.Uint32(a[:4]))
			for i := uint64(0); l < 32 && i < 1<<(32-l) || i == 0; i++ {
				wantBits[k+i] = true
			}
		}
	}
	want16 := map[uint64]int{}
	for k := range wantBits {
		want16[k>>16]++
	}
	// Level A.
	wantA := wantKeys(16, 9)
	for k := range 1 << 16 {
		a := [16]byte{uint8(k >> 8), uint8(k)}
		g := f.group(a[0], a[1])
		w := g.b[a[1]&15]
		if bm := g.bm[a[1]&15]; bm != zeroBits6 || want16[uint64(k)] > 0 {
			// Every bit set is wanted, and as many as are wanted are set.
			n := 0
			for wi, x := range bm.w {
				for ; x != 0; x &= x - 1 {
					lo := uint64(wi<<6 | bits.TrailingZeros64(x))
					if !wantBits[uint64(k)<<16|lo] {
						t.Fatalf("/32 bit of %x:%x is set; want it clear", k, lo)
					}
					n++
				}
			}
			if n != want16[uint64(k)] {
				t.Fatalf("/16 %x has %d /32 bits set; want %d", k, n, want16[uint64(k)])
			}
		}
		if !wantA[uint64(k)] {
			if &w[0] != &zeroBucket4[0] {
				var bb bucketBuf
				bb.decode(w)
				t.Fatalf("level A bucket %x is not the zero bucket, but no prefix /9../24 is in or over it: %v %v", k, bb.e, ps)
			}
			continue
		}
		checkBucket6(t, tb, w, 0, a, 2, 9, false, val)
	}
	type level struct {
		name   string
		k, lo  int
		subs   bool
		expect map[uint64]bool
		got    map[uint64]bool
	}
	lB := &level{"B", 4, 25, false, wantKeys(32, 25), map[uint64]bool{}}
	lC := &level{"C", 5, 41, true, wantKeys(40, 41), map[uint64]bool{}}
	lD := &level{"D", 7, 57, true, wantKeys(56, 57), map[uint64]bool{}}
	for _, m := range []*hmap6{&f.hbc, &f.h56} {
		if m.pend != nil || m.building {
			t.Fatal("a full build left pending buckets")
		}
		for di := range uint64(numDirs) {
			d := m.dir(di)
			for si, tab := range d.tab {
				arena := d.arena[si]
				size := len(tab) / 2
				if size == 0 || size&(size-1) != 0 {
					t.Fatalf("segment %d.%d: %d slots", di, si, size)
				}
				n, used := 0, 0
				for i := 0; i < len(tab); i += 2 {
					if tab[i] == 0 {
						continue
					}
					n++
					mk := tab[i] &^ (1 << 63)
					if gd, gs := segOf(m.seg(mk)); gd != uint64(di) || gs != uint64(si) {
						t.Fatalf("key %x in the wrong segment", mk)
					}
					c, k := lD, mk
					switch {
					case m == &f.hbc && mk&markB != 0:
						c, k = lB, (mk&^markB)>>8
					case m == &f.hbc:
						c = lC
					}
					var w []uint64
					inl := tab[i+1]
					if inl&inlineFlag == 0 {
						off, ln := inl>>32, inl&(1<<32-1)
						if off+ln > uint64(len(arena)) {
							t.Fatalf("level %s key %x: bucket %d+%d past the arena (%d)", c.name, k, off, ln, len(arena))
						}
						used += int(ln)
						w, inl = arena[off:off+ln], 0
					}
					if gw, gi := m.get(mk); gi != inl || inl == 0 && &gw[0] != &w[0] {
						t.Fatalf("level %s key %x: get does not find it", c.name, k)
					}
					if c.got[k] {
						t.Fatalf("level %s key %x twice", c.name, k)
					}
					c.got[k] = true
					if !c.expect[k] {
						t.Fatalf("level %s holds key %x, but no prefix calls for it", c.name, k)
					}
					var a [16]byte
					binary.BigEndian.PutUint64(a[:8], k<<(64-8*c.k))
					checkBucket6(t, tb, w, inl, a, c.k, c.lo, c.subs, val)
				}
				if n > 0 && 4*n > 3*size || n > 0 && size > 4*segSize(n) || n == 0 && size != 1 || used > len(arena) || len(arena) > 2*used+64 {
					t.Fatalf("segment %d.%d: %d keys in %d slots, %d of %d arena words used", di, si, n, size, used, len(arena))
				}
			}
		}
	}
	for _, c := range []*level{lB, lC, lD} {
		for k := range c.expect {
			if !c.got[k] {
				t.Fatalf("level %s lacks key %x", c.name, k)
			}
		}
	}
}

// deeper6 reports whether the trie has a prefix longer than nb (a multiple
// of 8) within a/nb.
func deeper6(tb *Table[int], a *[16]byte, nb int) bool {
	n := tb.root6
	for d := 0; n != nil; d++ {
		if n.leaf != 0 {
			la := n.leafAddr()
			return n.leafBits() > nb && string(la[:nb/8]) == string(a[:nb/8])
		}
		if d == nb/8 {
			return true
		}
		n = n.getChild(a[d])
	}
	return false
}

// checkBucket6 checks the bucket w (or inline bucket inl) of the key a[:k]
// of a level.
func checkBucket6(t *testing.T, tb *Table[int], w []uint64, inl uint64, a [16]byte, k, lo int, subs bool, val func(uint16) (int, bool)) {
	t.Helper()
	// Decode, and encode again: the encoding must be canonical.
	var b bucketBuf
	for o := range 256 {
		x := entry6(w, inl, uint8(o), 0)
		if inl == 0 {
			x = runEntry(w, uint8(o))
		}
		if x&subFlag != 0 {
			if !subs || inl != 0 {
				t.Fatalf("bucket %x/%d[%d] = %#x, in a level without sub-pages", a, 8*k, o, x)
			}
			var pg [256]uint16
			for o2 := range 256 {
				pg[o2] = runEntry(w[x&^subFlag:], uint8(o2))
			}
			x = subFlag | uint16(len(b.sub))
			b.sub = append(b.sub, pg)
		}
		b.e[o] = x
	}
	switch x, ok := inline6(&b.e); {
	case inl != 0 && (!ok || x != inl):
		t.Fatalf("inline bucket %x/%d = %#x; want %#x, %v", a, 8*k, inl, x, ok)
	case inl == missInline:
		t.Fatalf("bucket %x/%d is zero but present", a, 8*k)
	case inl == 0 && k > 2 && ok && len(b.sub) == 0:
		t.Fatalf("bucket %x/%d = %x; want it inline", a, 8*k, w)
	case inl == 0:
		if re := b.encode6(); !slices.Equal(re, w) {
			t.Fatalf("bucket %x/%d = %x; want it encoded canonically, %x", a, 8*k, w, re)
		}
	}
	hi := 8*k + 8
	// The walk to the key is the same for all entries.
	st0 := walk6(&a, lo, hi+8, walkState6{n: tb.root6}, k)
	want := func(a *[16]byte, hi int) (int, bool) {
		if st0.done { // a leaf above the key: it depends on the entry
			return want6(tb, a, lo, hi)
		}
		st := walk6(a, lo, hi, st0, 16)
		return st.v, st.ok
	}
	for o := range 256 {
		a[k] = uint8(o)
		x := b.e[o]
		if x&subFlag == 0 {
			if subs && deeper6(tb, &a, hi) {
				t.Fatalf("bucket %x/%d[%d] has no sub-page, but the trie has longer prefixes", a, 8*k, o)
			}
			wv, wok := want(&a, hi)
			if v, ok := val(x); v != wv || ok != wok {
				t.Fatalf("bucket %x/%d[%d] = %d, %v; want %d, %v", a, 8*k, o, v, ok, wv, wok)
			}
			continue
		}
		if !subs || !deeper6(tb, &a, hi) {
			t.Fatalf("bucket %x/%d[%d] has a sub-page, but nothing longer than /%d is below", a, 8*k, o, hi)
		}
		pg := b.sub[x&^subFlag]
		for o2 := range 256 {
			a[k+1] = uint8(o2)
			y := pg[o2]
			if y != entry6(w, inl, uint8(o), uint8(o2)) {
				t.Fatalf("bucket %x/%d: entry %d.%d read wrong", a, 8*k, o, o2)
			}
			if (y&deepFlag != 0) != deeper6(tb, &a, hi+8) {
				t.Fatalf("bucket %x/%d[%d.%d] = %#x: deep flag wrong", a, 8*k, o, o2, y)
			}
			wv, wok := want(&a, hi+8)
			if v, ok := val(y &^ deepFlag); v != wv || ok != wok {
				t.Fatalf("bucket %x/%d[%d.%d] = %d, %v; want %d, %v", a, 8*k, o, o2, v, ok, wv, wok)
			}
		}
		a[k+1] = 0
	}
}

// TestIndex6Rebuild runs the differential test with Txns that rebuild the
// IPv6 index at Commit after a few changes, so that full builds and the
// change-by-change updates that follow them are checked alike.
func TestIndex6Rebuild(t *testing.T) {
	defer func(n int) { rebuild6After = n }(rebuild6After)
	rebuild6After = 16
	steps := 800
	if testing.Short() {
		steps = 400
	}
	for seed := uint64(21); seed <= 24; seed++ {
		g := newGen(seed, false)
		ref := refTable{}
		tx := (*Table[int])(nil).Txn()
		var snaps []snapshot
		for step := range steps {
			p := g.prefix()
			if ps := ref.sorted(); len(ps) > 0 && g.r.IntN(3) == 0 {
				p = ps[g.r.IntN(len(ps))]
				tx.Delete(p)
				delete(ref, p)
			} else {
				tx.Insert(p, step+1)
				ref[p] = step + 1
			}
			if g.r.IntN(25) == 0 {
				tb := tx.Commit()
				check(t, tb, ref, g, 100)
				snaps = append(snaps, snapshot{tb, ref.clone()})
			}
		}
		for _, s := range snaps {
			check(t, s.tb, s.ref, g, 100)
		}
	}
}

// TestIndex6Boundaries puts prefixes of every length around the levels'
// bounds (and /0, /128) into one /16, nested and side by side, then
// deletes them in another order, checking after every change.
func TestIndex6Boundaries(t *testing.T) {
	base := netip.MustParseAddr("2001:db8:aa55:ff00:1234:5678:9abc:def0").As16()
	var ps []netip.Prefix
	for _, l := range []int{0, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 39, 40, 41, 47, 48, 49, 55, 56, 57, 63, 64, 65, 71, 72, 73, 80, 127, 128} {
		ps = append(ps, netip.PrefixFrom(netip.AddrFrom16(base), l).Masked())
		b := base
		if l > 0 {
			b[(l-1)/8] ^= 0x80 >> ((l - 1) % 8) // a sibling
			ps = append(ps, netip.PrefixFrom(netip.AddrFrom16(b), l).Masked())
		}
	}
	g := newGen(5, false)
	ref := refTable{}
	var tb *Table[int]
	for i, p := range ps {
		tx := tb.Txn()
		tx.Insert(p, i+1)
		ref[p] = i + 1
		tb = tx.Commit()
		check(t, tb, ref, g, 50)
	}
	for i := range ps {
		p := ps[(i*7)%len(ps)]
		tx := tb.Txn()
		tx.Delete(p)
		delete(ref, p)
		tb = tx.Commit()
		check(t, tb, ref, g, 50)
	}
}

// TestValueOverflow6 is TestValueOverflow for IPv6: with too many distinct
// values the IPv6 index is disabled (lookups walk the trie), and comes
// back when the table shrinks; IPv4 keeps its index meanwhile.
func TestValueOverflow6(t *testing.T) {
	defer func(m int) { maxVals = m }(maxVals)
	maxVals = 64
	g := newGen(12, false)
	ref := refTable{}
	tx := (*Table[int])(nil).Txn()
	for i := range 10 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16)
		tx.Insert(p, 5000+i)
		ref[p] = 5000 + i
	}
	for i := range 200 {
		p := netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i), 0x80}), 48)
		tx.Insert(p, 1000+i)
		ref[p] = 1000 + i
	}
	tb := tx.Commit()
	if tb.f6 != nil || tb.off6 == 0 || tb.f4 == nil {
		t.Fatal("IPv6 index in use with more distinct values than indexes, or IPv4 index off")
	}
	check(t, tb, ref, g, 500)
	for p := range tb.All() {
		if p.Addr().Is6() && p.Addr().As16()[4] >= 10 {
			tx.Delete(p)
			delete(ref, p)
		}
	}
	tb = tx.Commit()
	if tb.f6 == nil || tb.f4 == nil {
		t.Fatal("IPv6 index still disabled after the table shrank")
	}
	check(t, tb, ref, g, 500)
}

// TestInline6 checks which buckets have an inline form, and that the form
// reads back as the entries.
func TestInline6(t *testing.T) {
	run := func(lo, hi int, v, base uint16) *[256]uint16 {
		var e [256]uint16
		for o := range e {
			e[o] = base
			if o >= lo && o <= hi {
				e[o] = v
			}
		}
		return &e
	}
	for _, c := range []struct {
		e  *[256]uint16
		ok bool
	}{
		{run(0, 255, 7, 7), true},
		{run(0, 255, 0, 0), true},
		{run(10, 20, 7, 0), true},
		{run(0, 20, 7, 3), true},
		{run(200, 255, 7, 3), true},
		{run(255, 255, 7, 3), true},
		{run(0, 254, 7, 3), true},
		{func() *[256]uint16 { e := run(10, 20, 7, 0); e[30] = 7; return e }(), false},
		{func() *[256]uint16 { e := run(10, 20, 7, 0); e[15] = 8; return e }(), false},
		{func() *[256]uint16 { e := run(10, 255, 7, 0); e[255] = 8; return e }(), false},
	} {
		x, ok := inline6(c.e)
		if ok != c.ok {
			t.Fatalf("inline6(%v) = %v; want %v", c.e, ok, c.ok)
		}
		if !ok {
			continue
		}
		for o := range 256 {
			if y := inlineEntry(x, uint8(o)); y != c.e[o] {
				t.Fatalf("inline %#x entry %d = %d; want %d", x, o, y, c.e[o])
			}
		}
		if *c.e == [256]uint16{} && x != missInline {
			t.Fatalf("all-zero entries inline as %#x; want missInline", x)
		}
	}
}

// TestEditSegment checks the copy-and-patch path of a route change against
// a map: random inserts, replacements and deletions (the backward shift
// of unplace included) on one segment, every key findable after each, no
// key findable after its deletion, and the old segment never modified.
func TestEditSegment(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	want := map[uint64]bucket6{}
	tab, arena := emptyTab6, []uint64(nil)
	bucketFor := func() bucket6 {
		if r.IntN(2) == 0 {
			return bucket6{inl: inlineFlag | r.Uint64N(1<<48)}
		}
		w := make([]uint64, 1+r.IntN(9))
		for i := range w {
			w[i] = r.Uint64()
		}
		return bucket6{w: w}
	}
	edits := 0
	for op := range 20000 {
		// 300 keys in one segment: long probe runs that wrap around.
		k := r.Uint64N(300) * 0x10001
		b := bucketFor()
		if r.IntN(3) == 0 {
			b = bucket6{inl: missInline}
		}
		oldTab := slices.Clone(tab)
		oldArena := slices.Clone(arena)
		nt, na, ok := editSegment(tab, arena, k, b)
		if ok {
			edits++
		} else {
			nt, na = resegment(tab, arena, k, b)
		}
		if !slices.Equal(tab, oldTab) || !slices.Equal(arena, oldArena) {
			t.Fatalf("op %d: the old segment was modified", op)
		}
		tab, arena = nt, na
		if b.inl == missInline {
			delete(want, k)
		} else {
			want[k] = b
		}
		for wk, wb := range want {
			i := slotOf(wk, tab)
			w, inl := findSlot(tab, arena, wk|1<<63, i, tab[2*i])
			if inl != wb.inl || wb.inl == 0 && !slices.Equal(w[:len(wb.w)], wb.w) {
				t.Fatalf("op %d: key %x: got bucket %x/%x, want %x/%x", op, wk, w, inl, wb.w, wb.inl)
			}
		}
		if b.inl == missInline {
			i := slotOf(k, tab)
			if _, inl := findSlot(tab, arena, k|1<<63, i, tab[2*i]); inl != missInline {
				t.Fatalf("op %d: deleted key %x still found", op, k)
			}
		}
		keys, live := 0, 0
		for j := 0; j < len(tab); j += 2 {
			if tab[j] != 0 {
				keys++
				if tab[j+1]&inlineFlag == 0 {
					live += int(tab[j+1] & (1<<32 - 1))
				}
			}
		}
		if keys != len(want) {
			t.Fatalf("op %d: %d keys in the segment, want %d", op, keys, len(want))
		}
		if n := len(want); n > 0 && (4*n > 3*len(tab)/2 || len(tab)/2 > 4*segSize(n)) {
			t.Fatalf("op %d: %d keys in %d slots", op, n, len(tab)/2)
		}
		if len(arena) > 2*live+64 {
			t.Fatalf("op %d: arena of %d words, %d live", op, len(arena), live)
		}
	}
	if edits < 10000 {
		t.Errorf("only %d of 20000 changes took the copy-and-patch path", edits)
	}
	// Delete every key: the segment shrinks on the way, to the empty one.
	for k := range want {
		nt, na, ok := editSegment(tab, arena, k, bucket6{inl: missInline})
		if !ok {
			nt, na = resegment(tab, arena, k, bucket6{inl: missInline})
		}
		tab, arena = nt, na
		delete(want, k)
		if n := len(want); n > 0 && len(tab)/2 > 4*segSize(n) {
			t.Fatalf("%d keys left in %d slots: the segment did not shrink", n, len(tab)/2)
		}
	}
	if len(tab) != 2 || arena != nil {
		t.Errorf("all keys deleted: segment of %d slots and %d arena words, want the empty one", len(tab)/2, len(arena))
	}
}
