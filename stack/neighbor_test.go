package stack_test

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/nexthop-router/nexthop/link/memlink"
	"github.com/nexthop-router/nexthop/stack"
)

// fakeResolver records requests instead of sending ARP.
type fakeResolver struct {
	reqs []fakeReq
}

type fakeReq struct {
	target netip.Addr
	remote stack.LinkAddress
}

func (r *fakeResolver) LinkAddressRequest(w *stack.Worker, target, local netip.Addr, remote stack.LinkAddress, nic *stack.NIC) error {
	r.reqs = append(r.reqs, fakeReq{target, remote})
	return nil
}
func (r *fakeResolver) ResolveStaticAddress(netip.Addr) (stack.LinkAddress, bool) {
	return stack.LinkAddress{}, false
}
func (r *fakeResolver) LinkAddressProtocol() stack.NetworkProtocolNumber {
	return stack.IPv4ProtocolNumber
}

// fakeHandler records what the cache hands back.
type fakeHandler struct {
	failed   []*stack.PacketBuffer
	drops    map[stack.DropReason]int
	resolved int
}

func (h *fakeHandler) HandleResolved(w *stack.Worker, pkt *stack.PacketBuffer) {
	if !pkt.InUse() {
		panic("HandleResolved got a released packet")
	}
	h.resolved++
}

func (h *fakeHandler) HandleLinkResolutionFailure(w *stack.Worker, pkt *stack.PacketBuffer) {
	h.failed = append(h.failed, pkt)
}

func (h *fakeHandler) HandleNeighborDrop(w *stack.Worker, pkt *stack.PacketBuffer, r stack.DropReason) {
	h.drops[r]++
	pkt.Release()
}

type nudEnv struct {
	t     *testing.T
	clock *stack.FakeClock
	s     *stack.Stack
	w     *stack.Worker
	link  *memlink.Endpoint
	peer  *memlink.Endpoint
	c     *stack.NeighborCache
	r     *fakeResolver
	h     *fakeHandler
}

func newNUD(t *testing.T, cfg stack.NUDConfig) *nudEnv {
	t.Helper()
	e := &nudEnv{t: t, clock: stack.NewFakeClock(), r: &fakeResolver{}, h: &fakeHandler{drops: map[stack.DropReason]int{}}}
	e.s = stack.New(stack.Options{Clock: e.clock})
	e.link, e.peer = memlink.NewPair(memlink.Options{}, memlink.Options{})
	nic, err := e.s.CreateNIC(1, "eth1", e.link)
	if err != nil {
		t.Fatal(err)
	}
	if err := nic.Enable(); err != nil {
		t.Fatal(err)
	}
	if cfg == (stack.NUDConfig{}) {
		cfg = stack.DefaultNUDConfig()
	}
	e.c = stack.NewNeighborCache(nic, stack.IPv4ProtocolNumber, e.r, e.h, cfg)
	e.w, _ = e.s.NewWorker()
	t.Cleanup(func() {
		for _, p := range e.h.failed {
			p.Release()
		}
		e.c.Flush()
		e.peer.Discard()
		if o := e.s.Frames().Outstanding(); o != 0 {
			t.Errorf("%d frames leaked", o)
		}
	})
	return e
}

func (e *nudEnv) pkt() *stack.PacketBuffer {
	p := e.s.Frames().Get()
	p.SetLen(20)
	p.NetworkProtocol = stack.IPv4ProtocolNumber
	return p
}

// send is the data path: Lookup, then ResolveOrQueue on a miss.
func (e *nudEnv) send(a netip.Addr) (sent bool) {
	e.w.StartBatch()
	defer e.w.Flush()
	if _, ok := e.c.Lookup(a); ok {
		return true
	}
	p := e.pkt()
	if _, ok := e.c.ResolveOrQueue(e.w, a, p); ok {
		p.Release()
		return true
	}
	return false
}

func (e *nudEnv) tick(d time.Duration) {
	e.clock.Advance(d)
	e.w.StartBatch()
	e.c.Tick(e.w)
	e.w.Flush()
}

func (e *nudEnv) state(a netip.Addr) stack.NeighborState {
	en, ok := e.c.Entry(a)
	if !ok {
		return 0
	}
	return en.State
}

func (e *nudEnv) wantState(a netip.Addr, want stack.NeighborState) {
	e.t.Helper()
	if got := e.state(a); got != want {
		e.t.Fatalf("state of %v = %v, want %v", a, got, want)
	}
}

func (e *nudEnv) wantReqs(n int) {
	e.t.Helper()
	if len(e.r.reqs) != n {
		e.t.Fatalf("%d requests sent, want %d (%v)", len(e.r.reqs), n, e.r.reqs)
	}
}

var (
	nbrA   = netip.MustParseAddr("198.18.0.2")
	macA   = stack.LinkAddress{2, 0, 0, 0, 0, 0xa}
	macA2  = stack.LinkAddress{2, 0, 0, 0, 0, 0xb}
	solOvr = stack.Confirmation{Solicited: true, Override: true}
)

// TestNUDIncompleteRetransmitAndFail: INCOMPLETE sends a request now and
// every RetransTimer, three in all (never more than one a second), then
// FAILED hands every queued packet to HandleLinkResolutionFailure.
func TestNUDIncompleteRetransmitAndFail(t *testing.T) {
	e := newNUD(t, stack.NUDConfig{})
	if e.send(nbrA) {
		t.Fatal("unresolved address sent at once")
	}
	e.wantState(nbrA, stack.NeighborIncomplete)
	e.wantReqs(1)
	e.send(nbrA) // queued, no new request
	e.wantReqs(1)
	e.tick(999 * time.Millisecond)
	e.wantReqs(1)
	e.tick(time.Millisecond)
	e.wantReqs(2)
	e.tick(time.Second)
	e.wantReqs(3)
	if len(e.h.failed) != 0 {
		t.Fatal("failure reported before the last retransmit expired")
	}
	e.tick(time.Second)
	e.wantReqs(3)
	e.wantState(nbrA, stack.NeighborFailed)
	if len(e.h.failed) != 2 {
		t.Errorf("%d packets handed back as failed, want 2", len(e.h.failed))
	}
	for _, r := range e.r.reqs {
		if r.target != nbrA || r.remote != (stack.LinkAddress{}) {
			t.Errorf("request %+v, want broadcast for %v", r, nbrA)
		}
	}
	st := e.c.Stats()
	if st.ResolutionsStarted.Load() != 1 || st.ResolutionsFailed.Load() != 1 || st.ResolutionsSucceeded.Load() != 0 {
		t.Errorf("resolutions started/failed/succeeded = %d/%d/%d", st.ResolutionsStarted.Load(), st.ResolutionsFailed.Load(), st.ResolutionsSucceeded.Load())
	}
	// FAILED entries are removed after FailedRetention.
	e.tick(5 * time.Second)
	e.wantState(nbrA, 0)
}

// TestNUDQueueBound: at most MaxQueuedPackets wait; the oldest goes first
// and is counted as DropNeighborQueueFull; the rest leave on resolution.
func TestNUDQueueBound(t *testing.T) {
	e := newNUD(t, stack.NUDConfig{})
	for range 5 {
		e.send(nbrA)
	}
	if e.h.drops[stack.DropNeighborQueueFull] != 2 || e.c.Stats().QueueDrops.Load() != 2 {
		t.Errorf("queue drops %v / %d, want 2", e.h.drops, e.c.Stats().QueueDrops.Load())
	}
	e.w.StartBatch()
	e.c.HandleConfirmation(e.w, nbrA, macA, solOvr)
	e.w.Flush()
	if got := len(e.peer.DrainBytes()); got != 3 {
		t.Errorf("%d queued packets sent on resolution, want 3", got)
	}
	// The handler counts each packet that leaves, and only those: the two
	// pushed out were drops.
	if e.h.resolved != 3 {
		t.Errorf("HandleResolved called %d times, want 3", e.h.resolved)
	}
	e.wantState(nbrA, stack.NeighborReachable)
	if e.c.Stats().ResolutionsSucceeded.Load() != 1 {
		t.Error("ResolutionsSucceeded not counted")
	}
}

// TestNUDReachableStaleDelayProbe walks REACHABLE → STALE (after
// BaseReachableTime × [0.5, 1.5)) → DELAY (on use) → PROBE (after 5 s) →
// three unicast probes → removed.
func TestNUDReachableStaleDelayProbe(t *testing.T) {
	e := newNUD(t, stack.NUDConfig{})
	e.send(nbrA)
	e.w.StartBatch()
	e.c.HandleConfirmation(e.w, nbrA, macA, solOvr)
	e.w.Flush()
	e.peer.Discard()
	e.wantState(nbrA, stack.NeighborReachable)
	e.tick(15*time.Second - time.Nanosecond)
	e.wantState(nbrA, stack.NeighborReachable) // never before 0.5 × 30 s
	for i := 0; i < 30 && e.state(nbrA) == stack.NeighborReachable; i++ {
		e.tick(time.Second)
	}
	e.wantState(nbrA, stack.NeighborStale) // by 1.5 × 30 s at the latest
	e.tick(time.Minute)
	e.wantState(nbrA, stack.NeighborStale) // STALE waits for traffic
	if !e.send(nbrA) {
		t.Fatal("STALE entry not usable")
	}
	e.tick(0)
	e.wantState(nbrA, stack.NeighborDelay)
	n := len(e.r.reqs)
	e.tick(5*time.Second - time.Nanosecond)
	e.wantState(nbrA, stack.NeighborDelay)
	e.tick(time.Nanosecond)
	e.wantState(nbrA, stack.NeighborProbe)
	e.wantReqs(n + 1)
	e.tick(time.Second)
	e.wantReqs(n + 2)
	e.tick(time.Second)
	e.wantReqs(n + 3)
	for _, r := range e.r.reqs[n:] {
		if r.remote != macA {
			t.Errorf("probe to %v, want unicast to %v", r.remote, macA)
		}
	}
	e.tick(time.Second)
	e.wantReqs(n + 3)
	e.wantState(nbrA, 0)
	if _, ok := e.c.Lookup(nbrA); ok {
		t.Error("removed entry still in the data-path snapshot")
	}
}

// TestNUDProbeConfirmed: a solicited reply in PROBE makes the entry
// REACHABLE; a reply with another MAC and no Override only marks it STALE.
func TestNUDProbeConfirmed(t *testing.T) {
	e := newNUD(t, stack.NUDConfig{})
	e.w.StartBatch()
	e.c.HandleProbe(e.w, nbrA, macA) // learned from a request: STALE
	e.w.Flush()
	e.wantState(nbrA, stack.NeighborStale)
	e.send(nbrA)
	e.tick(0)
	e.tick(5 * time.Second)
	e.wantState(nbrA, stack.NeighborProbe)
	e.w.StartBatch()
	e.c.HandleConfirmation(e.w, nbrA, macA, solOvr)
	e.w.Flush()
	e.wantState(nbrA, stack.NeighborReachable)
	e.w.StartBatch()
	e.c.HandleConfirmation(e.w, nbrA, macA2, stack.Confirmation{Solicited: false})
	e.w.Flush()
	en, _ := e.c.Entry(nbrA)
	if en.State != stack.NeighborStale || en.LinkAddr != macA {
		t.Errorf("entry %+v, want STALE keeping %v", en, macA)
	}
	// With Override the new address is taken.
	e.w.StartBatch()
	e.c.HandleConfirmation(e.w, nbrA, macA2, stack.Confirmation{Override: true})
	e.w.Flush()
	if mac, _ := e.c.Lookup(nbrA); mac != macA2 {
		t.Errorf("data path sees %v, want %v", mac, macA2)
	}
}

// TestNUDStaticNeverChanges: static entries ignore replies and timers.
func TestNUDStaticNeverChanges(t *testing.T) {
	e := newNUD(t, stack.NUDConfig{})
	e.c.AddStatic(nbrA, macA)
	e.w.StartBatch()
	e.c.HandleConfirmation(e.w, nbrA, macA2, solOvr)
	e.c.HandleProbe(e.w, nbrA, macA2)
	e.w.Flush()
	e.send(nbrA)
	e.tick(time.Hour)
	if en, _ := e.c.Entry(nbrA); en.State != stack.NeighborStatic || en.LinkAddr != macA {
		t.Errorf("static entry became %+v", en)
	}
	e.wantReqs(0)
}

// TestNUDTableBoundEvictsStaleAndFailedFirst: a scan of many addresses
// cannot grow the table past MaxEntries; FAILED then STALE entries are
// evicted first, REACHABLE ones never, and a table full of REACHABLE
// entries drops the new packet (counted) instead of growing (RFC 6583).
func TestNUDTableBoundEvictsStaleAndFailedFirst(t *testing.T) {
	cfg := stack.DefaultNUDConfig()
	cfg.MaxEntries = 4
	e := newNUD(t, cfg)
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 18, 1, byte(i)}) }
	mac := func(i int) stack.LinkAddress { return stack.LinkAddress{2, 0, 0, 0, 1, byte(i)} }
	e.w.StartBatch()
	for i := 1; i <= 3; i++ { // three REACHABLE
		e.c.ResolveOrQueue(e.w, addr(i), e.pkt())
		e.c.HandleConfirmation(e.w, addr(i), mac(i), solOvr)
	}
	e.c.HandleProbe(e.w, addr(4), mac(4)) // one STALE
	e.w.Flush()
	e.peer.Discard()

	// A new address evicts the STALE one.
	e.send(addr(5))
	e.wantState(addr(4), 0)
	e.wantState(addr(5), stack.NeighborIncomplete)
	// Another new one evicts the oldest INCOMPLETE (addr 5), whose queued
	// packet is counted, not leaked.
	e.send(addr(6))
	e.wantState(addr(5), 0)
	if e.h.drops[stack.DropHostUnreachable] != 1 {
		t.Errorf("evicted entry's queued packet: drops %v, want one host_unreachable", e.h.drops)
	}
	for i := 1; i <= 3; i++ {
		e.wantState(addr(i), stack.NeighborReachable)
	}
	// Now only REACHABLE entries and one INCOMPLETE: fail it, then the
	// FAILED entry is evicted first.
	for range 3 {
		e.tick(time.Second)
	}
	e.wantState(addr(6), stack.NeighborFailed)
	e.send(addr(7))
	e.wantState(addr(6), 0)
	// Make 7 REACHABLE too: the table is full of entries that must stay.
	e.w.StartBatch()
	e.c.HandleConfirmation(e.w, addr(7), mac(7), solOvr)
	e.w.Flush()
	e.peer.Discard()
	e.send(addr(8))
	e.wantState(addr(8), 0)
	if got := e.c.Stats().TableFullDrops.Load(); got != 1 {
		t.Errorf("TableFullDrops %d, want 1", got)
	}
	if n := len(e.c.Entries()); n != 4 {
		t.Errorf("%d entries, want MaxEntries 4", n)
	}
	counts := e.c.StateCounts()
	if counts[stack.NeighborReachable] != 4 {
		t.Errorf("state counts %v, want 4 reachable", counts)
	}
}

// TestNUDFailedRestartsOnTraffic: a packet for a FAILED address starts a
// new resolution immediately (the last request was ≥ 1 s ago).
func TestNUDFailedRestartsOnTraffic(t *testing.T) {
	e := newNUD(t, stack.NUDConfig{})
	e.send(nbrA)
	e.tick(3 * time.Second) // requests at 0, 1, 2 s … Tick at 3 s only
	e.tick(0)
	for e.state(nbrA) != stack.NeighborFailed {
		e.tick(time.Second)
	}
	n := len(e.r.reqs)
	e.send(nbrA)
	e.wantState(nbrA, stack.NeighborIncomplete)
	e.wantReqs(n + 1)
}

// TestNUDFlushAndRemoveCountWaitingPackets: packets waiting for resolution
// when their entry goes away (link down, config change) are dropped and
// counted once each, never lost silently.
func TestNUDFlushAndRemoveCountWaitingPackets(t *testing.T) {
	e := newNUD(t, stack.NUDConfig{})
	a, b := netip.MustParseAddr("198.18.0.7"), netip.MustParseAddr("198.18.0.8")
	e.send(a)
	e.send(a)
	e.send(b)
	e.c.Remove(b)
	if got := e.h.drops[stack.DropHostUnreachable]; got != 1 {
		t.Errorf("Remove: %d host-unreachable drops, want 1", got)
	}
	e.c.Flush()
	if got := e.h.drops[stack.DropHostUnreachable]; got != 3 {
		t.Errorf("Flush: %d host-unreachable drops in all, want 3", got)
	}
	if e.state(a) != 0 {
		t.Errorf("entry survived Flush")
	}
}

// TestNUDStaticReplacesIncompleteAndSendsQueue: configuring a static entry
// for an address that packets wait on sends them to the configured MAC.
func TestNUDStaticReplacesIncompleteAndSendsQueue(t *testing.T) {
	e := newNUD(t, stack.NUDConfig{})
	a := netip.MustParseAddr("198.18.0.7")
	e.send(a)
	e.send(a)
	e.peer.Discard() // the requests
	mac := stack.LinkAddress{0x02, 0, 0, 0, 0, 7}
	e.c.AddStatic(a, mac)
	got := e.peer.DrainBytes()
	if len(got) != 2 {
		t.Fatalf("peer got %d frames after AddStatic, want the 2 queued packets", len(got))
	}
	if e.h.resolved != 2 {
		t.Errorf("HandleResolved called %d times, want 2", e.h.resolved)
	}
	for _, f := range got {
		if !bytes.Equal(f[0:6], mac[:]) {
			t.Errorf("queued packet sent to %x, want %v", f[0:6], mac)
		}
	}
	e.wantState(a, stack.NeighborStatic)
}
