package lpm

import (
	"math/bits"
	"net/netip"
	"testing"
)

// checkShape verifies the structural invariants of tb's tries: bitsets,
// ranks and slices agree; no node below a root is empty; IPv4 has no
// leaves; in IPv6 every child subtree holding a single prefix is a leaf
// (and no other is), and every leaf holds a masked prefix that belongs
// where it is. Together these make the shape a function of the contents.
// It returns the number of IPv6 leaves.
func checkShape(t *testing.T, tb *Table[int]) int {
	t.Helper()
	if tb == nil {
		return 0
	}
	leaves := 0
	var path [16]byte
	var visit func(n *node[int], d int, is6, root bool) int
	visit = func(n *node[int], d int, is6, root bool) int {
		if n.leaf != 0 {
			if !is6 || root {
				t.Fatalf("leaf at depth %d (IPv6 %v, root %v)", d, is6, root)
			}
			leaves++
			p := n.leafPrefix()
			a := p.Addr().As16()
			if p.Bits() <= 8*d || a != n.leafAddr() || p.Masked() != p || string(a[:d]) != string(path[:d]) {
				t.Fatalf("leaf %v misplaced at depth %d under %x", p, d, path[:d])
			}
			if n.vals != nil || n.child != nil || n.pfx != [8]uint64{} {
				t.Fatalf("leaf %v has node contents", p)
			}
			return 1
		}
		c := *n
		c.rerank()
		if c.kidsRank != n.kidsRank || c.pfxRank != n.pfxRank {
			t.Fatalf("stale ranks at depth %d under %x", d, path[:d])
		}
		nk, np := 0, 0
		for _, k := range n.kids {
			nk += bits.OnesCount64(k)
		}
		for _, p := range n.pfx {
			np += bits.OnesCount64(p)
		}
		if nk != len(n.child) || np != len(n.vals) {
			t.Fatalf("bitsets (%d kids, %d prefixes) disagree with slices (%d, %d)", nk, np, len(n.child), len(n.vals))
		}
		cnt := len(n.vals)
		for o := range 256 {
			ch := n.getChild(uint8(o))
			if ch == nil {
				continue
			}
			path[d] = uint8(o)
			sub := visit(ch, d+1, is6, false)
			switch {
			case sub == 0:
				t.Fatalf("empty child %x", path[:d+1])
			case is6 && sub == 1 && ch.leaf == 0:
				t.Fatalf("single-prefix subtree %x is not a leaf", path[:d+1])
			}
			cnt += sub
		}
		clear(path[d:])
		return cnt
	}
	if r := tb.root4; r != nil {
		if visit(r, 0, false, true) != tb.len4 {
			t.Fatalf("IPv4 trie holds a different count than Len4 %d", tb.len4)
		}
	}
	if r := tb.root6; r != nil {
		if visit(r, 0, true, true) != tb.len6 {
			t.Fatalf("IPv6 trie holds a different count than Len6 %d", tb.len6)
		}
	}
	return leaves
}

// TestLeafPushDownCollapse follows one /48 through being a leaf, pushed down
// by prefixes below and beside it, and collapsed back, checking every
// snapshot on the way against the reference at the end.
func TestLeafPushDownCollapse(t *testing.T) {
	mp := netip.MustParsePrefix
	ref := refTable{}
	tx := (*Table[int])(nil).Txn()
	var snaps []snapshot
	commit := func() *Table[int] {
		tb := tx.Commit()
		snaps = append(snaps, snapshot{tb, ref.clone()})
		return tb
	}
	ins := func(p string, v int) {
		tx.Insert(mp(p), v)
		ref[mp(p).Masked()] = v
	}
	del := func(p string) {
		if _, ok := tx.Delete(mp(p)); !ok {
			t.Fatalf("Delete(%s) failed", p)
		}
		delete(ref, mp(p).Masked())
	}
	leafAt := func(tb *Table[int], o uint8) *node[int] {
		t.Helper()
		c := tb.root6.getChild(o)
		if c == nil || c.leaf == 0 {
			t.Fatalf("root child %#x is not a leaf", o)
		}
		return c
	}

	// Enough IPv6 prefixes that the flat small-table path is off.
	for i := range 9 {
		ins(netip.PrefixFrom(netip.AddrFrom16([16]byte{0x30, byte(i)}), 16).String(), 100+i)
	}
	ins("2001:db8:1::/48", 1)
	t0 := commit()
	l0 := leafAt(t0, 0x20)
	saved := [4]uint64{l0.kids[0], l0.kids[1], l0.kids[2], uint64(l0.lv)}
	if got := l0.leafPrefix(); got != mp("2001:db8:1::/48") {
		t.Fatalf("leaf holds %v", got)
	}

	ins("2001:db8:1:2::/64", 2) // pushes the /48 down to its own depth (5)
	t1 := commit()
	if t1.root6.getChild(0x20).leaf != 0 {
		t.Fatal("leaf not pushed down")
	}
	if saved != [4]uint64{l0.kids[0], l0.kids[1], l0.kids[2], uint64(l0.lv)} || leafAt(t0, 0x20) != l0 {
		t.Fatal("push-down modified the old snapshot's leaf")
	}

	ins("2001:db8:1:2::/64", 3) // replace the value of a committed leaf
	ins("2001:db8:2::/48", 4)
	ins("2001:db8:2::/48", 5) // replace the value of this Txn's leaf in place
	commit()
	del("2001:db8:1::/48")
	del("2001:db8:2::/48") // the /64 is alone: the chain collapses to it
	t3 := commit()
	if got := leafAt(t3, 0x20).leafPrefix(); got != mp("2001:db8:1:2::/64") {
		t.Fatalf("collapsed leaf holds %v", got)
	}

	ins("2001:db8:1::/48", 6)
	ins("2001:db8::/47", 7)
	commit()
	del("2001:db8:1:2::/64") // a node with one prefix of its own collapses to a new leaf
	del("2001:db8:1::/48")
	t5 := commit()
	if got := leafAt(t5, 0x20).leafPrefix(); got != mp("2001:db8::/47") {
		t.Fatalf("collapsed leaf holds %v", got)
	}

	// Host routes at the bottom of the trie: a leaf below a depth-14 node
	// (looked up at depth 15, where the batch descent stops) and a leaf
	// pushed down into a depth-15 node.
	ins("2001:db8:ffff::/120", 8)
	ins("2001:db8:ffff::1/128", 9)
	commit()
	ins("2001:db8:ffff::2/128", 10)
	ins("2001:db8:ffff::100/128", 11)
	commit()
	ins("2001:db8:8000::/17", 12) // a leaf beside the others at depth 2
	ins("2001:db8:8000::/9", 13)  // a /9: a leaf under the root
	commit()
	for p := range ref {
		del(p.String())
		if len(ref)%3 == 0 {
			commit()
		}
	}
	if tb := commit(); tb.root6 != nil {
		t.Fatal("IPv6 root left after deleting everything")
	}
	for i, s := range snaps {
		g := newGen(uint64(i), false)
		check(t, s.tb, s.ref, g, 300)
		for p, v := range s.ref {
			a := p.Addr().As16()
			if got, _ := s.tb.Lookup6(a); got != v && p.Bits() >= 120 {
				t.Fatalf("snapshot %d: Lookup6(%v) = %d; want %d", i, p.Addr(), got, v)
			}
		}
	}
}

// TestLeavesUsed checks that the differential workload does build leaves,
// so that the tests above exercise them.
func TestLeavesUsed(t *testing.T) {
	g := newGen(5, false)
	tx := (*Table[int])(nil).Txn()
	for i := range 3000 {
		tx.Insert(g.prefix(), i+1)
	}
	if n := checkShape(t, tx.Commit()); n < 100 {
		t.Fatalf("%d leaves in a table of 3000 random IPv6 prefixes", n)
	}
}
