package lpm

import "sync"

// The compiled IPv4 index (fib4.go) stores value indexes, not values: a
// Table has a slice vals of the distinct values its index refers to, and
// index 0 means "no match". Tables of one lineage share the backing array
// of vals, which only grows (but for Abort, which takes back what its Txn
// appended): a Txn appends the values it introduces past the end of its
// base Table's slice, which the base Table (and its readers) never looks at. Values no prefix uses any more stay until the index is
// rebuilt (when the indexes run out), so vals holds at most maxVals4 values.
//
// valTab is the writer's side: the map from value to index, shared by a
// lineage of Tables. Only one Txn at a time, its owner, may use it; a Txn
// becomes the owner if the table is free and nobody has appended past its
// base Table's vals, and otherwise works on a private copy. A Txn gives up
// ownership on Commit (or Abort), so the next Txn (from the Table just
// committed, or the aborted Txn's base) can take it over without copying.
type valTab[V comparable] struct {
	mu sync.Mutex
	// owner is the Txn using the table, or nil.
	// +checklocks:mu
	owner *Txn[V]

	// The fields below belong to the owner.

	// vals[0] is the zero V (no match); vals[i] the value of index i.
	vals []V
	// idx maps a value to its index.
	idx map[V]uint16
	// uni[i] is the uniform bucket of index i, nil until needed.
	uni [][]uint64
}

// maxVals is the number of value indexes (including 0); a variable so that
// tests can exercise the rebuild with few values.
var maxVals = maxVals4

// ownVals returns the value table of tx, taking ownership of the base
// table's one or copying it.
func (tx *Txn[V]) ownVals() *valTab[V] {
	if tx.vt != nil {
		return tx.vt
	}
	if vt := tx.t.vt; vt != nil {
		vt.mu.Lock()
		free := vt.owner == nil && len(vt.vals) == len(tx.t.vals)
		if free {
			vt.owner = tx
		}
		vt.mu.Unlock()
		if free {
			tx.vt, tx.valsBase = vt, len(vt.vals)
			return vt
		}
	}
	n := max(1, len(tx.t.vals))
	vt := &valTab[V]{owner: tx, idx: make(map[V]uint16, n)}
	vt.vals = append(make([]V, 0, n+n/4+8), tx.t.vals...)
	vt.vals = vt.vals[:n]
	vt.uni = make([][]uint64, n, cap(vt.vals))
	for i := 1; i < n; i++ {
		vt.idx[vt.vals[i]] = uint16(i)
	}
	tx.vt, tx.t.vt, tx.t.vals = vt, vt, vt.vals
	tx.valsBase = n
	return vt
}

// freshVals gives tx a new, empty value table (for a rebuild).
func (tx *Txn[V]) freshVals() {
	tx.releaseVals()
	vt := &valTab[V]{owner: tx, idx: make(map[V]uint16)}
	vt.vals = make([]V, 1, 64)
	vt.uni = make([][]uint64, 1, 64)
	tx.vt, tx.t.vt, tx.t.vals = vt, vt, vt.vals
	tx.valsBase = 1
}

// releaseVals gives up ownership of tx's value table.
func (tx *Txn[V]) releaseVals() {
	if vt := tx.vt; vt != nil {
		vt.mu.Lock()
		vt.owner = nil
		vt.mu.Unlock()
		tx.vt = nil
	}
}

// valIndex returns the index of v, adding it if needed. If the indexes have
// run out it returns 0 and asks for a rebuild at Commit.
func (tx *Txn[V]) valIndex(v V) uint16 {
	vt := tx.ownVals()
	if i, ok := vt.idx[v]; ok {
		return i
	}
	if len(vt.vals) >= maxVals {
		tx.overflow = true
		return 0
	}
	i := uint16(len(vt.vals))
	vt.vals = append(vt.vals, v)
	vt.uni = append(vt.uni, nil)
	vt.idx[v] = i
	tx.t.vals = vt.vals
	return i
}
