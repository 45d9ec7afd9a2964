package lpm

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"testing"
)

// refTable is the slow reference: a map scanned linearly on every lookup.
type refTable map[netip.Prefix]int

func (r refTable) lookup(a netip.Addr) (netip.Prefix, int, bool) {
	var best netip.Prefix
	found := false
	for p := range r {
		if p.Addr().Is4() != a.Is4() || !p.Contains(a) {
			continue
		}
		if !found || p.Bits() > best.Bits() {
			best, found = p, true
		}
	}
	if !found {
		return best, 0, false
	}
	return best, r[best], true
}

func (r refTable) clone() refTable {
	c := make(refTable, len(r))
	for p, v := range r {
		c[p] = v
	}
	return c
}

func (r refTable) sorted() []netip.Prefix {
	ps := make([]netip.Prefix, 0, len(r))
	for p := range r {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, comparePrefix)
	return ps
}

func comparePrefix(a, b netip.Prefix) int {
	if a.Addr().Is4() != b.Addr().Is4() {
		if a.Addr().Is4() {
			return -1
		}
		return 1
	}
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// gen makes random prefixes and addresses that overlap a lot: everything is
// derived from a few base addresses, with lengths biased towards octet
// boundaries and their neighbours.
type gen struct {
	r     *rand.Rand
	is4   bool
	bases []netip.Addr
}

func newGen(seed uint64, is4 bool) *gen {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), is4: is4}
	for range 6 {
		g.bases = append(g.bases, g.randAddr())
	}
	return g
}

func (g *gen) randAddr() netip.Addr {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], g.r.Uint64())
	binary.LittleEndian.PutUint64(b[8:], g.r.Uint64())
	if g.is4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}

// near returns an address sharing a random-length prefix with a base.
func (g *gen) near() netip.Addr {
	base := g.bases[g.r.IntN(len(g.bases))]
	if g.r.IntN(8) == 0 {
		return g.randAddr()
	}
	keep := g.r.IntN(base.BitLen() + 1)
	rnd := g.randAddr()
	p1 := netip.PrefixFrom(base, keep).Masked()
	b := p1.Addr().AsSlice()
	rb := rnd.AsSlice()
	for i := range b {
		bitsKept := keep - 8*i
		switch {
		case bitsKept >= 8:
		case bitsKept <= 0:
			b[i] = rb[i]
		default:
			b[i] |= rb[i] & (0xff >> bitsKept)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func (g *gen) prefix() netip.Prefix {
	maxLen := 32
	if !g.is4 {
		maxLen = 128
	}
	var l int
	switch g.r.IntN(4) {
	case 0:
		l = g.r.IntN(maxLen + 1)
	default:
		l = 8*g.r.IntN(maxLen/8+1) + g.r.IntN(3) - 1
		l = min(maxLen, max(0, l))
	}
	if g.r.IntN(50) == 0 {
		l = []int{0, maxLen}[g.r.IntN(2)]
	}
	return netip.PrefixFrom(g.near(), l).Masked()
}

// lookupAddr returns an address worth looking up: random, near a base, or
// inside or just outside a prefix of the reference.
func (g *gen) lookupAddr(ps []netip.Prefix) netip.Addr {
	if len(ps) == 0 || g.r.IntN(3) == 0 {
		return g.near()
	}
	p := ps[g.r.IntN(len(ps))]
	b := p.Addr().AsSlice()
	var rb [16]byte
	binary.LittleEndian.PutUint64(rb[:8], g.r.Uint64())
	binary.LittleEndian.PutUint64(rb[8:], g.r.Uint64())
	for i := range b {
		kept := p.Bits() - 8*i
		switch {
		case kept >= 8:
		case kept <= 0:
			b[i] = rb[i]
		default:
			b[i] |= rb[i] & (0xff >> kept)
		}
	}
	if p.Bits() > 0 && g.r.IntN(4) == 0 { // flip the last prefix bit: just outside
		bit := p.Bits() - 1
		b[bit/8] ^= 0x80 >> (bit % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// check compares every read operation of tb with ref.
func check(t *testing.T, tb *Table[int], ref refTable, g *gen, lookups int) {
	t.Helper()
	ps := ref.sorted()
	var n4, n6 int
	for _, p := range ps {
		if p.Addr().Is4() {
			n4++
		} else {
			n6++
		}
	}
	if tb.Len4() != n4 || tb.Len6() != n6 {
		t.Fatalf("Len4, Len6 = %d, %d; want %d, %d", tb.Len4(), tb.Len6(), n4, n6)
	}
	checkFib4(t, tb)
	checkFib6(t, tb)
	checkShape(t, tb)
	i := 0
	for p, v := range tb.All() {
		if i >= len(ps) || p != ps[i] || v != ref[p] {
			t.Fatalf("All()[%d] = %v %d; want %v", i, p, v, ps[min(i, len(ps)-1)])
		}
		i++
	}
	if i != len(ps) {
		t.Fatalf("All() yielded %d prefixes; want %d", i, len(ps))
	}
	for _, p := range ps {
		if v, ok := tb.Get(p); !ok || v != ref[p] {
			t.Fatalf("Get(%v) = %d, %v; want %d, true", p, v, ok, ref[p])
		}
	}
	var b4 [][4]byte
	var b6 [][16]byte
	var w4, w6 []int
	for range lookups {
		a := g.lookupAddr(ps)
		wp, wv, wok := ref.lookup(a)
		if a.Is4() {
			b4, w4 = append(b4, a.As4()), append(w4, wv)
		} else {
			b6, w6 = append(b6, a.As16()), append(w6, wv)
		}
		var v int
		var ok bool
		if a.Is4() {
			v, ok = tb.Lookup4(a.As4())
		} else {
			v, ok = tb.Lookup6(a.As16())
		}
		if ok != wok || v != wv {
			t.Fatalf("Lookup(%v) = %d, %v; want %d, %v (%v)", a, v, ok, wv, wok, wp)
		}
		p, v, ok := tb.LookupPrefix(a)
		if ok != wok || v != wv || p != wp {
			t.Fatalf("LookupPrefix(%v) = %v, %d, %v; want %v, %d, %v", a, p, v, ok, wp, wv, wok)
		}
	}
	// The batch forms, over uneven chunks, give the same answers.
	out := make([]int, max(len(b4), len(b6))+1)
	tb.Lookup4Batch(b4, out)
	for i, a := range b4 {
		if out[i] != w4[i] {
			t.Fatalf("Lookup4Batch: [%d] %v = %d; want %d", i, a, out[i], w4[i])
		}
	}
	tb.Lookup6Batch(b6, out)
	for i, a := range b6 {
		if out[i] != w6[i] {
			t.Fatalf("Lookup6Batch: [%d] %v = %d; want %d", i, netip.AddrFrom16(a), out[i], w6[i])
		}
	}
}

type snapshot struct {
	tb  *Table[int]
	ref refTable
}

func TestDifferential(t *testing.T) {
	steps := 3000
	if testing.Short() {
		steps = 600
	}
	for _, is4 := range []bool{true, false} {
		for seed := uint64(1); seed <= 4; seed++ {
			g := newGen(seed, is4)
			ref := refTable{}
			var tb *Table[int]
			tx := tb.Txn()
			var snaps []snapshot
			next := 1
			for step := range steps {
				p := g.prefix()
				switch op := g.r.IntN(10); {
				case op < 6: // insert or replace
					v := step + 1
					old, replaced := tx.Insert(p, v)
					wold, wreplaced := ref[p]
					if replaced != wreplaced || old != wold {
						t.Fatalf("Insert(%v) = %d, %v; want %d, %v", p, old, replaced, wold, wreplaced)
					}
					ref[p] = v
				default: // delete, mostly of present prefixes
					if ps := ref.sorted(); len(ps) > 0 && op < 9 {
						p = ps[g.r.IntN(len(ps))]
					}
					old, ok := tx.Delete(p)
					wold, wok := ref[p]
					if ok != wok || old != wold {
						t.Fatalf("Delete(%v) = %d, %v; want %d, %v", p, old, ok, wold, wok)
					}
					delete(ref, p)
				}
				if v, ok := tx.Get(p); v != ref[p] || ok != (ref[p] != 0) {
					t.Fatalf("Txn.Get(%v) = %d, %v after change", p, v, ok)
				}
				if step == next {
					next += 1 + g.r.IntN(40)
					tb = tx.Commit()
					check(t, tb, ref, g, 50)
					if g.r.IntN(10) == 0 {
						snaps = append(snaps, snapshot{tb, ref.clone()})
					}
				}
			}
			tb = tx.Commit()
			check(t, tb, ref, g, 2000)
			// Persistence: every earlier snapshot still answers as it did.
			for _, s := range snaps {
				check(t, s.tb, s.ref, g, 200)
			}
		}
	}
}

func TestMixedFamilies(t *testing.T) {
	g4, g6 := newGen(7, true), newGen(7, false)
	ref := refTable{}
	tx := (*Table[int])(nil).Txn()
	for i := range 2000 {
		g := g4
		if i%2 == 1 {
			g = g6
		}
		p := g.prefix()
		tx.Insert(p, i+1)
		ref[p] = i + 1
	}
	tb := tx.Commit()
	check(t, tb, ref, g4, 1000)
	check(t, tb, ref, g6, 1000)
}

func TestEdgeCases(t *testing.T) {
	mp := netip.MustParsePrefix
	ma := netip.MustParseAddr
	var empty *Table[int]
	if _, ok := empty.Lookup4([4]byte{1, 2, 3, 4}); ok {
		t.Fatal("nil table matched")
	}
	tx := empty.Txn()
	if _, ok := tx.Delete(mp("10.0.0.0/8")); ok {
		t.Fatal("Delete of absent prefix reported success")
	}
	tx.Insert(mp("0.0.0.0/0"), 1)
	tx.Insert(mp("::/0"), 2)
	tx.Insert(mp("198.18.0.0/15"), 3)
	tx.Insert(mp("198.18.0.1/32"), 4)
	tx.Insert(mp("198.18.0.0/24"), 5)
	tx.Insert(mp("2001:db8::1/128"), 6)
	tx.Insert(mp("2001:db8::/32"), 7)
	tx.Insert(mp("198.19.255.255/16"), 8) // unmasked: stored as 198.19.0.0/16
	if _, ok := tx.Delete(mp("198.18.0.0/16")); ok {
		t.Fatal("Delete of absent overlapping prefix reported success")
	}
	tb := tx.Commit()
	for _, c := range []struct {
		a    string
		want int
		p    string
	}{
		{"1.1.1.1", 1, "0.0.0.0/0"},
		{"198.18.0.1", 4, "198.18.0.1/32"},
		{"198.18.0.2", 5, "198.18.0.0/24"},
		{"198.18.1.2", 3, "198.18.0.0/15"},
		{"198.19.1.2", 8, "198.19.0.0/16"},
		{"255.255.255.255", 1, "0.0.0.0/0"},
		{"2001:db8::1", 6, "2001:db8::1/128"},
		{"2001:db8::2", 7, "2001:db8::/32"},
		{"::ffff:198.18.0.1", 2, "::/0"}, // v4-mapped is IPv6
		{"ffff::", 2, "::/0"},
	} {
		p, v, ok := tb.LookupPrefix(ma(c.a))
		if !ok || v != c.want || p != mp(c.p) {
			t.Errorf("LookupPrefix(%s) = %v, %d, %v; want %s, %d", c.a, p, v, ok, c.p, c.want)
		}
		if v, _ := tb.Lookup(ma(c.a)); v != c.want {
			t.Errorf("Lookup(%s) = %d; want %d", c.a, v, c.want)
		}
	}
	// Deleting everything leaves empty roots.
	tx = tb.Txn()
	for p := range tb.All() {
		if _, ok := tx.Delete(p); !ok {
			t.Fatalf("Delete(%v) failed", p)
		}
	}
	after := tx.Commit()
	if after.root4 != nil || after.root6 != nil || after.Len4() != 0 || after.Len6() != 0 {
		t.Fatal("table not empty after deleting every prefix")
	}
	if v, _ := tb.Lookup(ma("198.18.0.1")); v != 4 {
		t.Fatal("old snapshot changed by deletes")
	}
	if _, ok := tx.Insert(netip.Prefix{}, 1); ok {
		t.Fatal("invalid prefix inserted")
	}
}

func TestLookupAllocs(t *testing.T) {
	g := newGen(3, true)
	tx := (*Table[*int])(nil).Txn()
	x := 1
	for range 1000 {
		tx.Insert(g.prefix(), &x)
	}
	g6 := newGen(3, false)
	for range 1000 {
		tx.Insert(g6.prefix(), &x)
	}
	tb := tx.Commit()
	a4, a6 := g.near().As4(), g6.near().As16()
	d4, d6, out := make([][4]byte, 40), make([][16]byte, 40), make([]*int, 40)
	if n := testing.AllocsPerRun(100, func() {
		tb.Lookup4(a4)
		tb.Lookup6(a6)
		tb.Lookup4Batch(d4, out)
		tb.Lookup6Batch(d6, out)
	}); n != 0 {
		t.Fatalf("lookups allocate %v times per run; want 0", n)
	}
}

// FuzzOps runs a sequence of operations decoded from the input against both
// the table and the reference. Each operation is: one byte (bits 0-1 insert,
// delete, commit, insert; bit 2 IPv6), one length byte, then 4 or 16 address
// bytes.
func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 24, 198, 18, 0, 0, 0, 0, 0, 0, 0, 0, 2})                                                                                             // 198.18.0.0/24, 0/0, commit
	f.Add([]byte{4, 48, 0x20, 1, 0xd, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 5, 48, 0x20, 1, 0xd, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) // add, commit, delete a /48
	f.Add([]byte{0, 32, 1, 2, 3, 4, 0, 31, 1, 2, 3, 4, 1, 32, 1, 2, 3, 4, 2, 0, 8, 1, 0, 0, 0})
	f.Add([]byte{4, 128, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		ref := refTable{}
		var snaps []snapshot
		tx := (*Table[int])(nil).Txn()
		var addrs []netip.Addr
		for i := 0; len(data) >= 2; i++ {
			op, l := data[0], int(data[1])
			data = data[2:]
			if op&3 == 2 {
				snaps = append(snaps, snapshot{tx.Commit(), ref.clone()})
				continue
			}
			n := 4
			if op&4 != 0 {
				n = 16
			}
			var b [16]byte
			copy(b[:n], data)
			data = data[min(n, len(data)):]
			a := netip.AddrFrom16(b)
			if n == 4 {
				a = netip.AddrFrom4([4]byte(b[:4]))
			}
			addrs = append(addrs, a)
			p := netip.PrefixFrom(a, l%(8*n+1)).Masked()
			if op&3 == 1 {
				_, ok := tx.Delete(p)
				if _, wok := ref[p]; ok != wok {
					t.Fatalf("Delete(%v) = %v; want %v", p, ok, wok)
				}
				delete(ref, p)
			} else {
				tx.Insert(p, i+1)
				ref[p] = i + 1
			}
		}
		snaps = append(snaps, snapshot{tx.Commit(), ref})
		for _, s := range snaps {
			g := newGen(1, true)
			check(t, s.tb, s.ref, g, 0)
			for _, a := range addrs {
				_, wv, wok := s.ref.lookup(a)
				if v, ok := s.tb.Lookup(a); v != wv || ok != wok {
					t.Fatalf("Lookup(%v) = %d, %v; want %d, %v", a, v, ok, wv, wok)
				}
			}
		}
	})
}

// TestNodeLayout guards the cache-line layout documented on node.
func TestNodeLayout(t *testing.T) {
	typ := reflect.TypeFor[node[*int]]()
	if typ.Size() != 192 {
		t.Errorf("node is %d bytes; want 192 (a 64-byte aligned size class)", typ.Size())
	}
	for name, line := range map[string]uintptr{"kids": 0, "child": 0, "kidsRank": 0, "pfx": 1, "vals": 2, "pfxRank": 2} {
		f, _ := typ.FieldByName(name)
		if f.Offset/64 != line || (f.Offset+f.Type.Size()-1)/64 != line {
			t.Errorf("node.%s at bytes %d..%d; want it in cache line %d", name, f.Offset, f.Offset+f.Type.Size(), line)
		}
	}
}

// checkFib4 verifies that the compiled IPv4 index of tb says what the trie
// says, entry by entry, and that its buckets are shaped as documented.
func checkFib4(t *testing.T, tb *Table[int]) {
	t.Helper()
	if tb == nil {
		return
	}
	f := tb.f4
	switch {
	case tb.off4 > 0 && f != nil:
		t.Fatal("IPv4 index both disabled and in use")
	case tb.off4 > 0:
		return
	case f == nil && tb.len4 > 0:
		t.Fatal("IPv4 index not in use")
	case f == nil:
		return
	}
	if tb.vals[0] != 0 {
		t.Fatalf("vals[0] = %d; want the zero value", tb.vals[0])
	}
	// want returns the trie's answer for a, ignoring prefixes shorter than
	// minLen.
	want := func(a [4]byte, minLen int) (int, bool) {
		v, ok := 0, false
		n := tb.root4
		for d := 0; d < 4 && n != nil; d++ {
			if idx := lpmIndex(&n.pfx, a[d]); idx > 0 && 8*d+bits.Len(uint(idx))-1 >= minLen {
				v, ok = n.vals[n.valSlot(idx)], true
			}
			n = n.getChild(a[d])
		}
		return v, ok
	}
	val := func(x uint16) (int, bool) {
		if int(x) >= len(tb.vals) {
			t.Fatalf("value index %d out of range %d", x, len(tb.vals))
		}
		return tb.vals[x], x != 0
	}
	for a0 := range 256 {
		a := [4]byte{uint8(a0)}
		// short4 holds the longest /0../8.
		sv, sok := 0, false
		n1 := (*node[int])(nil)
		if tb.root4 != nil {
			n1 = tb.root4.getChild(uint8(a0))
			if idx := lpmIndex(&tb.root4.pfx, uint8(a0)); idx > 0 {
				sv, sok = tb.root4.vals[tb.root4.valSlot(idx)], true
			}
		}
		if v, ok := val(f.short4[a0]); v != sv || ok != sok {
			t.Fatalf("short4[%d] = %d, %v; want %d, %v", a0, v, ok, sv, sok)
		}
		if n1 == nil {
			for a1 := range 256 {
				if &f.bucket(uint8(a0), uint8(a1))[0] != &zeroBucket4[0] {
					t.Fatalf("bucket %d.%d is not the zero bucket, but no prefix /9+ starts with %d", a0, a1, a0)
				}
			}
			continue
		}
		for a1 := range 256 {
			w := f.bucket(uint8(a0), uint8(a1))
			var b bucketBuf
			b.decode(w)
			// The length bucketSlice took from the header is the
			// bucket's (bucket_unsafe.go relies on it), and the header
			// is what encode writes.
			if re := b.encode(); !slices.Equal(re, w) {
				t.Fatalf("bucket %d.%d = %x; want it encoded canonically, %x", a0, a1, w, re)
			}
			a[1] = uint8(a1)
			n2 := n1.getChild(uint8(a1))
			if n2 == nil {
				wv, wok := want(a, 9)
				if len(b.sub) != 0 {
					t.Fatalf("bucket %d.%d is not uniform", a0, a1)
				}
				for a2, x := range b.e {
					if v, ok := val(x); v != wv || ok != wok {
						t.Fatalf("uniform bucket %d.%d[%d] = %d, %v; want %d, %v", a0, a1, a2, v, ok, wv, wok)
					}
				}
				continue
			}
			used := make([]bool, len(b.sub))
			for a2 := range 256 {
				a[2] = uint8(a2)
				x := b.e[a2]
				if x&subFlag == 0 {
					wv, wok := want(a, 9)
					if n2.getChild(uint8(a2)) != nil {
						t.Fatalf("bucket %d.%d[%d] has no sub-page, but the trie has a node", a0, a1, a2)
					}
					if v, ok := val(x); v != wv || ok != wok {
						t.Fatalf("bucket %d.%d[%d] = %d, %v; want %d, %v", a0, a1, a2, v, ok, wv, wok)
					}
					if y := f.entry(w, a); y != x {
						t.Fatalf("entry(bucket %d.%d, %v) = %#x; want %#x", a0, a1, a, y, x)
					}
					continue
				}
				s := int(x &^ subFlag)
				if s >= len(b.sub) || used[s] {
					t.Fatalf("bucket %d.%d[%d]: bad or shared sub-page %d of %d", a0, a1, a2, s, len(b.sub))
				}
				used[s] = true
				for a3 := range 256 {
					a[3] = uint8(a3)
					wv, wok := want(a, 9)
					if v, ok := val(b.sub[s][a3]); v != wv || ok != wok {
						t.Fatalf("sub-page %d.%d.%d[%d] = %d, %v; want %d, %v", a0, a1, a2, a3, v, ok, wv, wok)
					}
					if y := f.entry(w, a); y != b.sub[s][a3] {
						t.Fatalf("entry(bucket %d.%d, %v) = %#x; want %#x", a0, a1, a, y, b.sub[s][a3])
					}
				}
				a[3] = 0
			}
			for s, u := range used {
				if !u {
					t.Fatalf("bucket %d.%d: sub-page %d unused", a0, a1, s)
				}
			}
		}
	}
}

// TestForkedTxns runs two Txns from one Table side by side, then a third
// from the first one's result after the second abandoned: each must see
// its own changes only, the value table must never be shared by two
// writers, and every snapshot must keep answering as it did.
func TestForkedTxns(t *testing.T) {
	for _, is4 := range []bool{true, false} {
		forkedTxns(t, is4)
	}
}

func forkedTxns(t *testing.T, is4 bool) {
	g := newGen(11, is4)
	ref := refTable{}
	tx := (*Table[int])(nil).Txn()
	for i := range 300 {
		p := g.prefix()
		tx.Insert(p, i+1)
		ref[p] = i + 1
	}
	base := tx.Commit()
	refA, refB := ref.clone(), ref.clone()
	a, b := base.Txn(), base.Txn()
	// The two Txns run on two goroutines (run with -race): both add new
	// values, so both need a value table, and must not share one.
	ga, gb := newGen(13, is4), newGen(14, is4)
	var wg sync.WaitGroup
	for _, side := range []struct {
		tx  *Txn[int]
		ref refTable
		g   *gen
		v0  int
	}{{a, refA, ga, 10000}, {b, refB, gb, 20000}} {
		wg.Go(func() {
			for i := range 400 {
				p := side.g.prefix()
				side.tx.Insert(p, side.v0+i)
				side.ref[p] = side.v0 + i
				if i%50 == 49 {
					side.tx.Commit()
				}
			}
		})
	}
	wg.Wait()
	ta, tb := a.Commit(), b.Commit()
	// b is abandoned with pending changes; c continues from ta.
	b.Insert(g.prefix(), 99999)
	c := ta.Txn()
	refC := refA.clone()
	for i := range 200 {
		p := g.prefix()
		c.Insert(p, 30000+i)
		refC[p] = 30000 + i
	}
	tc := c.Commit()
	check(t, base, ref, g, 500)
	check(t, ta, refA, g, 500)
	check(t, tb, refB, g, 500)
	check(t, tc, refC, g, 500)
}

// TestValueOverflow lowers the number of value indexes so that changes run
// out of them: the index must then be rebuilt with the values still in use,
// or disabled (lookups walk the trie) while there are too many, and come
// back when the table shrinks.
func TestValueOverflow(t *testing.T) {
	defer func(m int) { maxVals = m }(maxVals)
	maxVals = 64
	g := newGen(12, true)
	ref := refTable{}
	tx := (*Table[int])(nil).Txn()
	var tb *Table[int]
	// Few distinct values at a time but many over time: rebuilds drop the
	// unused ones and keep the index usable.
	var ps []netip.Prefix
	for range 20 {
		ps = append(ps, g.prefix())
	}
	for i := range 3000 {
		p, v := ps[i%len(ps)], 1+i/20
		if i%7 == 0 {
			tx.Delete(p)
			delete(ref, p)
		} else {
			tx.Insert(p, v)
			ref[p] = v
		}
		if i%37 == 0 {
			tb = tx.Commit()
			if tb.Len4() > 0 && tb.f4 == nil || len(tb.vals) > maxVals {
				t.Fatalf("step %d: index disabled or over its values (%d)", i, len(tb.vals))
			}
			check(t, tb, ref, g, 30)
		}
	}
	tb = tx.Commit()
	check(t, tb, ref, g, 500)
	// More distinct values than indexes: the index is disabled.
	for i := range 200 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16)
		tx.Insert(p, 1000+i)
		ref[p] = 1000 + i
	}
	tb = tx.Commit()
	if tb.f4 != nil || tb.off4 == 0 {
		t.Fatal("index in use with more distinct values than indexes")
	}
	check(t, tb, ref, g, 500)
	// Shrink the table until few values are left: the index comes back.
	for p := range tb.All() {
		if p.Addr().Is4() {
			tx.Delete(p)
			delete(ref, p)
		}
	}
	for i := range 10 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16)
		tx.Insert(p, 1+i)
		ref[p] = 1 + i
	}
	tb = tx.Commit()
	if tb.f4 == nil {
		t.Fatal("index still disabled after the table shrank")
	}
	check(t, tb, ref, g, 500)
}

// TestAbortReleasesValues checks that an aborted Txn gives its value
// table back: the next Txn from the same Table takes it over rather than
// copying it, and the aborted changes are not visible.
func TestAbortReleasesValues(t *testing.T) {
	for _, is4 := range []bool{true, false} {
		g := newGen(21, is4)
		tx := (*Table[int])(nil).Txn()
		for i := range 100 {
			tx.Insert(g.prefix(), i+1)
		}
		base := tx.Commit()
		vt := base.vt

		failed := base.Txn()
		p := g.prefix()
		failed.Insert(p, 1000) // a new value: takes the value table
		if failed.vt != vt {
			t.Fatalf("is4=%v: the first Txn did not take the base's value table", is4)
		}
		failed.Abort()

		// The next Txn reuses the index 1000 had: a stale map entry for
		// 1000 would make a prefix inserted with 1000 look up as 2000.
		next := base.Txn()
		next.Insert(g.prefix(), 2000)
		if next.vt != vt {
			t.Errorf("is4=%v: after Abort the next Txn copied the value table instead of taking it over", is4)
		}
		q := g.prefix()
		next.Insert(q, 1000)
		tb := next.Commit()
		if v, ok := tb.Get(p); ok {
			t.Errorf("is4=%v: the aborted change is visible: %v = %d", is4, p, v)
		}
		if v, _ := tb.Lookup(q.Addr()); v != 1000 {
			t.Errorf("is4=%v: %v looks up as %d, want 1000", is4, q, v)
		}
	}
}
