package stack

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

var (
	mp = netip.MustParsePrefix
	ma = netip.MustParseAddr
)

func onLink(nic NICID) []NextHop { return []NextHop{{NIC: nic}} }

func via(gw string, nic NICID) []NextHop {
	return []NextHop{{Gateway: ma(gw), NIC: nic}}
}

func TestRouteTypeStrings(t *testing.T) {
	for typ, want := range map[RouteType]string{RouteUnicast: "unicast", RouteBlackhole: "blackhole",
		RouteUnreachable: "unreachable", RouteProhibit: "prohibit", 9: "RouteType(9)"} {
		if got := typ.String(); got != want {
			t.Errorf("RouteType(%d).String() = %q; want %q", typ, got, want)
		}
	}
	for src, want := range map[RouteSource]string{RouteSourceStatic: "static",
		RouteSourceConnected: "connected", RouteSourceKernel: "kernel"} {
		if got := src.String(); got != want {
			t.Errorf("RouteSource(%d).String() = %q; want %q", src, got, want)
		}
	}
}

func TestRouteApplyErrors(t *testing.T) {
	tb := NewRouteTable()
	if err := tb.Apply([]RouteChange{
		{Op: RouteAdd, Route: Route{Prefix: mp("198.18.0.0/24"), NextHops: onLink(1), Source: RouteSourceConnected}},
		{Op: RouteAdd, Route: Route{Prefix: mp("198.18.0.0/15"), NextHops: via("198.18.0.2", 0)}},
		{Op: RouteAdd, Route: Route{Prefix: mp("2001:db8::/32"), Type: RouteBlackhole}},
	}); err != nil {
		t.Fatalf("Apply(setup) = %v", err)
	}
	for _, c := range []struct {
		name   string
		change RouteChange
		want   string
		is     error
	}{
		{"exists", RouteChange{Op: RouteAdd, Route: Route{Prefix: mp("198.18.0.0/15"), NextHops: onLink(1)}},
			"route 198.18.0.0/15: already exists (use replace)", ErrRouteExists},
		{"delete missing", RouteChange{Op: RouteDelete, Route: Route{Prefix: mp("198.20.0.0/16")}},
			"route 198.20.0.0/16: not found", ErrRouteNotFound},
		{"no next hop", RouteChange{Op: RouteAdd, Route: Route{Prefix: mp("198.20.0.0/16")}},
			"route 198.20.0.0/16: unicast route needs a next hop", ErrInvalidRoute},
		{"not masked", RouteChange{Op: RouteAdd, Route: Route{Prefix: mp("198.19.0.1/15"), NextHops: onLink(1)}},
			"route 198.19.0.1/15: prefix is not masked (did you mean 198.18.0.0/15?)", ErrInvalidRoute},
		{"not masked delete", RouteChange{Op: RouteDelete, Route: Route{Prefix: mp("198.18.0.1/24")}},
			"route 198.18.0.1/24: prefix is not masked (did you mean 198.18.0.0/24?)", ErrInvalidRoute},
		{"invalid prefix", RouteChange{Op: RouteAdd, Route: Route{NextHops: onLink(1)}},
			"route invalid Prefix: prefix is not valid", ErrInvalidRoute},
		{"blackhole with hops", RouteChange{Op: RouteAdd, Route: Route{Prefix: mp("198.20.0.0/16"), Type: RouteBlackhole, NextHops: onLink(1)}},
			"route 198.20.0.0/16: blackhole route takes no next hops", ErrInvalidRoute},
		{"family", RouteChange{Op: RouteAdd, Route: Route{Prefix: mp("198.20.0.0/16"), NextHops: via("2001:db8::1", 1)}},
			"route 198.20.0.0/16: gateway 2001:db8::1 is not an IPv4 address", ErrInvalidRoute},
		{"multicast gw", RouteChange{Op: RouteAdd, Route: Route{Prefix: mp("2001:db8:1::/48"), NextHops: via("ff02::1", 1)}},
			"route 2001:db8:1::/48: gateway ff02::1 is not a unicast address", ErrInvalidRoute},
		{"on-link no nic", RouteChange{Op: RouteAdd, Route: Route{Prefix: mp("198.20.0.0/16"), NextHops: []NextHop{{}}}},
			"route 198.20.0.0/16: on-link next hop needs a NIC", ErrInvalidRoute},
		{"nic range", RouteChange{Op: RouteAdd, Route: Route{Prefix: mp("198.20.0.0/16"), NextHops: onLink(MaxNICs)}},
			"route 198.20.0.0/16: next hop NIC 256 out of range 1..255", ErrInvalidRoute},
		{"duplicate hop", RouteChange{Op: RouteAdd, Route: Route{Prefix: mp("198.20.0.0/16"), NextHops: append(via("198.18.0.2", 1), via("198.18.0.2", 1)...)}},
			"route 198.20.0.0/16: duplicate next hop via 198.18.0.2 nic 1", ErrInvalidRoute},
		{"unresolvable gw", RouteChange{Op: RouteAdd, Route: Route{Prefix: mp("198.20.0.0/16"), NextHops: via("203.0.113.1", 0)}},
			"route 198.20.0.0/16: gateway 203.0.113.1 is not on a connected network; give the next hop's NIC", ErrInvalidRoute},
		{"gw via gateway route", RouteChange{Op: RouteAdd, Route: Route{Prefix: mp("198.20.0.0/16"), NextHops: via("198.19.0.1", 0)}},
			"route 198.20.0.0/16: gateway 198.19.0.1 is not on a connected network (it matches 198.18.0.0/15, which is not on-link via one NIC); give the next hop's NIC", ErrInvalidRoute},
		{"type", RouteChange{Op: RouteAdd, Route: Route{Prefix: mp("198.20.0.0/16"), Type: 7}},
			"route 198.20.0.0/16: unknown route type 7", ErrInvalidRoute},
		{"op", RouteChange{Op: 9, Route: Route{Prefix: mp("198.20.0.0/16")}},
			"route 198.20.0.0/16: unknown operation RouteOp(9)", ErrInvalidRoute},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := tb.Apply([]RouteChange{c.change})
			if err == nil || err.Error() != c.want {
				t.Fatalf("Apply(%v) = %v; want %q", c.change, err, c.want)
			}
			var re *RouteError
			if !errors.Is(err, c.is) || !errors.As(err, &re) || re.Prefix != c.change.Route.Prefix {
				t.Fatalf("Apply(%v) = %#v; want a *RouteError wrapping %v", c.change, err, c.is)
			}
		})
	}
	if r, ok := tb.Get(mp("198.18.0.0/15")); !ok || !reflect.DeepEqual(r.NextHops, via("198.18.0.2", 1)) {
		t.Fatalf("Get(198.18.0.0/15) = %v, %v; want the gateway resolved to NIC 1", r, ok)
	}
}

// TestRouteApplyAtomic checks that a failing batch changes nothing, and that
// a successful one is published whole.
func TestRouteApplyAtomic(t *testing.T) {
	tb := NewRouteTable()
	if err := tb.Add(Route{Prefix: mp("198.18.0.0/24"), NextHops: onLink(1)}); err != nil {
		t.Fatal(err)
	}
	before, counts, interned := tb.Routes(), tb.Count(), len(tb.intern)
	err := tb.Apply([]RouteChange{
		{Op: RouteAdd, Route: Route{Prefix: mp("198.19.0.0/24"), NextHops: via("198.18.0.9", 0)}},
		{Op: RouteReplace, Route: Route{Prefix: mp("198.18.0.0/24"), NextHops: onLink(2)}},
		{Op: RouteAdd, Route: Route{Prefix: mp("2001:db8::/32"), Type: RouteProhibit}},
		{Op: RouteDelete, Route: Route{Prefix: mp("198.20.0.0/24")}}, // fails
	})
	if !errors.Is(err, ErrRouteNotFound) {
		t.Fatalf("Apply = %v; want ErrRouteNotFound", err)
	}
	if got := tb.Routes(); !reflect.DeepEqual(got, before) {
		t.Fatalf("Routes() after failed batch = %v; want %v", got, before)
	}
	if tb.Count() != counts || len(tb.intern) != interned {
		t.Fatalf("Count, interned after failed batch = %v, %d; want %v, %d", tb.Count(), len(tb.intern), counts, interned)
	}
	if e := tb.Lookup(ma("198.19.0.1")); e != nil {
		t.Fatalf("route of failed batch visible: %v", e)
	}
	// The same batch without the failing change succeeds in one publish.
	if err := tb.Apply([]RouteChange{
		{Op: RouteAdd, Route: Route{Prefix: mp("198.19.0.0/24"), NextHops: via("198.18.0.9", 0)}},
		{Op: RouteReplace, Route: Route{Prefix: mp("198.18.0.0/24"), NextHops: onLink(2)}},
		{Op: RouteAdd, Route: Route{Prefix: mp("2001:db8::/32"), Type: RouteProhibit}},
		{Op: RouteDelete, Route: Route{Prefix: mp("2001:db8::/32")}},
		{Op: RouteAdd, Route: Route{Prefix: mp("2001:db8::/32"), Type: RouteUnreachable}},
	}); err != nil {
		t.Fatal(err)
	}
	want := []Route{
		{Prefix: mp("198.18.0.0/24"), NextHops: onLink(2)},
		{Prefix: mp("198.19.0.0/24"), NextHops: via("198.18.0.9", 1)},
		{Prefix: mp("2001:db8::/32"), Type: RouteUnreachable},
	}
	if got := tb.Routes(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Routes() = %v; want %v", got, want)
	}
	wantCounts := RouteCounts{}
	wantCounts.IPv4[RouteUnicast] = 2
	wantCounts.IPv6[RouteUnreachable] = 1
	if got := tb.Count(); got != wantCounts || got.Total() != 3 {
		t.Fatalf("Count() = %+v; want %+v", got, wantCounts)
	}
}

func TestRouteLookupAndECMP(t *testing.T) {
	tb := NewRouteTable()
	ecmp := []NextHop{{Gateway: ma("198.18.0.3"), NIC: 2}, {Gateway: ma("198.18.0.2"), NIC: 1}, {Gateway: ma("198.18.1.2"), NIC: 1}}
	if err := tb.Apply([]RouteChange{
		{Route: Route{Prefix: mp("0.0.0.0/0"), NextHops: ecmp}},
		{Route: Route{Prefix: mp("198.18.0.0/15"), NextHops: onLink(1), Source: RouteSourceConnected}},
		{Route: Route{Prefix: mp("198.18.0.1/32"), Type: RouteBlackhole}},
		{Route: Route{Prefix: mp("198.19.0.0/16"), Type: RouteUnreachable}},
		{Route: Route{Prefix: mp("2001:db8::/32"), Type: RouteProhibit}},
		{Route: Route{Prefix: mp("::/0"), NextHops: []NextHop{{Gateway: ma("fe80::1%eth0"), NIC: 3}}}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dst    string
		typ    RouteType
		prefix string
	}{
		{"8.8.8.8", RouteUnicast, "0.0.0.0/0"},
		{"198.18.3.4", RouteUnicast, "198.18.0.0/15"},
		{"198.18.0.1", RouteBlackhole, "198.18.0.1/32"},
		{"198.19.0.1", RouteUnreachable, "198.19.0.0/16"},
		{"2001:db8::1", RouteProhibit, "2001:db8::/32"},
		{"2001:db9::1", RouteUnicast, "::/0"},
		{"::ffff:198.18.0.1", RouteUnicast, "::/0"},
	} {
		e := tb.Lookup(ma(c.dst))
		if e == nil || e.Type != c.typ {
			t.Errorf("Lookup(%s) = %+v; want type %v", c.dst, e, c.typ)
			continue
		}
		if (e.NextHop(7) == nil) != (c.typ != RouteUnicast) {
			t.Errorf("Lookup(%s).NextHop = %v for type %v", c.dst, e.NextHop(7), e.Type)
		}
		r, ok := tb.LookupRoute(ma(c.dst))
		if !ok || r.Prefix != mp(c.prefix) || r.Type != c.typ {
			t.Errorf("LookupRoute(%s) = %v, %v; want %s", c.dst, r, ok, c.prefix)
		}
	}
	if e := tb.Lookup(netip.Addr{}); e != nil {
		t.Errorf("Lookup(invalid) = %v; want nil", e)
	}
	if nh := (*FIBEntry)(nil).NextHop(1); nh != nil {
		t.Errorf("nil.NextHop = %v", nh)
	}
	// ECMP: next hops are sorted, every one is used, a hash always picks the same.
	e := tb.Lookup4([4]byte{8, 8, 8, 8})
	if !slices.IsSortedFunc(e.NextHops, compareNextHop) || len(e.NextHops) != 3 {
		t.Fatalf("NextHops = %v; want 3 sorted", e.NextHops)
	}
	seen := map[NextHop]int{}
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		h := r.Uint32()
		nh := e.NextHop(h)
		if nh != e.NextHop(h) {
			t.Fatal("NextHop not deterministic")
		}
		seen[*nh]++
	}
	for _, nh := range ecmp {
		if seen[nh] < 800 {
			t.Errorf("next hop %v picked %d times of 3000", nh, seen[nh])
		}
	}
	if got := tb.Lookup6(ma("2001:db9::1").As16()).NextHops[0].Gateway; got.Zone() != "" {
		t.Errorf("gateway zone kept: %v", got)
	}
}

func TestRouteInterning(t *testing.T) {
	tb := NewRouteTable()
	var cs []RouteChange
	for i := range 100 {
		cs = append(cs, RouteChange{Route: Route{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16), NextHops: via("198.18.0.2", 1)}})
	}
	cs = append(cs, RouteChange{Route: Route{Prefix: mp("10.200.0.0/16"), NextHops: via("198.18.0.2", 1), Source: RouteSourceKernel}})
	if err := tb.Apply(cs); err != nil {
		t.Fatal(err)
	}
	if a, b := tb.Lookup(ma("10.1.0.1")), tb.Lookup(ma("10.99.0.1")); a != b {
		t.Fatal("equal routes do not share their FIBEntry")
	}
	if len(tb.intern) != 2 || tb.intern[tb.Lookup(ma("10.1.0.1")).key].refs != 100 {
		t.Fatalf("intern table has %d entries; want 2 with 100 and 1 references", len(tb.intern))
	}
	// Callers cannot modify the shared next hops through Routes or LookupRoute.
	r, _ := tb.LookupRoute(ma("10.1.0.1"))
	r.NextHops[0].NIC = 9
	if tb.Lookup(ma("10.1.0.1")).NextHops[0].NIC != 1 {
		t.Fatal("LookupRoute shares the interned next hops")
	}
	for i := range cs {
		cs[i].Op = RouteDelete
	}
	if err := tb.Apply(cs); err != nil {
		t.Fatal(err)
	}
	if len(tb.intern) != 0 || tb.Count().Total() != 0 || len(tb.Routes()) != 0 {
		t.Fatalf("after deleting everything: %d interned, %v", len(tb.intern), tb.Count())
	}
}

// TestRouteDifferential applies random batches to the table and to a map,
// then compares Routes, Count and lookups with a linear scan of the map.
func TestRouteDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	tb := NewRouteTable()
	ref := map[netip.Prefix]Route{}
	randPrefix := func() netip.Prefix {
		if r.IntN(2) == 0 {
			a := netip.AddrFrom4([4]byte{198, byte(18 + r.IntN(2)), byte(r.IntN(4)), byte(r.IntN(256))})
			return netip.PrefixFrom(a, 14+r.IntN(19)).Masked()
		}
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(r.IntN(3)), 15: byte(r.IntN(256))})
		return netip.PrefixFrom(a, 28+r.IntN(101)).Masked()
	}
	randRoute := func(p netip.Prefix) Route {
		rt := Route{Prefix: p, Type: RouteType(r.IntN(6) / 3 * r.IntN(NumRouteTypes)), Source: RouteSource(r.IntN(numRouteSources))}
		if rt.Type == RouteUnicast {
			for n := 1 + r.IntN(2); len(rt.NextHops) < n; {
				nh := NextHop{NIC: NICID(1 + r.IntN(3))}
				if r.IntN(2) == 0 {
					nh.Gateway = p.Addr().Next()
				}
				if !slices.Contains(rt.NextHops, nh) {
					rt.NextHops = append(rt.NextHops, nh)
				}
			}
			slices.SortFunc(rt.NextHops, compareNextHop)
		}
		return rt
	}
	for step := range 300 {
		var batch []RouteChange
		next := maps.Clone(ref)
		for range 1 + r.IntN(20) {
			p := randPrefix()
			op := RouteOp(r.IntN(3))
			c := RouteChange{Op: op, Route: randRoute(p)}
			_, exists := next[p]
			switch {
			case op == RouteDelete && exists:
				delete(next, p)
			case op == RouteAdd && !exists, op == RouteReplace:
				next[p] = c.Route
			default:
				c.Op = RouteReplace // keep most batches valid
				next[p] = c.Route
			}
			batch = append(batch, c)
		}
		fail := r.IntN(10) == 0
		if fail {
			batch = append(batch, RouteChange{Op: RouteAdd, Route: Route{Prefix: mp("198.18.0.1/24")}})
		}
		if err := tb.Apply(batch); (err != nil) != fail {
			t.Fatalf("step %d: Apply = %v; want failure %v", step, err, fail)
		}
		if !fail {
			ref = next
		}
		want := slices.Collect(maps.Values(ref))
		slices.SortFunc(want, func(a, b Route) int {
			if a.Prefix.Addr().Is4() != b.Prefix.Addr().Is4() {
				return map[bool]int{true: -1, false: 1}[a.Prefix.Addr().Is4()]
			}
			if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
				return c
			}
			return a.Prefix.Bits() - b.Prefix.Bits()
		})
		var wantCounts RouteCounts
		for _, rt := range want {
			if rt.Prefix.Addr().Is4() {
				wantCounts.IPv4[rt.Type]++
			} else {
				wantCounts.IPv6[rt.Type]++
			}
		}
		if got := tb.Routes(); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("step %d: Routes() = %v; want %v", step, got, want)
		}
		if got := tb.Count(); got != wantCounts {
			t.Fatalf("step %d: Count() = %v; want %v", step, got, wantCounts)
		}
		for range 50 {
			dst := randPrefix().Addr()
			var best Route
			found := false
			for _, rt := range ref {
				if rt.Prefix.Contains(dst) && (!found || rt.Prefix.Bits() > best.Prefix.Bits()) {
					best, found = rt, true
				}
			}
			var batch [1]*FIBEntry
			if dst.Is4() {
				tb.Lookup4Batch([][4]byte{dst.As4()}, batch[:])
			} else {
				tb.Lookup6Batch([][16]byte{dst.As16()}, batch[:])
			}
			if batch[0] != tb.Lookup(dst) {
				t.Fatalf("step %d: batch lookup of %v differs from Lookup", step, dst)
			}
			got, ok := tb.LookupRoute(dst)
			if ok != found || !reflect.DeepEqual(got, best) && found {
				t.Fatalf("step %d: LookupRoute(%v) = %v, %v; want %v, %v", step, dst, got, ok, best, found)
			}
		}
	}
	refs := 0
	for _, s := range tb.intern {
		refs += s.refs
	}
	if refs != len(ref) {
		t.Fatalf("intern references = %d; want %d routes", refs, len(ref))
	}
}

// TestRouteConcurrentLookup runs lookups while another goroutine applies
// batches (run it with -race): a lookup always sees either the old or the
// new snapshot, never a mix.
func TestRouteConcurrentLookup(t *testing.T) {
	tb := NewRouteTable()
	if err := tb.Apply([]RouteChange{
		{Route: Route{Prefix: mp("198.18.0.0/15"), NextHops: onLink(1)}},
		{Route: Route{Prefix: mp("2001:db8::/32"), NextHops: onLink(1)}},
	}); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for w := range 3 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for !stop.Load() {
				a4 := [4]byte{198, 18 + byte(r.IntN(2)), byte(r.IntN(256)), byte(r.IntN(256))}
				e4 := tb.Lookup4(a4)
				a6 := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, byte(r.IntN(256)), 15: 1}
				e6 := tb.Lookup6(a6)
				if e4 == nil || e6 == nil || e4.NextHop(r.Uint32()) == nil || e6.NextHop(1) == nil {
					errc <- fmt.Errorf("lookup of %v or %v found no unicast route", a4, a6)
					return
				}
			}
		})
	}
	for i := range 300 {
		var batch []RouteChange
		op := RouteAdd
		if i%2 == 1 {
			op = RouteDelete
		}
		for j := range 50 {
			batch = append(batch,
				RouteChange{Op: op, Route: Route{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, byte(j), 0}), 24), NextHops: onLink(NICID(2 + i%5))}},
				RouteChange{Op: op, Route: Route{Prefix: netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, byte(j)}), 48), NextHops: onLink(2)}})
		}
		if err := tb.Apply(batch); err != nil {
			t.Fatal(err)
		}
		_ = tb.Count()
	}
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

func TestRouteLookupAllocs(t *testing.T) {
	tb := NewRouteTable()
	if err := tb.Apply([]RouteChange{
		{Route: Route{Prefix: mp("198.18.0.0/15"), NextHops: onLink(1)}},
		{Route: Route{Prefix: mp("198.18.7.0/24"), NextHops: append(onLink(1), onLink(2)...)}},
		{Route: Route{Prefix: mp("2001:db8::/32"), NextHops: onLink(1)}},
	}); err != nil {
		t.Fatal(err)
	}
	a4, a6, a := [4]byte{198, 18, 7, 1}, ma("2001:db8::1").As16(), ma("198.18.0.1")
	d4, d6, out := make([][4]byte, 64), make([][16]byte, 64), make([]*FIBEntry, 64)
	n := testing.AllocsPerRun(1000, func() {
		tb.Lookup4(a4).NextHop(5)
		tb.Lookup6(a6).NextHop(5)
		tb.Lookup(a)
		tb.Lookup4Batch(d4, out)
		tb.Lookup6Batch(d6, out)
	})
	if n != 0 {
		t.Fatalf("Lookup4, Lookup6, Lookup, NextHop allocate %v times; want 0", n)
	}
}

// TestRouteOldSnapshotUnchanged keeps the snapshot a reader loaded before a
// batch and checks, after many batches (including a failed one, which
// abandons its changes), that it still answers exactly as before for
// prefixes of every length, /0 and host routes included.
func TestRouteOldSnapshotUnchanged(t *testing.T) {
	tb := NewRouteTable()
	r := rand.New(rand.NewPCG(8, 9))
	randPrefix := func() netip.Prefix {
		if r.IntN(2) == 0 {
			a := netip.AddrFrom4([4]byte{198, byte(18 + r.IntN(2)), byte(r.IntN(4)), byte(r.IntN(256))})
			return netip.PrefixFrom(a, []int{0, 4, 8, 12, 15, 16, 20, 24, 25, 30, 32}[r.IntN(11)]).Masked()
		}
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(r.IntN(3)), 15: byte(r.IntN(256))})
		return netip.PrefixFrom(a, []int{0, 16, 32, 48, 64, 127, 128}[r.IntN(7)]).Masked()
	}
	apply := func(n int) {
		var batch []RouteChange
		for range n {
			p := randPrefix()
			if _, ok := tb.Get(p); ok && r.IntN(3) == 0 {
				batch = append(batch, RouteChange{Op: RouteDelete, Route: Route{Prefix: p}})
				continue
			}
			batch = append(batch, RouteChange{Op: RouteReplace, Route: Route{Prefix: p, NextHops: onLink(NICID(1 + r.IntN(50)))}})
		}
		if err := tb.Apply(batch); err != nil {
			// Deleting twice in one batch fails it: fine, nothing changed.
			if !errors.Is(err, ErrRouteNotFound) {
				t.Fatal(err)
			}
		}
	}
	apply(200)
	old := tb.snap.Load()
	dsts := make([]netip.Addr, 2000)
	want := make([]*FIBEntry, len(dsts))
	for i := range dsts {
		dsts[i] = randPrefix().Addr()
		if r.IntN(2) == 0 {
			dsts[i] = dsts[i].Next()
		}
		want[i], _ = old.fib.Lookup(dsts[i])
	}
	for range 50 {
		apply(1 + r.IntN(30))
	}
	if tb.snap.Load() == old {
		t.Fatal("no batch was published")
	}
	changed := 0
	for i, a := range dsts {
		if got, _ := old.fib.Lookup(a); got != want[i] {
			t.Fatalf("old snapshot: Lookup(%v) = %v; was %v", a, got, want[i])
		}
		if tb.Lookup(a) != want[i] {
			changed++
		}
	}
	if changed == 0 {
		t.Fatal("the batches changed no lookup: the test checks nothing")
	}
}
