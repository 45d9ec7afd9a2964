package stack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/nexthop-router/nexthop/stack/internal/lpm"
)

// RouteType says what the forwarder does with a packet whose longest match is
// the route, like the kernel's RTN_* route types.
type RouteType uint8

// Route types. The zero value is unicast, the only type with next hops.
const (
	// RouteUnicast forwards to one of the route's next hops.
	RouteUnicast RouteType = iota
	// RouteBlackhole drops silently (no ICMP error), e.g. for discard prefixes.
	RouteBlackhole
	// RouteUnreachable drops and answers ICMP destination/net unreachable.
	RouteUnreachable
	// RouteProhibit drops and answers ICMP administratively prohibited.
	RouteProhibit

	// NumRouteTypes is the number of route types, for arrays indexed by RouteType.
	NumRouteTypes = 4
)

var routeTypeNames = [NumRouteTypes]string{"unicast", "blackhole", "unreachable", "prohibit"}

// String returns the name used by `ip route` for the type.
func (t RouteType) String() string {
	if int(t) < len(routeTypeNames) {
		return routeTypeNames[t]
	}
	return fmt.Sprintf("RouteType(%d)", uint8(t))
}

// RouteSource records who installed a route, so that a NIC going away or a
// kernel resync only removes the routes it owns.
type RouteSource uint8

// Route sources. The zero value is static (configured).
const (
	// RouteSourceStatic is a route from the configuration or the API.
	RouteSourceStatic RouteSource = iota
	// RouteSourceConnected is the on-link route of a NIC address.
	RouteSourceConnected
	// RouteSourceKernel is a route mirrored from the kernel FIB.
	RouteSourceKernel

	numRouteSources = 3
)

var routeSourceNames = [numRouteSources]string{"static", "connected", "kernel"}

// String returns "static", "connected" or "kernel".
func (s RouteSource) String() string {
	if int(s) < len(routeSourceNames) {
		return routeSourceNames[s]
	}
	return fmt.Sprintf("RouteSource(%d)", uint8(s))
}

// NextHop is where a unicast route sends packets: a gateway reached through a
// NIC, or, with no Gateway, the NIC itself (on-link: the packet's destination
// is the neighbour to resolve).
type NextHop struct {
	// Gateway is the neighbour to forward to; the zero Addr means on-link.
	// Its zone is ignored: NIC gives the scope of a link-local gateway.
	Gateway netip.Addr
	// NIC is the egress NIC. Zero means "the NIC of the on-link route that
	// covers Gateway", resolved once when the route is installed.
	NIC NICID
}

// String formats the next hop like `ip route`: "via 198.18.0.2 nic 1" or "nic 1".
func (nh NextHop) String() string {
	if nh.Gateway.IsValid() {
		return fmt.Sprintf("via %s nic %d", nh.Gateway, nh.NIC)
	}
	return fmt.Sprintf("nic %d", nh.NIC)
}

// Route is the control-path view of one route table entry.
type Route struct {
	// Prefix is the destination; it must be masked (no host bits set).
	Prefix netip.Prefix
	// Type is what to do with matching packets; the zero value is unicast.
	Type RouteType
	// NextHops are the equal-cost next hops of a unicast route (at least one,
	// at most MaxNextHops); other types have none.
	NextHops []NextHop
	// Source is who installed the route; the zero value is static.
	Source RouteSource
}

// MaxNextHops bounds the ECMP fan-out of one route, as the kernel's
// fib_multipath limits do, so a route's entry stays small.
const MaxNextHops = 64

// FIBEntry is what the data path gets from a lookup: the action for a packet.
// Entries are immutable and interned, so every prefix with the same type,
// next hops and source shares one *FIBEntry (a full table costs one pointer
// per prefix) and two lookups may be compared by pointer.
type FIBEntry struct {
	// Type is the route type.
	Type RouteType
	// NextHops are the route's next hops, sorted by NIC then gateway. Never
	// modify them: the slice is shared by every route with this entry.
	NextHops []NextHop

	source RouteSource
	key    string // interning key
}

// NextHop picks the next hop for a flow with the given hash (ECMP), so one
// flow always takes one path. It returns nil for a nil entry and for
// non-unicast routes. It does not allocate.
func (e *FIBEntry) NextHop(hash uint32) *NextHop {
	if e == nil || e.Type != RouteUnicast || len(e.NextHops) == 0 {
		return nil
	}
	// Multiply-shift maps the hash onto [0, n) without a division.
	return &e.NextHops[uint64(hash)*uint64(len(e.NextHops))>>32]
}

// RouteOp is the kind of one change in a RouteTable.Apply batch.
type RouteOp uint8

// Route operations.
const (
	// RouteAdd installs a route; the prefix must not have one yet.
	RouteAdd RouteOp = iota
	// RouteReplace installs a route, replacing any existing one for the
	// prefix (like `ip route replace`).
	RouteReplace
	// RouteDelete removes the route for Route.Prefix; other fields are ignored.
	RouteDelete
)

// String returns "add", "replace" or "delete".
func (op RouteOp) String() string {
	switch op {
	case RouteAdd:
		return "add"
	case RouteReplace:
		return "replace"
	case RouteDelete:
		return "delete"
	}
	return fmt.Sprintf("RouteOp(%d)", uint8(op))
}

// RouteChange is one change of a batch given to RouteTable.Apply.
type RouteChange struct {
	// Op is what to do; the zero value is RouteAdd.
	Op RouteOp
	// Route is the route to add or replace; RouteDelete uses only its Prefix.
	Route Route
}

// RouteCounts counts installed routes per address family and RouteType
// (arrays indexed by RouteType), for metrics.
type RouteCounts struct {
	IPv4, IPv6 [NumRouteTypes]int
}

// Total returns the number of routes of every type and family.
func (c RouteCounts) Total() int {
	n := 0
	for i := range NumRouteTypes {
		n += c.IPv4[i] + c.IPv6[i]
	}
	return n
}

// Errors returned (wrapped in a *RouteError) by RouteTable.Apply; test them
// with errors.Is.
var (
	// ErrRouteExists: RouteAdd for a prefix that already has a route.
	ErrRouteExists = errors.New("already exists (use replace)")
	// ErrRouteNotFound: RouteDelete for a prefix that has no route.
	ErrRouteNotFound = errors.New("not found")
	// ErrInvalidRoute: the route failed validation; the message says why.
	ErrInvalidRoute = errors.New("invalid route")
)

// RouteError is a failed change of a batch, naming the route it concerns:
// "route 198.18.0.0/15: already exists (use replace)".
type RouteError struct {
	// Prefix is the route's prefix as given.
	Prefix netip.Prefix
	// Err is the cause: ErrRouteExists, ErrRouteNotFound or an error that
	// matches ErrInvalidRoute.
	Err error
}

// Error implements error.
func (e *RouteError) Error() string { return "route " + e.Prefix.String() + ": " + e.Err.Error() }

// Unwrap returns the cause, e.g. ErrRouteExists.
func (e *RouteError) Unwrap() error { return e.Err }

// invalidRoute is a validation failure: its message is the whole explanation
// and it matches ErrInvalidRoute.
type invalidRoute string

func (e invalidRoute) Error() string        { return string(e) }
func (e invalidRoute) Is(target error) bool { return target == ErrInvalidRoute }

func invalidf(format string, args ...any) error {
	return invalidRoute(fmt.Sprintf(format, args...))
}

// RouteTable is the stack's IPv4 and IPv6 route table. Lookups read an
// immutable snapshot published through an atomic.Pointer and never lock;
// changes are applied in batches by the control path, which copies only the
// trie nodes (and, for IPv4, the parts of the compiled lookup index) it
// touches and publishes the new snapshot with one Store. Because entries are
// interned, the IPv4 index stores small indexes of the few distinct entries
// rather than pointers, which keeps a full table's index a few MiB and
// mostly in the CPU caches. The zero value is not usable; call
// NewRouteTable.
type RouteTable struct {
	snap atomic.Pointer[routeSnapshot]

	// mu serializes the control path; Lookup never takes it.
	mu sync.Mutex
	// intern maps an entry's key to its interned entry and reference count.
	// +checklocks:mu
	intern map[string]*internSlot
	// keyBuf is scratch for interning keys.
	// +checklocks:mu
	keyBuf []byte
	// hops is scratch for normalizing next hops.
	// +checklocks:mu
	hops []NextHop
}

// routeSnapshot is what one publish makes visible: the trie and its counts.
type routeSnapshot struct {
	fib    lpm.Table[*FIBEntry]
	counts RouteCounts
}

// internSlot is an interned entry with the number of prefixes using it.
type internSlot struct {
	e     *FIBEntry
	refs  int  // committed references
	delta int  // references added (or, negative, dropped) by the current batch
	dirty bool // in the current batch's dirty list
}

// NewRouteTable returns an empty route table.
func NewRouteTable() *RouteTable {
	t := &RouteTable{intern: make(map[string]*internSlot)}
	t.snap.Store(&routeSnapshot{})
	return t
}

// Lookup4 returns the entry of the longest IPv4 route containing dst, or nil
// if there is none. It is the data-path lookup: lock-free and allocation-free.
func (t *RouteTable) Lookup4(dst [4]byte) *FIBEntry {
	e, _ := t.snap.Load().fib.Lookup4(dst)
	return e
}

// Lookup6 returns the entry of the longest IPv6 route containing dst, or nil
// if there is none. It is the data-path lookup: lock-free and allocation-free.
func (t *RouteTable) Lookup6(dst [16]byte) *FIBEntry {
	e, _ := t.snap.Load().fib.Lookup6(dst)
	return e
}

// Lookup4Batch sets out[i] = Lookup4(dst[i]) for a batch of packets (len(out)
// must be at least len(dst)). On a table larger than the CPU caches it is
// faster per lookup than Lookup4, because it overlaps the cache misses of
// several lookups; the forwarder's RX batches are what it is for.
func (t *RouteTable) Lookup4Batch(dst [][4]byte, out []*FIBEntry) {
	t.snap.Load().fib.Lookup4Batch(dst, out)
}

// Lookup6Batch is Lookup4Batch for IPv6.
func (t *RouteTable) Lookup6Batch(dst [][16]byte, out []*FIBEntry) {
	t.snap.Load().fib.Lookup6Batch(dst, out)
}

// Lookup is Lookup4 or Lookup6 by the family of dst; IPv4-mapped IPv6
// addresses are looked up as IPv6. It returns nil for an invalid dst.
func (t *RouteTable) Lookup(dst netip.Addr) *FIBEntry {
	e, _ := t.snap.Load().fib.Lookup(dst)
	return e
}

// LookupRoute returns the route that Lookup would use for dst, with its
// prefix. It is for the control path (diagnostics, tests): it allocates.
func (t *RouteTable) LookupRoute(dst netip.Addr) (Route, bool) {
	p, e, ok := t.snap.Load().fib.LookupPrefix(dst)
	if !ok {
		return Route{}, false
	}
	return e.route(p), true
}

// Get returns the route for exactly prefix p, if there is one.
func (t *RouteTable) Get(p netip.Prefix) (Route, bool) {
	e, ok := t.snap.Load().fib.Get(p)
	if !ok || p != p.Masked() {
		return Route{}, false
	}
	return e.route(p), true
}

// route returns the control-path view of e for prefix p, with a private
// copy of the next hops.
func (e *FIBEntry) route(p netip.Prefix) Route {
	return Route{Prefix: p, Type: e.Type, NextHops: slices.Clone(e.NextHops), Source: e.source}
}

// Routes returns every route: IPv4 first, then IPv6, each sorted by address
// and then prefix length. It is a consistent snapshot.
func (t *RouteTable) Routes() []Route {
	s := t.snap.Load()
	rs := make([]Route, 0, s.fib.Len4()+s.fib.Len6())
	for p, e := range s.fib.All() {
		rs = append(rs, e.route(p))
	}
	return rs
}

// Count returns the number of routes per family and type, for metrics. It
// reads the current snapshot and never waits for the control path.
func (t *RouteTable) Count() RouteCounts {
	return t.snap.Load().counts
}

// Add installs r; the prefix must not have a route yet.
func (t *RouteTable) Add(r Route) error {
	return t.Apply([]RouteChange{{Op: RouteAdd, Route: r}})
}

// Replace installs r, replacing any route for the same prefix.
func (t *RouteTable) Replace(r Route) error {
	return t.Apply([]RouteChange{{Op: RouteReplace, Route: r}})
}

// Delete removes the route for prefix p.
func (t *RouteTable) Delete(p netip.Prefix) error {
	return t.Apply([]RouteChange{{Op: RouteDelete, Route: Route{Prefix: p}}})
}

// Apply validates and applies a batch of changes atomically: either all of
// them take effect, published to lookups at once, or none does and the error
// (a *RouteError) names the first failing route. Later changes see earlier
// ones, so a batch may add a connected route and then a route via it.
func (t *RouteTable) Apply(changes []RouteChange) error {
	if len(changes) == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.snap.Load()
	b := routeBatch{t: t, tx: old.fib.Txn(), counts: old.counts}
	for i := range changes {
		if err := b.apply(&changes[i]); err != nil {
			b.abort()
			b.tx.Abort()
			return err
		}
	}
	s := &routeSnapshot{fib: *b.tx.Commit(), counts: b.counts}
	t.snap.Store(s)
	b.commit()
	return nil
}

// routeBatch is the state of one Apply call.
type routeBatch struct {
	t      *RouteTable
	tx     *lpm.Txn[*FIBEntry]
	counts RouteCounts
	dirty  []*internSlot // slots whose delta is non-zero or that are new
}

// apply validates and applies one change to the batch.
//
// Precondition: b.t.mu is locked.
func (b *routeBatch) apply(c *RouteChange) error {
	r := &c.Route
	p := r.Prefix
	if err := checkPrefix(p); err != nil {
		return &RouteError{Prefix: p, Err: err}
	}
	is4 := p.Addr().Is4()
	switch c.Op {
	case RouteAdd, RouteReplace:
		e, err := b.entry(r)
		if err != nil {
			return &RouteError{Prefix: p, Err: err}
		}
		if c.Op == RouteAdd {
			if _, ok := b.tx.Get(p); ok {
				return &RouteError{Prefix: p, Err: ErrRouteExists}
			}
		}
		b.ref(e, +1, is4)
		if old, replaced := b.tx.Insert(p, e); replaced {
			b.ref(old, -1, is4)
		}
	case RouteDelete:
		old, ok := b.tx.Delete(p)
		if !ok {
			return &RouteError{Prefix: p, Err: ErrRouteNotFound}
		}
		b.ref(old, -1, is4)
	default:
		return &RouteError{Prefix: p, Err: invalidf("unknown operation %v", c.Op)}
	}
	return nil
}

// checkPrefix rejects prefixes the table cannot hold.
func checkPrefix(p netip.Prefix) error {
	if !p.IsValid() {
		return invalidf("prefix is not valid")
	}
	if m := p.Masked(); m != p {
		return invalidf("prefix is not masked (did you mean %v?)", m)
	}
	return nil
}

// entry validates r and returns its interned entry, creating it if needed.
//
// Precondition: b.t.mu is locked.
func (b *routeBatch) entry(r *Route) (*FIBEntry, error) {
	if r.Type >= NumRouteTypes {
		return nil, invalidf("unknown route type %d", r.Type)
	}
	if r.Source >= numRouteSources {
		return nil, invalidf("unknown route source %d", r.Source)
	}
	is4 := r.Prefix.Addr().Is4()
	switch {
	case r.Type != RouteUnicast && len(r.NextHops) > 0:
		return nil, invalidf("%v route takes no next hops", r.Type)
	case r.Type == RouteUnicast && len(r.NextHops) == 0:
		return nil, invalidf("unicast route needs a next hop")
	case len(r.NextHops) > MaxNextHops:
		return nil, invalidf("%d next hops; at most %d are supported", len(r.NextHops), MaxNextHops)
	}
	hops := append(b.t.hops[:0], r.NextHops...)
	b.t.hops = hops
	for i := range hops {
		nh := &hops[i]
		if g := nh.Gateway; g.IsValid() {
			switch {
			case g.Is4() != is4:
				return nil, invalidf("gateway %v is not an %s address", g, family(is4))
			case g.IsUnspecified() || g.IsMulticast() || (is4 && g == netip.AddrFrom4([4]byte{255, 255, 255, 255})):
				return nil, invalidf("gateway %v is not a unicast address", g)
			}
			nh.Gateway = g.WithZone("")
			if nh.NIC == 0 {
				nic, err := b.resolveNIC(nh.Gateway)
				if err != nil {
					return nil, err
				}
				nh.NIC = nic
			}
		} else if nh.NIC == 0 {
			return nil, invalidf("on-link next hop needs a NIC")
		}
		if nh.NIC < 0 || nh.NIC >= MaxNICs {
			return nil, invalidf("next hop NIC %d out of range 1..%d", nh.NIC, MaxNICs-1)
		}
	}
	slices.SortFunc(hops, compareNextHop)
	for i := 1; i < len(hops); i++ {
		if hops[i] == hops[i-1] {
			return nil, invalidf("duplicate next hop %v", hops[i])
		}
	}
	return b.intern(r.Type, r.Source, hops), nil
}

func family(is4 bool) string {
	if is4 {
		return "IPv4"
	}
	return "IPv6"
}

func compareNextHop(a, b NextHop) int {
	if a.NIC != b.NIC {
		return int(a.NIC) - int(b.NIC)
	}
	return a.Gateway.Compare(b.Gateway)
}

// resolveNIC finds the NIC of a gateway given without one: the gateway must
// be covered by an on-link unicast route (a connected network) with a
// single NIC, as the kernel requires a gateway to be reachable.
//
// Precondition: b.t.mu is locked.
func (b *routeBatch) resolveNIC(gw netip.Addr) (NICID, error) {
	p, e, ok := b.tx.LookupPrefix(gw)
	if ok && e.Type == RouteUnicast {
		nic := e.NextHops[0].NIC
		single := true
		for _, nh := range e.NextHops {
			single = single && !nh.Gateway.IsValid() && nh.NIC == nic
		}
		if single {
			return nic, nil
		}
	}
	if ok {
		return 0, invalidf("gateway %v is not on a connected network (it matches %v, which is not on-link via one NIC); give the next hop's NIC", gw, p)
	}
	return 0, invalidf("gateway %v is not on a connected network; give the next hop's NIC", gw)
}

// intern returns the shared entry for (typ, src, hops), creating it (with a
// private copy of hops) if there is none.
//
// Precondition: b.t.mu is locked.
func (b *routeBatch) intern(typ RouteType, src RouteSource, hops []NextHop) *FIBEntry {
	k := append(b.t.keyBuf[:0], byte(typ), byte(src))
	for _, nh := range hops {
		k = binary.BigEndian.AppendUint32(k, uint32(nh.NIC))
		k = append(k, byte(nh.Gateway.BitLen()/8))
		k = append(k, nh.Gateway.AsSlice()...)
	}
	b.t.keyBuf = k
	if s, ok := b.t.intern[string(k)]; ok { // no allocation for the lookup
		return s.e
	}
	e := &FIBEntry{Type: typ, source: src, key: string(k)}
	if len(hops) > 0 {
		e.NextHops = slices.Clone(hops)
	}
	s := &internSlot{e: e, dirty: true}
	b.t.intern[e.key] = s
	b.dirty = append(b.dirty, s) // new: removed again if the batch fails
	return e
}

// ref records that the batch added (+1) or dropped (-1) a use of e by a
// route of the given family.
//
// Precondition: b.t.mu is locked.
func (b *routeBatch) ref(e *FIBEntry, d int, is4 bool) {
	s := b.t.intern[e.key]
	s.delta += d
	if !s.dirty {
		s.dirty = true
		b.dirty = append(b.dirty, s)
	}
	if is4 {
		b.counts.IPv4[e.Type] += d
	} else {
		b.counts.IPv6[e.Type] += d
	}
}

// commit folds the batch's reference changes into the intern table and drops
// entries no route uses any more.
//
// Precondition: b.t.mu is locked.
func (b *routeBatch) commit() {
	for _, s := range b.dirty {
		s.refs += s.delta
		s.delta, s.dirty = 0, false
		if s.refs == 0 {
			delete(b.t.intern, s.e.key)
		}
	}
}

// abort undoes the batch's reference changes and forgets its new entries.
//
// Precondition: b.t.mu is locked.
func (b *routeBatch) abort() {
	for _, s := range b.dirty {
		s.delta, s.dirty = 0, false
		if s.refs == 0 {
			delete(b.t.intern, s.e.key)
		}
	}
}
