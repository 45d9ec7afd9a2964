package lpm

import (
	"net/netip"
	"sync/atomic"
)

// generation hands out Txn generations. Generations are never reused, so a
// node stamped by a committed Txn can never again be modified in place.
var generation atomic.Uint64

// Txn is a batch of changes on top of a Table. Changes copy only the nodes on
// their path, and each node at most once per Txn; Commit publishes the result
// as a new Table without touching the one the Txn started from. A Txn is not
// safe for concurrent use.
type Txn[V comparable] struct {
	t       Table[V]
	gen     uint64     // generation of the nodes and index chunks it may modify
	touched []*node[V] // nodes created by this generation, trimmed on Commit
	// vt is the value table tx owns (vals.go), nil until it needs one;
	// vals[:valsBase] were there when tx took it.
	vt       *valTab[V]
	valsBase int
	// changes4 counts the IPv4 changes since the last Commit; rebuild4
	// says the IPv4 index is to be rebuilt at Commit (fib4.go).
	changes4 int
	rebuild4 bool
	// changes6 and rebuild6 are the same for IPv6 (fib6.go).
	changes6 int
	rebuild6 bool
	// overflow says the value indexes ran out (vals.go): both indexes are
	// rebuilt at Commit with a fresh value table.
	overflow bool
	// bb4 is scratch for re-encoding IPv4 index buckets, nil until needed.
	bb4 *bucketBuf
}

// Txn starts a batch of changes on top of t (nil means an empty table).
func (t *Table[V]) Txn() *Txn[V] {
	tx := &Txn[V]{gen: generation.Add(1), touched: make([]*node[V], 0, 8)}
	if t != nil {
		tx.t = *t
	}
	return tx
}

// Len4 returns the number of IPv4 prefixes including the pending changes.
func (tx *Txn[V]) Len4() int { return tx.t.len4 }

// Len6 returns the number of IPv6 prefixes including the pending changes.
func (tx *Txn[V]) Len6() int { return tx.t.len6 }

// Get returns the value for exactly prefix p, including pending changes.
func (tx *Txn[V]) Get(p netip.Prefix) (V, bool) { return tx.t.Get(p) }

// LookupPrefix is Table.LookupPrefix including pending changes.
func (tx *Txn[V]) LookupPrefix(a netip.Addr) (netip.Prefix, V, bool) {
	return tx.t.LookupPrefix(a)
}

// Abort ends a Txn whose changes are not wanted: it gives back the value
// table it took from its base, so the next Txn from that Table takes it
// over instead of copying it (up to 32,768 values). The Txn must not be
// used afterwards.
func (tx *Txn[V]) Abort() {
	if vt := tx.vt; vt != nil {
		// The values tx added are referred to by nothing but its own
		// discarded changes.
		for _, v := range vt.vals[tx.valsBase:] {
			delete(vt.idx, v)
		}
		clear(vt.vals[tx.valsBase:])
		clear(vt.uni[tx.valsBase:])
		vt.vals, vt.uni = vt.vals[:tx.valsBase], vt.uni[:tx.valsBase]
	}
	tx.releaseVals()
	clear(tx.touched)
	tx.touched = nil
}

// Commit returns the table with all changes so far. The Txn stays usable for
// further changes, which will not affect the returned Table.
func (tx *Txn[V]) Commit() *Table[V] {
	for _, n := range tx.touched {
		n.trim()
	}
	clear(tx.touched)
	tx.touched = tx.touched[:0]
	tx.commitIndexes()
	tx.releaseVals()
	tx.gen = generation.Add(1)
	t := tx.t
	t.buildSmall()
	return &t
}

// own returns n if this Txn may modify it, else a private copy of it (or a
// new node if n is nil).
func (tx *Txn[V]) own(n *node[V]) *node[V] {
	if n != nil && n.gen == tx.gen {
		return n
	}
	c := &node[V]{gen: tx.gen}
	if n != nil {
		c.pfx, c.kids, c.pfxRank, c.kidsRank = n.pfx, n.kids, n.pfxRank, n.kidsRank
		c.leaf, c.lv = n.leaf, n.lv
		if len(n.vals) > 0 {
			// Room for one insert: the common single-route change then
			// allocates once per node.
			c.vals = append(make([]V, 0, len(n.vals)+1), n.vals...)
		}
		if len(n.child) > 0 {
			c.child = append(make([]*node[V], 0, len(n.child)+1), n.child...)
		}
	}
	tx.touched = append(tx.touched, c)
	return c
}

// root returns a pointer to the root for p's family.
func (tx *Txn[V]) root(p netip.Prefix) (*node[V], *int) {
	if p.Addr().Is4() {
		return tx.t.root4, &tx.t.len4
	}
	return tx.t.root6, &tx.t.len6
}

func (tx *Txn[V]) setRoot(p netip.Prefix, n *node[V]) {
	if p.Addr().Is4() {
		tx.t.root4 = n
	} else {
		tx.t.root6 = n
	}
}

// Insert stores v for prefix p (masked first), replacing and returning any
// previous value. Invalid prefixes are ignored (ok is false, nothing stored);
// callers validate before inserting.
func (tx *Txn[V]) Insert(p netip.Prefix, v V) (old V, replaced bool) {
	if !p.IsValid() {
		return old, false
	}
	p = p.Masked()
	_, b, depth, idx := tx.t.locate(p)
	root, count := tx.root(p)
	n := tx.own(root)
	if n != root {
		tx.setRoot(p, n)
	}
	is6 := !p.Addr().Is4()
	for d := 0; d < depth; d++ {
		c := n.getChild(b[d])
		if is6 {
			switch {
			case c == nil:
				// The subtree would hold p alone: a leaf.
				n.setChild(b[d], newLeaf(&b, p.Bits(), v, tx.gen))
				*count++
				tx.update6(&b, p.Bits())
				return old, false
			case c.leaf != 0 && c.leafIs(&b, p.Bits()):
				old = c.lv
				if c.gen == tx.gen {
					c.lv = v
				} else {
					n.setChild(b[d], newLeaf(&b, p.Bits(), v, tx.gen))
				}
				tx.update6(&b, p.Bits())
				return old, true
			case c.leaf != 0:
				// Push the leaf down under a new node and go on into it;
				// the leaf may need pushing again at the next level.
				m := &node[V]{gen: tx.gen}
				tx.touched = append(tx.touched, m)
				placeLeaf(m, c, d+1)
				n.setChild(b[d], m)
				n = m
				continue
			}
		}
		oc := tx.own(c)
		if oc != c {
			n.setChild(b[d], oc)
		}
		n = oc
	}
	old, replaced = n.setPfx(idx, v)
	if !replaced {
		*count++
	}
	if p.Addr().Is4() {
		tx.update4(&b, p.Bits())
	} else {
		tx.update6(&b, p.Bits())
	}
	return old, replaced
}

// Delete removes prefix p (masked first), returning its value. Nodes left
// empty are removed, so the table's shape depends only on its contents.
func (tx *Txn[V]) Delete(p netip.Prefix) (old V, ok bool) {
	if !p.IsValid() {
		return old, false
	}
	p = p.Masked()
	if _, ok := tx.t.Get(p); !ok {
		return old, false // nothing to copy
	}
	_, b, depth, idx := tx.t.locate(p)
	root, count := tx.root(p)
	var path [16]*node[V]
	n := tx.own(root)
	if n != root {
		tx.setRoot(p, n)
	}
	r := n
	d := 0
	for ; d < depth; d++ {
		path[d] = n
		c := n.getChild(b[d])
		if c.leaf != 0 {
			// p is the leaf (Get found p, and a leaf is all of its subtree).
			old = c.lv
			n.delChild(b[d])
			break
		}
		oc := tx.own(c)
		if oc != c {
			n.setChild(b[d], oc)
		}
		n = oc
	}
	if d == depth {
		old = n.delPfx(idx)
	}
	*count--
	// n, at depth d, lost a prefix, and so did the subtrees of its
	// ancestors: remove the ones left empty and, for IPv6, turn the ones
	// left with a single prefix into a leaf.
	is6 := !p.Addr().Is4()
	for ; d > 0; d-- {
		parent := path[d-1]
		if n.empty() {
			parent.delChild(b[d-1])
		} else if l := collapse6(is6, n, d, &b, tx.gen); l != nil {
			parent.setChild(b[d-1], l)
		} else {
			break
		}
		n = parent
	}
	if r.empty() {
		tx.setRoot(p, nil)
	}
	if p.Addr().Is4() {
		tx.update4(&b, p.Bits())
	} else {
		tx.update6(&b, p.Bits())
	}
	return old, true
}
