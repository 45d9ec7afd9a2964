package stack

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// NeighborState is a neighbour cache entry's state in the Neighbor
// Unreachability Detection machine of RFC 4861 §7.3.2. ARP entries go
// through the same states.
type NeighborState uint8

// NUD states. Static entries come from configuration and never change.
const (
	NeighborIncomplete NeighborState = iota + 1
	NeighborReachable
	NeighborStale
	NeighborDelay
	NeighborProbe
	NeighborFailed
	NeighborStatic
)

// AllNeighborStates lists the states in order, for metrics.
var AllNeighborStates = []NeighborState{
	NeighborIncomplete, NeighborReachable, NeighborStale, NeighborDelay,
	NeighborProbe, NeighborFailed, NeighborStatic,
}

// String is the lower-case state name used as the metrics `state` label.
func (s NeighborState) String() string {
	switch s {
	case NeighborIncomplete:
		return "incomplete"
	case NeighborReachable:
		return "reachable"
	case NeighborStale:
		return "stale"
	case NeighborDelay:
		return "delay"
	case NeighborProbe:
		return "probe"
	case NeighborFailed:
		return "failed"
	case NeighborStatic:
		return "static"
	}
	return "unknown"
}

// NUDConfig holds the neighbour cache's timers and bounds. The defaults are
// RFC 4861 §10's constants and Linux's table limits.
type NUDConfig struct {
	// RetransTimer is the wait between probes (RETRANS_TIMER, 1 s); it is
	// also why an unresolved address gets at most one request per second.
	RetransTimer time.Duration
	// MaxMulticastProbes is how many broadcast/multicast requests an
	// INCOMPLETE entry sends before it fails (MAX_MULTICAST_SOLICIT, 3).
	MaxMulticastProbes int
	// MaxUnicastProbes is how many unicast probes a PROBE entry sends
	// before it is dropped (MAX_UNICAST_SOLICIT, 3).
	MaxUnicastProbes int
	// BaseReachableTime is how long a confirmation lasts before the entry
	// goes STALE, randomised by 0.5–1.5 (REACHABLE_TIME, 30 s).
	BaseReachableTime time.Duration
	// DelayFirstProbeTime is the DELAY state's wait for an upper-layer
	// confirmation before probing (DELAY_FIRST_PROBE_TIME, 5 s).
	DelayFirstProbeTime time.Duration
	// MaxQueuedPackets bounds the packets held per INCOMPLETE entry; the
	// oldest is dropped to make room (Linux's unres_qlen idea, default 3).
	MaxQueuedPackets int
	// MaxEntries bounds the table so a scan of a large prefix behind the
	// router cannot exhaust memory (RFC 6583); default 4096.
	MaxEntries int
	// FailedRetention is how long a FAILED entry is kept (so the failure
	// is visible) before it is removed; default 5 s.
	FailedRetention time.Duration
}

// DefaultNUDConfig returns the RFC 4861 defaults.
func DefaultNUDConfig() NUDConfig {
	return NUDConfig{
		RetransTimer:        time.Second,
		MaxMulticastProbes:  3,
		MaxUnicastProbes:    3,
		BaseReachableTime:   30 * time.Second,
		DelayFirstProbeTime: 5 * time.Second,
		MaxQueuedPackets:    3,
		MaxEntries:          4096,
		FailedRetention:     5 * time.Second,
	}
}

// NeighborStats are a cache's counters; they change on the slow path only,
// so they are atomics.
type NeighborStats struct {
	// ResolutionsStarted counts entries created INCOMPLETE.
	ResolutionsStarted atomic.Uint64
	// ResolutionsSucceeded counts INCOMPLETE entries that got an answer.
	ResolutionsSucceeded atomic.Uint64
	// ResolutionsFailed counts INCOMPLETE entries that went FAILED.
	ResolutionsFailed atomic.Uint64
	// QueueDrops counts packets pushed out of a full per-entry queue.
	QueueDrops atomic.Uint64
	// TableFullDrops counts packets dropped because the table was full of
	// entries that must not be evicted.
	TableFullDrops atomic.Uint64
	// Evictions counts entries removed to make room.
	Evictions atomic.Uint64
	// RequestsSent counts requests and probes handed to the resolver.
	RequestsSent atomic.Uint64
}

// NeighborEntry is a read-only copy of one entry, for inspection.
type NeighborEntry struct {
	Addr     netip.Addr
	LinkAddr LinkAddress
	State    NeighborState
}

type neighborEntry struct {
	addr     netip.Addr
	linkAddr LinkAddress
	state    NeighborState
	// dpState mirrors state for the data path, which only needs to know
	// whether the entry is STALE.
	dpState atomic.Uint32
	// used is set by the data path when it sends through a STALE entry;
	// the next Tick moves the entry to DELAY (RFC 4861 §7.3.3).
	used     atomic.Bool
	deadline int64 // next timer, in clock nanoseconds; 0 = none
	probes   int
	updated  int64
	queue    []*PacketBuffer
}

func (e *neighborEntry) setState(s NeighborState) {
	e.state = s
	e.dpState.Store(uint32(s))
}

// neighborLink is what the data path reads: an immutable link address and
// the entry to flag when it is used while STALE (nil for a static entry).
type neighborLink struct {
	linkAddr LinkAddress
	entry    *neighborEntry
}

// NeighborCache maps next-hop addresses of one NIC and one IP version to
// link addresses, resolving them with a LinkAddressResolver through the
// NUD states. The data path reads an immutable snapshot without locking;
// misses, replies and timers take the slow path under the cache's mutex.
type NeighborCache struct {
	nic      *NIC
	proto    NetworkProtocolNumber
	resolver LinkAddressResolver
	handler  LinkResolutionHandler
	cfg      NUDConfig
	stats    NeighborStats

	snap atomic.Pointer[neighborTable]

	// mu guards the fields below it and every entry's non-atomic fields.
	mu      sync.Mutex
	entries map[netip.Addr]*neighborEntry
	rng     *rand.Rand
}

// NewNeighborCache creates a cache for nic that resolves proto's addresses
// with resolver and returns undeliverable packets to handler.
func NewNeighborCache(nic *NIC, proto NetworkProtocolNumber, resolver LinkAddressResolver, handler LinkResolutionHandler, cfg NUDConfig) *NeighborCache {
	c := &NeighborCache{
		nic:      nic,
		proto:    proto,
		resolver: resolver,
		handler:  handler,
		cfg:      cfg,
		entries:  make(map[netip.Addr]*neighborEntry),
		rng:      rand.New(rand.NewPCG(uint64(nic.id), uint64(proto))),
	}
	c.snap.Store(newNeighborTable(0))
	return c
}

// Config is the cache's configuration.
func (c *NeighborCache) Config() NUDConfig { return c.cfg }

// Stats are the cache's counters.
func (c *NeighborCache) Stats() *NeighborStats { return &c.stats }

// Lookup returns the link address of addr when the cache has one. It is the
// data path's call: lock-free and allocation-free. Using a STALE entry
// flags it, so the control path starts NUD's DELAY timer.
func (c *NeighborCache) Lookup(addr netip.Addr) (LinkAddress, bool) {
	l := c.snap.Load().find(addr)
	if l == nil {
		return LinkAddress{}, false
	}
	l.noteUse()
	return l.linkAddr, true
}

// lookupLink is Lookup through w's one-entry cache: a batch usually sends
// many packets to the same next hop, and comparing against the last answer
// costs less than hashing. The cache is keyed by the snapshot, so any
// change to the table misses it. It returns the snapshot's immutable entry
// (nil on a miss), so the link address is passed on by pointer rather
// than copied through memory.
func (c *NeighborCache) lookupLink(w *Worker, addr netip.Addr) *neighborLink {
	t := c.snap.Load()
	hc := &w.nh
	l := hc.link
	if hc.table != t || hc.addr != addr {
		l = t.find(addr)
		if l == nil {
			return nil
		}
		hc.table, hc.addr, hc.link = t, addr, l
	}
	l.noteUse()
	return l
}

// noteUse flags a STALE entry as used, so the control path starts NUD's
// DELAY timer (RFC 4861 §7.3.3).
func (l *neighborLink) noteUse() {
	if l.entry != nil && NeighborState(l.entry.dpState.Load()) == NeighborStale && !l.entry.used.Load() {
		l.entry.used.Store(true)
	}
}

// ResolveOrQueue is the slow path after a Lookup miss. It returns the link
// address when an entry got one meanwhile (the caller sends pkt itself);
// otherwise it takes pkt: queued on an INCOMPLETE entry (a request goes out
// on w for a new one) or handed to the handler as a drop.
func (c *NeighborCache) ResolveOrQueue(w *Worker, addr netip.Addr, pkt *PacketBuffer) (LinkAddress, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := w.stack.clock.NowNanos()
	e := c.entries[addr]
	if e != nil {
		switch e.state {
		case NeighborIncomplete:
			c.enqueueLocked(w, e, pkt)
			return LinkAddress{}, false
		case NeighborFailed:
			// A new packet restarts resolution; the last probe was at
			// least RetransTimer ago, so the one-per-second rule holds.
			c.startResolutionLocked(w, e, now)
			c.enqueueLocked(w, e, pkt)
			return LinkAddress{}, false
		default:
			if e.state == NeighborStale {
				e.used.Store(true)
			}
			return e.linkAddr, true
		}
	}
	if len(c.entries) >= c.cfg.MaxEntries && !c.evictLocked(w) {
		c.stats.TableFullDrops.Add(1)
		c.handler.HandleNeighborDrop(w, pkt, DropHostUnreachable)
		return LinkAddress{}, false
	}
	e = &neighborEntry{addr: addr}
	c.entries[addr] = e
	c.startResolutionLocked(w, e, now)
	c.enqueueLocked(w, e, pkt)
	return LinkAddress{}, false
}

// startResolutionLocked puts e in INCOMPLETE and sends the first request.
//
// Precondition: c.mu is locked.
func (c *NeighborCache) startResolutionLocked(w *Worker, e *neighborEntry, now int64) {
	hadLink := e.state != 0 && e.state != NeighborIncomplete && e.state != NeighborFailed
	e.setState(NeighborIncomplete)
	e.linkAddr = LinkAddress{}
	e.probes = 1
	e.updated = now
	e.deadline = now + int64(c.cfg.RetransTimer)
	c.stats.ResolutionsStarted.Add(1)
	c.sendRequestLocked(w, e, LinkAddress{})
	if hadLink {
		c.publishLocked()
	}
}

// enqueueLocked holds pkt on an INCOMPLETE entry, dropping the oldest
// packet when the queue is full.
//
// Precondition: c.mu is locked.
func (c *NeighborCache) enqueueLocked(w *Worker, e *neighborEntry, pkt *PacketBuffer) {
	if c.cfg.MaxQueuedPackets <= 0 {
		c.stats.QueueDrops.Add(1)
		c.handler.HandleNeighborDrop(w, pkt, DropNeighborQueueFull)
		return
	}
	// A frame lent by a ring must go back soon or the ring stalls behind
	// it; resolution can take seconds, so the packet waits in a heap copy.
	if _, heap := pkt.Owner().(*FramePool); !heap {
		if cp := w.stack.frames.Clone(pkt); cp != nil {
			pkt.Release()
			pkt = cp
		}
	}
	if len(e.queue) >= c.cfg.MaxQueuedPackets {
		oldest := e.queue[0]
		e.queue = append(e.queue[:0], e.queue[1:]...)
		c.stats.QueueDrops.Add(1)
		c.handler.HandleNeighborDrop(w, oldest, DropNeighborQueueFull)
	}
	e.queue = append(e.queue, pkt)
}

// sendRequestLocked asks the resolver for e's address; a zero remote
// broadcasts or multicasts, a set one probes unicast.
//
// Precondition: c.mu is locked.
func (c *NeighborCache) sendRequestLocked(w *Worker, e *neighborEntry, remote LinkAddress) {
	c.stats.RequestsSent.Add(1)
	_ = c.resolver.LinkAddressRequest(w, e.addr, netip.Addr{}, remote, c.nic)
}

// evictLocked frees one slot: the oldest FAILED entry, else the oldest
// STALE one, else the oldest INCOMPLETE one (its queue is dropped). Entries
// that are REACHABLE, being verified, or static are never pushed out by new
// traffic, so a scan cannot evict the neighbours that carry real traffic.
// Packets queued on an evicted entry are handed to the handler as drops on w.
//
// Precondition: c.mu is locked.
func (c *NeighborCache) evictLocked(w *Worker) bool {
	for _, st := range []NeighborState{NeighborFailed, NeighborStale, NeighborIncomplete} {
		var victim *neighborEntry
		for _, e := range c.entries {
			if e.state == st && (victim == nil || e.updated < victim.updated) {
				victim = e
			}
		}
		if victim != nil {
			c.stats.Evictions.Add(1)
			c.removeLocked(victim, w)
			return true
		}
	}
	return false
}

// removeLocked deletes e; its queued packets go to the handler as drops
// (on w when there is one, else they are released uncounted).
//
// Precondition: c.mu is locked.
func (c *NeighborCache) removeLocked(e *neighborEntry, w *Worker) {
	delete(c.entries, e.addr)
	for _, pkt := range e.queue {
		if w != nil {
			c.handler.HandleNeighborDrop(w, pkt, DropHostUnreachable)
		} else {
			pkt.Release()
		}
	}
	e.queue = nil
	if c.snap.Load().find(e.addr) != nil {
		c.publishLocked()
	}
}

// publishLocked rebuilds the data path's snapshot from the entries that
// have a link address.
//
// Precondition: c.mu is locked.
func (c *NeighborCache) publishLocked() {
	n := 0
	for _, e := range c.entries {
		if hasLinkAddr(e.state) {
			n++
		}
	}
	t := newNeighborTable(n)
	for a, e := range c.entries {
		if hasLinkAddr(e.state) {
			l := neighborLink{linkAddr: e.linkAddr, entry: e}
			if e.state == NeighborStatic {
				// A static entry never goes STALE (it is replaced, not
				// changed), so the data path need not look at it.
				l.entry = nil
			}
			t.insert(a, l)
		}
	}
	c.snap.Store(t)
}

func hasLinkAddr(s NeighborState) bool {
	switch s {
	case NeighborReachable, NeighborStale, NeighborDelay, NeighborProbe, NeighborStatic:
		return true
	}
	return false
}

// neighborTable is the data path's immutable view of a cache: an
// open-addressing hash table keyed by the address's two 64-bit halves, at
// most half full. A Go map keyed by netip.Addr cost a fifth of the
// forwarding time (hashing 24 bytes and comparing a zone handle).
type neighborTable struct {
	mask  uint64
	slots []neighborSlot
}

type neighborSlot struct {
	hi, lo uint64
	used   bool
	link   neighborLink
}

func newNeighborTable(n int) *neighborTable {
	size := 8
	for size < 2*n {
		size *= 2
	}
	return &neighborTable{mask: uint64(size - 1), slots: make([]neighborSlot, size)}
}

func addrKey(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

func slotHash(hi, lo uint64) uint64 {
	h := (hi ^ bits.RotateLeft64(lo, 29)) * 0x9e3779b97f4a7c15
	return h ^ h>>32
}

func (t *neighborTable) insert(a netip.Addr, l neighborLink) {
	hi, lo := addrKey(a)
	for i := slotHash(hi, lo) & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if !s.used || (s.hi == hi && s.lo == lo) {
			*s = neighborSlot{hi: hi, lo: lo, used: true, link: l}
			return
		}
	}
}

// find returns a's link, or nil. The table is never full, so the probe
// always meets an empty slot.
func (t *neighborTable) find(a netip.Addr) *neighborLink {
	hi, lo := addrKey(a)
	for i := slotHash(hi, lo) & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if !s.used {
			return nil
		}
		if s.hi == hi && s.lo == lo {
			return &s.link
		}
	}
}

// reachableTime draws REACHABLE's lifetime: BaseReachableTime times a
// uniform factor in [0.5, 1.5) (RFC 4861 §6.3.2).
//
// Precondition: c.mu is locked.
func (c *NeighborCache) reachableTime() int64 {
	return int64(float64(c.cfg.BaseReachableTime) * (0.5 + c.rng.Float64()))
}

// flushQueueLocked sends e's queued packets to its new link address; the
// handler counts each one as it leaves (HandleResolved).
//
// Precondition: c.mu is locked.
func (c *NeighborCache) flushQueueLocked(w *Worker, e *neighborEntry) {
	for _, pkt := range e.queue {
		c.handler.HandleResolved(w, pkt)
		c.nic.WriteEthernet(w, pkt, e.linkAddr, pkt.NetworkProtocol)
	}
	clear(e.queue)
	e.queue = e.queue[:0]
}

// Confirmation describes a reply from a neighbour: an ARP reply, or a
// Neighbor Advertisement with its flags (RFC 4861 §4.4).
type Confirmation struct {
	// Solicited: the reply answers our request (NA S flag; ARP replies).
	Solicited bool
	// Override: the link address replaces a cached one (NA O flag).
	Override bool
}

// HandleConfirmation processes a reply carrying addr's link address,
// following RFC 4861 §7.2.5. Queued packets leave on w when an INCOMPLETE
// entry resolves. A reply for an address without an entry is ignored.
func (c *NeighborCache) HandleConfirmation(w *Worker, addr netip.Addr, linkAddr LinkAddress, f Confirmation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[addr]
	if e == nil || e.state == NeighborStatic {
		return
	}
	now := w.stack.clock.NowNanos()
	if e.state == NeighborIncomplete || e.state == NeighborFailed {
		if e.state == NeighborIncomplete {
			c.stats.ResolutionsSucceeded.Add(1)
		}
		e.linkAddr = linkAddr
		e.updated = now
		if f.Solicited {
			e.setState(NeighborReachable)
			e.deadline = now + c.reachableTime()
		} else {
			e.setState(NeighborStale)
			e.deadline = 0
		}
		e.probes = 0
		c.publishLocked()
		c.flushQueueLocked(w, e)
		return
	}
	changed := linkAddr != e.linkAddr
	if !f.Override && changed {
		// A different address without Override: keep ours, but stop
		// trusting it (§7.2.5: REACHABLE becomes STALE).
		if e.state == NeighborReachable {
			e.setState(NeighborStale)
			e.deadline = 0
		}
		return
	}
	if changed {
		e.linkAddr = linkAddr
	}
	e.updated = now
	switch {
	case f.Solicited:
		e.setState(NeighborReachable)
		e.deadline = now + c.reachableTime()
		e.probes = 0
	case changed:
		e.setState(NeighborStale)
		e.deadline = 0
	}
	e.used.Store(false)
	if changed || f.Solicited {
		c.publishLocked()
	}
}

// HandleProbe processes a request from a neighbour that carries its link
// address (an ARP request for one of our addresses, a Neighbor
// Solicitation with a source link-layer option): RFC 4861 §7.2.3 creates or
// refreshes the sender's entry as STALE.
func (c *NeighborCache) HandleProbe(w *Worker, addr netip.Addr, linkAddr LinkAddress) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := w.stack.clock.NowNanos()
	e := c.entries[addr]
	switch {
	case e == nil:
		if len(c.entries) >= c.cfg.MaxEntries && !c.evictLocked(w) {
			return
		}
		e = &neighborEntry{addr: addr, linkAddr: linkAddr, updated: now}
		e.setState(NeighborStale)
		c.entries[addr] = e
		c.publishLocked()
	case e.state == NeighborStatic:
		return
	case e.state == NeighborIncomplete || e.state == NeighborFailed:
		if e.state == NeighborIncomplete {
			c.stats.ResolutionsSucceeded.Add(1)
		}
		e.linkAddr = linkAddr
		e.updated = now
		e.setState(NeighborStale)
		e.deadline = 0
		c.publishLocked()
		c.flushQueueLocked(w, e)
	case e.linkAddr != linkAddr:
		e.linkAddr = linkAddr
		e.updated = now
		e.setState(NeighborStale)
		e.deadline = 0
		c.publishLocked()
	}
}

// AddStatic installs a permanent entry (from configuration). Packets that
// were waiting for the address leave at once to the configured link
// address.
func (c *NeighborCache) AddStatic(addr netip.Addr, linkAddr LinkAddress) {
	c.mu.Lock()
	var waiting []*PacketBuffer
	if old := c.entries[addr]; old != nil {
		waiting, old.queue = old.queue, nil
		c.removeLocked(old, nil)
	}
	e := &neighborEntry{addr: addr, linkAddr: linkAddr}
	e.setState(NeighborStatic)
	c.entries[addr] = e
	c.publishLocked()
	c.mu.Unlock()
	if len(waiting) > 0 {
		c.nic.stack.RunControl(func(w *Worker) {
			for _, pkt := range waiting {
				c.handler.HandleResolved(w, pkt)
				c.nic.WriteEthernet(w, pkt, linkAddr, pkt.NetworkProtocol)
			}
		})
	}
}

// Remove deletes addr's entry, whatever its state; packets waiting on it
// are dropped and counted as host unreachable.
//
// It runs control-path work itself: do not call it from a Tick or inside
// Stack.RunControl.
func (c *NeighborCache) Remove(addr netip.Addr) bool {
	c.mu.Lock()
	e := c.entries[addr]
	if e == nil {
		c.mu.Unlock()
		return false
	}
	waiting := e.queue
	e.queue = nil
	c.removeLocked(e, nil)
	c.mu.Unlock()
	c.dropWaiting(waiting)
	return true
}

// Flush removes every entry but the static ones (link down, address
// change); packets waiting on them are dropped and counted as host
// unreachable. Like Remove, not from a Tick or inside Stack.RunControl.
func (c *NeighborCache) Flush() {
	c.mu.Lock()
	var waiting []*PacketBuffer
	for _, e := range c.entries {
		if e.state != NeighborStatic {
			delete(c.entries, e.addr)
			waiting = append(waiting, e.queue...)
			e.queue = nil
		}
	}
	c.publishLocked()
	c.mu.Unlock()
	c.dropWaiting(waiting)
}

// dropWaiting hands packets that lost their entry to the handler on the
// control worker, so each is counted once.
func (c *NeighborCache) dropWaiting(pkts []*PacketBuffer) {
	if len(pkts) == 0 {
		return
	}
	c.nic.stack.RunControl(func(w *Worker) {
		for _, pkt := range pkts {
			c.handler.HandleNeighborDrop(w, pkt, DropHostUnreachable)
		}
	})
}

// Entries lists the entries sorted by address.
func (c *NeighborCache) Entries() []NeighborEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]NeighborEntry, 0, len(c.entries))
	for _, e := range c.entries {
		out = append(out, NeighborEntry{Addr: e.addr, LinkAddr: e.linkAddr, State: e.state})
	}
	slices.SortFunc(out, func(a, b NeighborEntry) int { return a.Addr.Compare(b.Addr) })
	return out
}

// Entry returns addr's entry.
func (c *NeighborCache) Entry(addr netip.Addr) (NeighborEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[addr]
	if e == nil {
		return NeighborEntry{}, false
	}
	return NeighborEntry{Addr: e.addr, LinkAddr: e.linkAddr, State: e.state}, true
}

// StateCounts counts entries per state, indexed by NeighborState.
func (c *NeighborCache) StateCounts() [NeighborStatic + 1]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n [NeighborStatic + 1]int
	for _, e := range c.entries {
		n[e.state]++
	}
	return n
}

// Tick runs the NUD timers that are due on the cache's clock: request
// retransmission, REACHABLE→STALE, STALE→DELAY for used entries,
// DELAY→PROBE, probe retransmission, failure and cleanup. Requests and
// ICMP errors go out on w. The control path calls it periodically; tests
// call it after advancing a FakeClock.
func (c *NeighborCache) Tick(w *Worker) {
	// Packets of entries that failed are handed to the handler only after
	// the mutex is released: the handler answers with ICMP, which goes
	// through WriteToNextHop and may need this very cache.
	failed := c.tickLocked(w)
	for _, pkt := range failed {
		c.handler.HandleLinkResolutionFailure(w, pkt)
	}
}

// tickLocked runs the due timers and returns the queued packets of entries
// that went FAILED.
func (c *NeighborCache) tickLocked(w *Worker) []*PacketBuffer {
	c.mu.Lock()
	defer c.mu.Unlock()
	var failed []*PacketBuffer
	now := w.stack.clock.NowNanos()
	publish := false
	for _, e := range c.entries {
		switch e.state {
		case NeighborIncomplete:
			if now < e.deadline {
				continue
			}
			if e.probes < c.cfg.MaxMulticastProbes {
				e.probes++
				e.deadline = now + int64(c.cfg.RetransTimer)
				c.sendRequestLocked(w, e, LinkAddress{})
				continue
			}
			c.stats.ResolutionsFailed.Add(1)
			e.setState(NeighborFailed)
			e.updated = now
			e.deadline = now + int64(c.cfg.FailedRetention)
			failed = append(failed, e.queue...)
			clear(e.queue)
			e.queue = e.queue[:0]
		case NeighborReachable:
			if now >= e.deadline {
				e.setState(NeighborStale)
				e.deadline = 0
				e.used.Store(false)
			}
		case NeighborStale:
			if e.used.Swap(false) {
				e.setState(NeighborDelay)
				e.deadline = now + int64(c.cfg.DelayFirstProbeTime)
			}
		case NeighborDelay:
			if now >= e.deadline {
				e.setState(NeighborProbe)
				e.probes = 1
				e.deadline = now + int64(c.cfg.RetransTimer)
				c.sendRequestLocked(w, e, e.linkAddr)
			}
		case NeighborProbe:
			if now < e.deadline {
				continue
			}
			if e.probes < c.cfg.MaxUnicastProbes {
				e.probes++
				e.deadline = now + int64(c.cfg.RetransTimer)
				c.sendRequestLocked(w, e, e.linkAddr)
				continue
			}
			// RFC 4861 §7.3.3: no answer to the unicast probes; the
			// entry is deleted and the next packet starts over.
			delete(c.entries, e.addr)
			publish = true
		case NeighborFailed:
			if now >= e.deadline {
				delete(c.entries, e.addr)
			}
		}
	}
	if publish {
		c.publishLocked()
	}
	return failed
}
