package stack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
)

// NetworkProtocolFactory creates a protocol for a stack; Options lists them
// so the stack never imports a concrete protocol.
type NetworkProtocolFactory func(*Stack) NetworkProtocol

// Options configure a Stack. The zero value is a stack with no protocols,
// the real clock and the default frame pool.
type Options struct {
	// NetworkProtocols are created in order and registered by EtherType.
	NetworkProtocols []NetworkProtocolFactory
	// Clock is the time source; nil means RealClock. Tests pass a FakeClock.
	Clock Clock
	// FramePool lends frames for packets the stack makes itself; nil means
	// a pool of DefaultFrameSize frames with DefaultHeadroom.
	FramePool *FramePool
	// NUD configures every neighbour cache; the zero value means
	// DefaultNUDConfig().
	NUD NUDConfig
}

// Frame pool defaults: room for a 9000-byte jumbo packet plus an Ethernet
// header, with headroom for a link header and a virtio_net_hdr in front.
const (
	DefaultHeadroom  = 128
	DefaultFrameSize = DefaultHeadroom + ethernetHeaderSize + 9216
)

// localAddrs is the immutable set of every address of every NIC, read by
// the data path to decide "is this packet for the router itself".
//
// The addresses are kept as machine words (big-endian for IPv4, as
// IsLocalAddress4Word takes them; little-endian halves for IPv6) so a
// lookup compares registers with memory: comparing
// [16]byte values goes through the stack and stalls on store forwarding.
//
// last4 and last6 have bit b set when some address ends in byte b: one
// bit test turns away most packets in transit before any comparison.
type localAddrs struct {
	v4           []uint32
	v6           [][2]uint64
	last4, last6 [4]uint64
}

// hasLast reports whether bit b of the 256-bit set m is set.
func hasLast(m *[4]uint64, b byte) bool { return m[b>>6]>>(b&63)&1 != 0 }

func word4(a [4]byte) uint32 { return binary.BigEndian.Uint32(a[:]) }

func words16(a *[16]byte) (uint64, uint64) {
	return binary.LittleEndian.Uint64(a[:8]), binary.LittleEndian.Uint64(a[8:])
}

// Stack holds the NICs, protocols and route table of one router. Its
// control-path methods are serialized by mu; the data path reads only
// atomically published snapshots.
type Stack struct {
	clock  Clock
	frames *FramePool
	routes *RouteTable

	protocols [numProtoSlots]NetworkProtocol
	nud       NUDConfig

	// tickMu serializes Tick, which owns the control worker.
	tickMu  sync.Mutex
	control *Worker

	// mu serializes control-path changes: NICs, addresses, routes.
	mu      sync.Mutex
	nics    atomic.Pointer[[]*NIC] // indexed by NICID; nil holes
	local   atomic.Pointer[localAddrs]
	workers [MaxWorkers]bool // +checklocks:mu
}

// New creates a stack.
func New(opts Options) *Stack {
	s := &Stack{
		clock:  opts.Clock,
		frames: opts.FramePool,
		routes: NewRouteTable(),
		nud:    opts.NUD,
	}
	if s.nud == (NUDConfig{}) {
		s.nud = DefaultNUDConfig()
	}
	if s.clock == nil {
		s.clock = RealClock{}
	}
	if s.frames == nil {
		s.frames = NewFramePool(DefaultFrameSize, DefaultHeadroom)
	}
	empty := []*NIC{}
	s.nics.Store(&empty)
	s.local.Store(&localAddrs{})
	for _, f := range opts.NetworkProtocols {
		p := f(s)
		slot := protoSlot(p.Number())
		if slot < 0 {
			panic(fmt.Sprintf("stack: protocol %#04x has no dispatch slot", p.Number()))
		}
		s.protocols[slot] = p
	}
	// The control path (timers, resolution failures) gets its own worker
	// so its counters never share a block with a data-path worker.
	s.workers[0] = true
	s.control = &Worker{id: 0, stack: s}
	return s
}

// Tick runs every due timer of the control path (neighbour caches today)
// on the control worker and flushes what they send. The forwarder calls it
// periodically; tests call it after advancing a FakeClock.
func (s *Stack) Tick() {
	s.tickMu.Lock()
	defer s.tickMu.Unlock()
	s.control.StartBatch()
	for _, n := range s.NICs() {
		for _, c := range n.neigh {
			if c != nil {
				c.Tick(s.control)
			}
		}
		for _, ep := range n.eps {
			if t, ok := ep.(Ticker); ok {
				t.Tick(s.control)
			}
		}
	}
	s.control.Flush()
}

// Ticker is implemented by network endpoints that have timers of their own
// (IPv6's periodic Router Advertisements); Stack.Tick calls Tick on the
// control worker after the neighbour caches' timers, so the stack needs no
// knowledge of the protocol's timers.
type Ticker interface {
	Tick(w *Worker)
}

// RunControl locks the control worker for f, e.g. to send a gratuitous ARP
// when an interface comes up; what f queues is flushed afterwards.
func (s *Stack) RunControl(f func(w *Worker)) {
	s.tickMu.Lock()
	defer s.tickMu.Unlock()
	s.control.StartBatch()
	f(s.control)
	s.control.Flush()
}

// Clock is the stack's time source.
func (s *Stack) Clock() Clock { return s.clock }

// Frames is the pool for packets the stack generates itself.
func (s *Stack) Frames() *FramePool { return s.frames }

// Routes is the stack's route table (IPv4 and IPv6).
func (s *Stack) Routes() *RouteTable { return s.routes }

// NetworkProtocol returns the registered protocol for an EtherType, or nil.
func (s *Stack) NetworkProtocol(n NetworkProtocolNumber) NetworkProtocol {
	if slot := protoSlot(n); slot >= 0 {
		return s.protocols[slot]
	}
	return nil
}

// ErrNICExists is returned by CreateNIC for a used ID or name.
var ErrNICExists = errors.New("NIC already exists")

// CreateNIC adds a NIC for link ep, attaches the NIC as the link's
// dispatcher and creates an endpoint of every registered protocol on it.
// The NIC starts disabled; call Enable once addresses are set.
func (s *Stack) CreateNIC(id NICID, name string, ep LinkEndpoint) (*NIC, error) {
	if id <= 0 || id >= MaxNICs {
		return nil, fmt.Errorf("create NIC %q: ID %d out of range 1..%d", name, id, MaxNICs-1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.nics.Load()
	if int(id) < len(old) && old[id] != nil {
		return nil, fmt.Errorf("create NIC %q: ID %d: %w", name, id, ErrNICExists)
	}
	for _, n := range old {
		if n != nil && n.name == name {
			return nil, fmt.Errorf("create NIC %q: %w", name, ErrNICExists)
		}
	}
	n := &NIC{stack: s, id: id, name: name, link: ep, linkAddr: ep.LinkAddress(), caps: ep.Capabilities()}
	n.gsoFilter, _ = ep.(GSOTypeFilter)
	n.addrs.Store(&nicAddrs{})
	for slot, p := range s.protocols {
		if p != nil {
			n.eps[slot] = p.NewEndpoint(n)
		}
	}
	// Every endpoint that resolves link addresses gets a neighbour cache
	// for the protocol whose addresses it resolves (ARP for IPv4, NDP for
	// IPv6), when the link needs resolution at all.
	if ep.Capabilities()&CapabilityResolutionRequired != 0 {
		for _, nep := range n.eps {
			r, ok := nep.(LinkAddressResolver)
			if !ok {
				continue
			}
			slot := protoSlot(r.LinkAddressProtocol())
			if slot < 0 || n.eps[slot] == nil {
				continue
			}
			h, ok := n.eps[slot].(LinkResolutionHandler)
			if !ok {
				continue
			}
			n.neigh[slot] = NewNeighborCache(n, r.LinkAddressProtocol(), r, h, s.nud)
		}
	}
	next := slices.Clone(old)
	for len(next) <= int(id) {
		next = append(next, nil)
	}
	next[id] = n
	s.nics.Store(&next)
	ep.Attach(n)
	return n, nil
}

// RemoveNIC disables and removes a NIC, its addresses and the routes that
// point at it, and detaches it from its link.
func (s *Stack) RemoveNIC(id NICID) error {
	n := s.NIC(id)
	if n == nil {
		return fmt.Errorf("remove NIC %d: no such NIC", id)
	}
	n.Disable()
	for _, a := range n.Addresses() {
		_ = n.RemoveAddress(a.Addr())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeRoutesViaLocked(id)
	next := slices.Clone(*s.nics.Load())
	next[id] = nil
	s.nics.Store(&next)
	n.link.Attach(nil)
	for _, ep := range n.eps {
		if ep != nil {
			ep.Close()
		}
	}
	return nil
}

// NIC returns the NIC with id, or nil. Lock-free.
func (s *Stack) NIC(id NICID) *NIC {
	nics := *s.nics.Load()
	if id < 0 || int(id) >= len(nics) {
		return nil
	}
	return nics[id]
}

// NICByName returns the NIC called name, or nil.
func (s *Stack) NICByName(name string) *NIC {
	for _, n := range *s.nics.Load() {
		if n != nil && n.name == name {
			return n
		}
	}
	return nil
}

// NICs lists the NICs in ID order.
func (s *Stack) NICs() []*NIC {
	var out []*NIC
	for _, n := range *s.nics.Load() {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// NewWorker reserves a worker slot for a data-path goroutine.
func (s *Stack) NewWorker() (*Worker, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.workers {
		if !s.workers[i] {
			s.workers[i] = true
			return &Worker{id: i, stack: s}, nil
		}
	}
	return nil, fmt.Errorf("stack: all %d worker slots in use", MaxWorkers)
}

// ReleaseWorker frees a worker's slot after flushing what it still holds.
func (s *Stack) ReleaseWorker(w *Worker) {
	w.Flush()
	s.mu.Lock()
	s.workers[w.id] = false
	s.mu.Unlock()
}

// IsLocalAddress4 reports whether a is one of the router's IPv4 addresses
// on any NIC (the weak host model of RFC 1122 §3.3.4.2).
func (s *Stack) IsLocalAddress4(a [4]byte) bool {
	return s.IsLocalAddress4Word(word4(a))
}

// IsLocalAddress4Word is IsLocalAddress4 for an address given as a
// big-endian word (binary.BigEndian.Uint32 of its bytes), the form the
// data path holds in a register: a [4]byte goes through memory.
func (s *Stack) IsLocalAddress4Word(a uint32) bool {
	la := s.local.Load()
	if !hasLast(&la.last4, byte(a)) {
		return false
	}
	for _, l := range la.v4 {
		if l == a {
			return true
		}
	}
	return false
}

// IsLocalAddress6 reports whether a is one of the router's IPv6 addresses.
func (s *Stack) IsLocalAddress6(a [16]byte) bool {
	return s.IsLocalAddress6At(&a)
}

// IsLocalAddress6At is IsLocalAddress6 for an address the caller points
// at, e.g. (*[16]byte)(h[24:40]) in a packet: a [16]byte argument is
// copied through memory, and the copy's reloads stall the pipeline.
func (s *Stack) IsLocalAddress6At(a *[16]byte) bool {
	la := s.local.Load()
	return hasLast(&la.last6, a[15]) && la.has6(a)
}

// has6 reports whether a is in the IPv6 list.
func (la *localAddrs) has6(a *[16]byte) bool {
	hi, lo := words16(a)
	v6 := la.v6
	for i := range v6 {
		if v6[i][1] == lo && v6[i][0] == hi {
			return true
		}
	}
	return false
}

// NICWithAddress returns the NIC that has addr assigned, or nil.
func (s *Stack) NICWithAddress(addr netip.Addr) *NIC {
	for _, n := range *s.nics.Load() {
		if n != nil && n.HasAddress(addr) {
			return n
		}
	}
	return nil
}

func (s *Stack) nicWithAddressLocked(addr netip.Addr) *NIC { return s.NICWithAddress(addr) }

// publishLocalAddrsLocked rebuilds the local address snapshot.
//
// Precondition: s.mu is locked.
func (s *Stack) publishLocalAddrsLocked() {
	l := &localAddrs{}
	for _, n := range *s.nics.Load() {
		if n == nil {
			continue
		}
		a := n.addrs.Load()
		for _, p := range a.v4 {
			a4 := p.Addr().As4()
			l.v4 = append(l.v4, word4(a4))
			l.last4[a4[3]>>6] |= 1 << (a4[3] & 63)
		}
		for _, p := range a.v6 {
			a16 := p.Addr().As16()
			hi, lo := words16(&a16)
			l.v6 = append(l.v6, [2]uint64{hi, lo})
			l.last6[a16[15]>>6] |= 1 << (a16[15] & 63)
		}
	}
	s.local.Store(l)
}

// addConnectedRouteLocked makes the route table agree with the NICs'
// addresses for the prefix of a new address.
//
// Precondition: s.mu is locked.
func (s *Stack) addConnectedRouteLocked(n *NIC, addr netip.Prefix) error {
	if err := s.syncConnectedRouteLocked(addr.Masked(), n); err != nil {
		return fmt.Errorf("NIC %q: connected route for %v: %w", n.name, addr, err)
	}
	return nil
}

// removeConnectedRouteLocked does the same after an address was removed:
// the route moves to another NIC that still has an address on the prefix,
// or goes away.
//
// Precondition: s.mu is locked.
func (s *Stack) removeConnectedRouteLocked(_ *NIC, removed netip.Prefix) {
	_ = s.syncConnectedRouteLocked(removed.Masked(), nil)
}

// syncConnectedRouteLocked sets the connected route of prefix p from the
// NICs' addresses: on-link via the lowest-numbered NIC that has an address
// on p (adding is the NIC about to get one), or no connected route when
// none has. A connected route takes precedence over a static or kernel
// route for the same prefix (the subnet is on the wire; the configuration
// rejects such a static route), and the same subnet on two NICs keeps one
// route that survives the removal of either address.
//
// Precondition: s.mu is locked.
func (s *Stack) syncConnectedRouteLocked(p netip.Prefix, adding *NIC) error {
	var owner *NIC
	for _, n := range *s.nics.Load() {
		if n == nil {
			continue
		}
		has := n == adding
		for _, a := range n.Addresses() {
			if a.Masked() == p {
				has = true
			}
		}
		if has && (owner == nil || n.id < owner.id) {
			owner = n
		}
	}
	cur, exists := s.routes.Get(p)
	switch {
	case owner == nil && exists && cur.Source == RouteSourceConnected:
		return s.routes.Delete(p)
	case owner == nil:
		return nil
	case exists && cur.Source == RouteSourceConnected && len(cur.NextHops) == 1 && cur.NextHops[0].NIC == owner.id:
		return nil
	}
	return s.routes.Replace(Route{
		Prefix:   p,
		Type:     RouteUnicast,
		NextHops: []NextHop{{NIC: owner.id}},
		Source:   RouteSourceConnected,
	})
}

// removeRoutesViaLocked deletes every route whose next hops all use NIC id.
//
// Precondition: s.mu is locked.
func (s *Stack) removeRoutesViaLocked(id NICID) {
	var changes []RouteChange
	for _, r := range s.routes.Routes() {
		if len(r.NextHops) == 0 {
			continue
		}
		all := true
		for _, nh := range r.NextHops {
			if nh.NIC != id {
				all = false
			}
		}
		if all {
			changes = append(changes, RouteChange{Op: RouteDelete, Route: r})
		}
	}
	if len(changes) > 0 {
		_ = s.routes.Apply(changes)
	}
}
