// Package memlink is an in-memory pair of link endpoints, like a veth pair
// without a kernel: what one end writes, the other end receives. Tests and
// benchmarks run the whole stack on it without root.
//
// Place in the data path: it stands where link/afxdp and link/packetmmap
// stand in a real router. Writing moves frames into the peer's bounded RX
// queue without copying (like descriptors in a shared AF_XDP UMEM); the peer
// delivers them when a worker polls it, so a test decides exactly when each
// side runs and the whole exchange is deterministic.
package memlink

import (
	"errors"
	"fmt"
	"sync"

	"github.com/nexthop-router/nexthop/stack"
)

// Options configure one end of a pair. Zero values take the defaults named.
type Options struct {
	// MTU is the largest IP packet the link carries; 0 means 1500.
	MTU uint32
	// LinkAddress is the end's MAC address; the zero address means a
	// locally administered address derived from the end's position.
	LinkAddress stack.LinkAddress
	// Capabilities are reported as is; 0 means CapabilityResolutionRequired
	// (an Ethernet port that needs ARP/NDP).
	Capabilities stack.LinkEndpointCapabilities
	// RXQueueLen bounds the frames waiting to be polled; 0 means 1024.
	// Frames written past it are dropped and counted, like a full ring.
	RXQueueLen int
	// FramePool lends the frames WriteFrame copies into; nil means a pool
	// of stack.DefaultFrameSize frames shared by the pair.
	FramePool *stack.FramePool
}

// Stats are an end's counters.
type Stats struct {
	// TXFrames were written and queued at the peer.
	TXFrames uint64
	// TXDropped were refused: the peer's queue was full.
	TXDropped uint64
	// TXTooBig exceeded MTU plus the Ethernet header and were not GSO.
	TXTooBig uint64
	// RXFrames were delivered to this end's dispatcher or drained.
	RXFrames uint64
	// WriteCalls counts WritePackets calls (WriteFrame included), so tests
	// can assert the stack's one-doorbell-per-batch rule (DESIGN §2.4).
	WriteCalls uint64
}

// Endpoint is one end of a pair. It implements stack.LinkEndpoint and
// stack.QueuePoller with one RX queue.
type Endpoint struct {
	mtu    uint32
	addr   stack.LinkAddress
	caps   stack.LinkEndpointCapabilities
	qlen   int
	frames *stack.FramePool
	peer   *Endpoint

	// mu guards the fields below it.
	mu         sync.Mutex
	dispatcher stack.NetworkDispatcher
	inbox      []*stack.PacketBuffer
	stats      Stats
	closed     bool

	// batch is the poller's scratch list; only one goroutine polls.
	batch stack.PacketBufferList
}

var (
	_ stack.LinkEndpoint = (*Endpoint)(nil)
	_ stack.QueuePoller  = (*Endpoint)(nil)
)

const ethernetHeaderSize = 14

// NewPair creates two connected ends configured by a and b.
func NewPair(a, b Options) (*Endpoint, *Endpoint) {
	pool := a.FramePool
	if pool == nil {
		pool = b.FramePool
	}
	if pool == nil {
		pool = stack.NewFramePool(stack.DefaultFrameSize, stack.DefaultHeadroom)
	}
	ea := newEndpoint(a, pool, 1)
	eb := newEndpoint(b, pool, 2)
	ea.peer, eb.peer = eb, ea
	return ea, eb
}

func newEndpoint(o Options, pool *stack.FramePool, n byte) *Endpoint {
	e := &Endpoint{
		mtu:    o.MTU,
		addr:   o.LinkAddress,
		caps:   o.Capabilities,
		qlen:   o.RXQueueLen,
		frames: o.FramePool,
		batch:  stack.MakePacketBufferList(stack.BatchSize),
	}
	if e.mtu == 0 {
		e.mtu = 1500
	}
	if e.addr == (stack.LinkAddress{}) {
		e.addr = stack.LinkAddress{0x02, 0, 0, 0, 0, n}
	}
	if e.caps == 0 {
		e.caps = stack.CapabilityResolutionRequired
	}
	if e.qlen == 0 {
		e.qlen = 1024
	}
	if e.frames == nil {
		e.frames = pool
	}
	return e
}

// MTU implements stack.LinkEndpoint.
func (e *Endpoint) MTU() uint32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.mtu
}

// SetMTU changes the MTU, as `ip link set mtu` would.
func (e *Endpoint) SetMTU(mtu uint32) {
	e.mu.Lock()
	e.mtu = mtu
	e.mu.Unlock()
}

// MaxHeaderLength implements stack.LinkEndpoint.
func (e *Endpoint) MaxHeaderLength() uint16 { return ethernetHeaderSize }

// LinkAddress implements stack.LinkEndpoint.
func (e *Endpoint) LinkAddress() stack.LinkAddress { return e.addr }

// Capabilities implements stack.LinkEndpoint.
func (e *Endpoint) Capabilities() stack.LinkEndpointCapabilities { return e.caps }

// Attach implements stack.LinkEndpoint.
func (e *Endpoint) Attach(d stack.NetworkDispatcher) {
	e.mu.Lock()
	e.dispatcher = d
	e.mu.Unlock()
}

// IsAttached implements stack.LinkEndpoint.
func (e *Endpoint) IsAttached() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dispatcher != nil
}

// Frames is the pool WriteFrame copies into; tests check its Outstanding
// count to find leaked frames.
func (e *Endpoint) Frames() *stack.FramePool { return e.frames }

// Peer is the other end of the pair.
func (e *Endpoint) Peer() *Endpoint { return e.peer }

// WritePackets implements stack.LinkEndpoint: it moves every frame into the
// peer's RX queue. It takes ownership of all packets and returns how many
// the peer accepted.
func (e *Endpoint) WritePackets(pkts stack.PacketBufferList) (int, error) {
	e.mu.Lock()
	maxFrame := int(e.mtu) + ethernetHeaderSize
	e.mu.Unlock()
	var sent, dropped, tooBig uint64
	p := e.peer
	p.mu.Lock()
	for _, pkt := range pkts.AsSlice() {
		switch {
		case p.closed || len(p.inbox) >= p.qlen:
			dropped++
			pkt.Release()
		case pkt.Len() > maxFrame && pkt.GSO.Type == stack.GSONone:
			tooBig++
			pkt.Release()
		default:
			// The frame's metadata is the sender's; the peer clears it
			// (keeping GSO, which travels with the frame) when it hands
			// the frame on (received), not here, so a frame that is only
			// discarded costs nothing more.
			p.inbox = append(p.inbox, pkt)
			sent++
		}
	}
	p.mu.Unlock()
	// e's lock is taken only after the peer's is dropped, so two ends
	// writing to each other at once cannot deadlock.
	e.mu.Lock()
	e.stats.WriteCalls++
	e.stats.TXFrames += sent
	e.stats.TXDropped += dropped
	e.stats.TXTooBig += tooBig
	e.mu.Unlock()
	if dropped+tooBig > 0 {
		return int(sent), errNoBufferSpace
	}
	return int(sent), nil
}

var errNoBufferSpace = errors.New("memlink: frames dropped (queue full or too big)")

// WriteFrame copies frame into a pool frame and writes it, as a host would
// send it. Tests use it to inject traffic.
func (e *Endpoint) WriteFrame(frame []byte) error {
	if len(frame) > e.frames.FrameSize()-stack.DefaultHeadroom {
		return fmt.Errorf("memlink: frame of %d bytes does not fit a %d-byte pool frame", len(frame), e.frames.FrameSize())
	}
	pkt := e.frames.Get()
	pkt.SetLen(len(frame))
	copy(pkt.Data(), frame)
	l := stack.MakePacketBufferList(1)
	l.PushBack(pkt)
	_, err := e.WritePackets(l)
	return err
}

// NumRXQueues implements stack.QueuePoller.
func (e *Endpoint) NumRXQueues() int { return 1 }

// Poll implements stack.QueuePoller: it delivers up to one batch of queued
// frames to the attached dispatcher on worker w.
func (e *Endpoint) Poll(w *stack.Worker, q int) int {
	e.mu.Lock()
	d := e.dispatcher
	if d == nil || len(e.inbox) == 0 {
		e.mu.Unlock()
		return 0
	}
	n := min(len(e.inbox), stack.BatchSize)
	for _, pkt := range e.inbox[:n] {
		received(pkt)
		e.batch.PushBack(pkt)
	}
	e.inbox = append(e.inbox[:0], e.inbox[n:]...)
	e.stats.RXFrames += uint64(n)
	e.mu.Unlock()
	d.DeliverNetworkPackets(w, &e.batch)
	e.batch.Reset()
	return n
}

// PollAll polls until the queue is empty and returns how many frames it
// delivered.
func (e *Endpoint) PollAll(w *stack.Worker) int {
	total := 0
	for {
		n := e.Poll(w, 0)
		if n == 0 {
			return total
		}
		total += n
	}
}

// Drain removes every queued frame without a dispatcher and returns them;
// the caller owns and must release them. Tests read what the other end sent.
func (e *Endpoint) Drain() []*stack.PacketBuffer {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.inbox
	e.inbox = nil
	e.stats.RXFrames += uint64(len(out))
	for _, pkt := range out {
		received(pkt)
	}
	return out
}

// received clears the metadata the writing side left on a frame it moved
// here, as a link that receives the frame afresh would, but keeps its GSO
// description (the frame is still a super-packet or still needs its
// checksum).
func received(pkt *stack.PacketBuffer) {
	gso := pkt.GSO
	pkt.ResetMetadata()
	pkt.GSO = gso
}

// Discard releases every queued frame and returns how many there were.
// Unlike Drain it allocates nothing, for benchmarks and allocation tests.
func (e *Endpoint) Discard() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := len(e.inbox)
	for _, pkt := range e.inbox {
		pkt.Release()
	}
	clear(e.inbox)
	e.inbox = e.inbox[:0]
	e.stats.RXFrames += uint64(n)
	return n
}

// DrainBytes is Drain that copies each frame's bytes and releases it.
func (e *Endpoint) DrainBytes() [][]byte {
	pkts := e.Drain()
	out := make([][]byte, len(pkts))
	for i, pkt := range pkts {
		out[i] = append([]byte(nil), pkt.Data()...)
		pkt.Release()
	}
	return out
}

// Queued is the number of frames waiting in the RX queue.
func (e *Endpoint) Queued() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.inbox)
}

// Stats returns a copy of the end's counters.
func (e *Endpoint) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// Wait implements stack.LinkEndpoint; memlink has no goroutines.
func (e *Endpoint) Wait() {}

// Close implements stack.LinkEndpoint: queued frames are released and
// frames written to this end afterwards are dropped.
func (e *Endpoint) Close() {
	e.mu.Lock()
	inbox := e.inbox
	e.inbox = nil
	e.closed = true
	e.mu.Unlock()
	for _, pkt := range inbox {
		pkt.Release()
	}
}
