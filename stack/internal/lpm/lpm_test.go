package lpm

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
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
	checkDir4(t, tb)
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

// checkDir4 verifies that the IPv4 index of tb is what sync4 would compute
// from scratch from its trie.
func checkDir4(t *testing.T, tb *Table[int]) {
	t.Helper()
	if tb == nil {
		return
	}
	r := tb.root4
	used := 0
	for a0 := range 256 {
		var n1 *node[int]
		has8 := false
		if r != nil {
			n1 = r.getChild(uint8(a0))
			has8 = r.hasPfx(256 | uint(a0))
		}
		c := tb.dir4.chunk(uint8(a0))
		if (c != nil) != (n1 != nil || has8) {
			t.Fatalf("dir4 chunk %d present = %v; want %v", a0, c != nil, n1 != nil || has8)
		}
		if c == nil {
			continue
		}
		used++
		var want dir4Chunk[int]
		for i := range want.g {
			want.g[i] = &dir4Group[int]{}
		}
		for o := range 256 {
			want.fill(r, n1, uint8(a0), uint8(o), has8, 0)
			g, w, i := c.g[o>>4], want.g[o>>4], o&15
			if g.n[i] != w.n[i] || g.val[i] != w.val[i] || g.ok>>i&1 != w.ok>>i&1 {
				t.Fatalf("dir4 entry %d.%d = %p %d %d; want %p %d %d", a0, o,
					g.n[i], g.val[i], g.ok>>i&1, w.n[i], w.val[i], w.ok>>i&1)
			}
		}
	}
	if (tb.dir4 == nil) != (used == 0) || tb.dir4 != nil && tb.dir4.used != used {
		t.Fatalf("dir4 (nil: %v) counts its chunks wrong; want %d", tb.dir4 == nil, used)
	}
}
