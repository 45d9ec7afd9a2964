package stack

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
)

// FrameOwner is whoever lent the memory behind a PacketBuffer: an AF_XDP UMEM,
// a PACKET_MMAP ring, or a FramePool. Release hands the frame back to it.
type FrameOwner interface {
	// ReleaseFrame takes back a frame. The PacketBuffer must not be used
	// after this call; the owner may hand it out again at once.
	ReleaseFrame(pkt *PacketBuffer)
}

// PacketBuffer is one frame on the data path: a view into frame memory that
// a link or pool owns, with headroom in front so headers can be prepended
// without a copy. It has a single owner at a time; whoever holds it either
// passes it on (WritePackets, a neighbour queue) or calls Release.
//
// Offsets are indices into the frame memory, so they stay valid while the
// data window moves (TrimFront, Prepend).
type PacketBuffer struct {
	buf  []byte // the whole frame: len(buf) is the frame's capacity
	head int    // data is buf[head:tail]
	tail int

	// LinkHeaderOffset, NetworkHeaderOffset and TransportHeaderOffset index
	// buf where each header starts, or are -1 when not yet parsed.
	LinkHeaderOffset      int
	NetworkHeaderOffset   int
	TransportHeaderOffset int

	// NetworkProtocol is the EtherType the frame was received or is sent with.
	NetworkProtocol NetworkProtocolNumber
	// PktType says how the link addressed the frame (host, broadcast …).
	PktType PacketType
	// NICID is the NIC the frame arrived on (0 for locally generated frames).
	NICID NICID
	// RXChecksumValidated is set by links that verified L3/L4 checksums, so
	// protocols may skip their own check.
	RXChecksumValidated bool
	// GSO describes a super-packet or a frame whose checksum is not ready.
	GSO GSO

	// Hash is a flow hash (from the link, or computed), used for ECMP.
	Hash uint32

	// TransitBytes marks a packet the router forwards: when it is handed
	// to the link after waiting for neighbour resolution, its ingress
	// endpoint (NICID) counts one packet and TransitBytes bytes forwarded
	// (LinkResolutionHandler.HandleResolved). Zero for packets the router
	// makes, and for the second and later fragments of a datagram it
	// fragments (the first carries the whole datagram's count).
	TransitBytes uint32

	// Handle is private to the owner: a UMEM address, a ring slot index.
	Handle uint64

	owner FrameOwner
	// inUse is true while the frame is lent out. Only the frame's holder
	// touches it, and a frame changes hands with a happens-before edge (the
	// same goroutine, a mutex, sync.Pool), so it is a plain bool: two
	// locked instructions per packet cost ~10 ns on the forwarding path.
	inUse bool
}

// InitFrame binds pkt to frame memory lent by owner, with data at
// buf[head:tail]. Links call it when they take a frame off a ring.
//
// A ring hands the same PacketBuffer out with the same frame again and
// again, so the frame is stored only when it changes: a slice store into a
// heap object costs a GC write barrier check.
func (pkt *PacketBuffer) InitFrame(owner FrameOwner, buf []byte, head, tail int) {
	if !sameFrame(pkt.buf, buf) {
		pkt.buf = buf
	}
	pkt.head = head
	pkt.tail = tail
	pkt.ResetMetadata()
	pkt.GSO = GSO{}
	pkt.owner = owner // comparing interfaces first would cost a runtime call
	was := pkt.inUse
	pkt.inUse = true
	if was || leakCheck.Load() {
		pkt.initFrameChecked(was)
	}
}

// initFrameChecked is InitFrame's bookkeeping when leak checking is on or
// the frame was handed out while still in use.
func (pkt *PacketBuffer) initFrameChecked(was bool) {
	check := leakCheck.Load()
	if was {
		if check {
			panic(fmt.Sprintf("stack: frame %p (handle %#x) handed out while still in use", pkt, pkt.Handle))
		}
		framesReusedLive.Add(1)
	}
	if check {
		liveFrames.Add(1)
	}
}

// sameFrame reports whether a and b are the same slice of memory.
func sameFrame(a, b []byte) bool {
	return len(a) == len(b) && cap(a) == cap(b) && (len(a) == 0 || &a[0] == &b[0])
}

// ResetMetadata clears everything but the frame and its data window, for a
// frame that moves to another link without being copied.
func (pkt *PacketBuffer) ResetMetadata() {
	pkt.LinkHeaderOffset = -1
	pkt.NetworkHeaderOffset = -1
	pkt.TransportHeaderOffset = -1
	pkt.NetworkProtocol = 0
	pkt.PktType = PacketHost
	pkt.NICID = 0
	pkt.RXChecksumValidated = false
	pkt.Hash = 0
	pkt.TransitBytes = 0
}

// Release returns the frame to its owner. Calling it twice is a bug: it
// panics in leak-check mode and is counted otherwise.
func (pkt *PacketBuffer) Release() {
	was := pkt.inUse
	pkt.inUse = false
	if !was || leakCheck.Load() {
		if !pkt.releaseChecked(was) {
			return
		}
	}
	pkt.owner.ReleaseFrame(pkt)
}

// releaseChecked is Release's bookkeeping when leak checking is on or the
// frame was not in use; it reports whether the frame goes back to its
// owner.
func (pkt *PacketBuffer) releaseChecked(was bool) bool {
	check := leakCheck.Load()
	if !was {
		if check {
			panic(fmt.Sprintf("stack: double release of frame %p (handle %#x)", pkt, pkt.Handle))
		}
		doubleReleases.Add(1)
		return false
	}
	if check {
		liveFrames.Add(-1)
	}
	return true
}

// InUse reports whether the frame is currently lent out (not released).
func (pkt *PacketBuffer) InUse() bool { return pkt.inUse }

// Owner is the frame's owner; links compare it with themselves to decide
// whether a frame can move between their rings without a copy.
func (pkt *PacketBuffer) Owner() FrameOwner { return pkt.owner }

// Data is the packet from its current front (a link header, or the network
// header once the link header was consumed) to its end.
func (pkt *PacketBuffer) Data() []byte { return pkt.buf[pkt.head:pkt.tail] }

// Len is len(Data()).
func (pkt *PacketBuffer) Len() int { return pkt.tail - pkt.head }

// Headroom is how many bytes can be prepended without a copy.
func (pkt *PacketBuffer) Headroom() int { return pkt.head }

// Tailroom is how many bytes the data can grow by at its end.
func (pkt *PacketBuffer) Tailroom() int { return len(pkt.buf) - pkt.tail }

// Frame is the whole frame memory, headroom included. Links use it to place
// data; protocols should use Data.
func (pkt *PacketBuffer) Frame() []byte { return pkt.buf }

// Start is the index in Frame of the first data byte.
func (pkt *PacketBuffer) Start() int { return pkt.head }

// Prepend grows the data by n bytes at the front and returns them. It
// returns nil when the headroom is smaller than n.
func (pkt *PacketBuffer) Prepend(n int) []byte {
	if n > pkt.head || n < 0 {
		return nil
	}
	pkt.head -= n
	return pkt.buf[pkt.head : pkt.head+n]
}

// TrimFront consumes n bytes of header at the front, e.g. the Ethernet header
// once it was parsed. It reports false when the data is shorter than n.
func (pkt *PacketBuffer) TrimFront(n int) bool {
	if n > pkt.tail-pkt.head || n < 0 {
		return false
	}
	pkt.head += n
	return true
}

// SetLen cuts or extends the data to n bytes from its front, e.g. to drop
// Ethernet padding after the IP total length. It reports false when n does
// not fit in the frame.
func (pkt *PacketBuffer) SetLen(n int) bool {
	if n < 0 || pkt.head+n > len(pkt.buf) {
		return false
	}
	pkt.tail = pkt.head + n
	return true
}

// SetData places the data window at frame[head:head+n].
func (pkt *PacketBuffer) SetData(head, n int) bool {
	if head < 0 || n < 0 || head+n > len(pkt.buf) {
		return false
	}
	pkt.head, pkt.tail = head, head+n
	return true
}

// NetworkHeader is the packet from its network header to its end, or nil
// when the network header was not marked.
func (pkt *PacketBuffer) NetworkHeader() []byte {
	if pkt.NetworkHeaderOffset < 0 || pkt.NetworkHeaderOffset > pkt.tail {
		return nil
	}
	return pkt.buf[pkt.NetworkHeaderOffset:pkt.tail]
}

// LinkHeader is the packet from its link header to its end, or nil when the
// link header was not marked.
func (pkt *PacketBuffer) LinkHeader() []byte {
	if pkt.LinkHeaderOffset < 0 || pkt.LinkHeaderOffset > pkt.tail {
		return nil
	}
	return pkt.buf[pkt.LinkHeaderOffset:pkt.tail]
}

// leakCheck turns double releases and reuse of live frames into panics.
var leakCheck atomic.Bool

// Counters of frame-ownership bugs seen while leak checking was off.
var doubleReleases, framesReusedLive atomic.Uint64

// liveFrames counts frames handed out and not released while leak checking
// is on, whoever owns them (rings, UMEMs, pools).
var liveFrames atomic.Int64

// SetLeakCheck makes frame-ownership bugs panic and starts counting live
// frames. Tests turn it on in TestMain and call CheckLeaks after m.Run, so
// a double release fails at once and a lost frame fails the package.
func SetLeakCheck(on bool) { leakCheck.Store(on) }

// LiveFrames is how many frames are handed out and not yet released (only
// counted while leak checking is on).
func LiveFrames() int64 { return liveFrames.Load() }

// RunTestsWithLeakCheck is a TestMain body: it turns leak checking on,
// runs the package's tests and fails the package when a frame was leaked or
// released twice. Use it as os.Exit(stack.RunTestsWithLeakCheck(m)).
func RunTestsWithLeakCheck(m interface{ Run() int }) int {
	SetLeakCheck(true)
	code := m.Run()
	if err := CheckLeaks(); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	return code
}

// CheckLeaks reports frames that were handed out while leak checking was
// on and never released, and ownership errors seen with it off.
func CheckLeaks() error {
	if n := liveFrames.Load(); n != 0 {
		return fmt.Errorf("stack: %d frames were never released (leaked)", n)
	}
	if d, r := OwnershipErrors(); d != 0 || r != 0 {
		return fmt.Errorf("stack: %d double releases and %d reuses of live frames", d, r)
	}
	return nil
}

// OwnershipErrors reports how many double releases and reuses of live frames
// happened with leak checking off. Both should stay zero.
func OwnershipErrors() (doubleRelease, reusedLive uint64) {
	return doubleReleases.Load(), framesReusedLive.Load()
}

// FramePool lends heap frames of one size for packets the router makes
// itself (ICMP errors, fragments, ARP/NDP) and for links without ring memory.
// It is safe for concurrent use and allocates nothing in steady state.
type FramePool struct {
	size        int
	headroom    int
	pool        sync.Pool
	outstanding atomic.Int64

	// qmu guards the leak-check quarantine.
	qmu        sync.Mutex
	quarantine [quarantineSize]*PacketBuffer
	qi         int
}

// NewFramePool makes a pool of frames of frameSize bytes whose data starts
// after headroom bytes.
func NewFramePool(frameSize, headroom int) *FramePool {
	p := &FramePool{size: frameSize, headroom: headroom}
	p.pool.New = func() any {
		return &PacketBuffer{buf: make([]byte, frameSize)}
	}
	return p
}

// FrameSize is the size of every frame of the pool, headroom included.
func (p *FramePool) FrameSize() int { return p.size }

// Get lends a frame with empty data at the pool's headroom.
func (p *FramePool) Get() *PacketBuffer {
	pkt := p.pool.Get().(*PacketBuffer)
	pkt.InitFrame(p, pkt.buf, p.headroom, p.headroom)
	p.outstanding.Add(1)
	return pkt
}

// Clone copies pkt's data and metadata into a frame of the pool, for a
// packet that must outlive the ring slot it sits in (e.g. while it waits
// for neighbour resolution). It returns nil when the data does not fit.
func (p *FramePool) Clone(pkt *PacketBuffer) *PacketBuffer {
	if pkt.Len() > p.size-p.headroom {
		return nil
	}
	c := p.Get()
	c.SetLen(pkt.Len())
	copy(c.Data(), pkt.Data())
	shift := c.head - pkt.head
	move := func(off int) int {
		if off < 0 {
			return -1
		}
		return off + shift
	}
	c.LinkHeaderOffset = move(pkt.LinkHeaderOffset)
	c.NetworkHeaderOffset = move(pkt.NetworkHeaderOffset)
	c.TransportHeaderOffset = move(pkt.TransportHeaderOffset)
	c.NetworkProtocol = pkt.NetworkProtocol
	c.PktType = pkt.PktType
	c.NICID = pkt.NICID
	c.RXChecksumValidated = pkt.RXChecksumValidated
	c.GSO = pkt.GSO
	c.Hash = pkt.Hash
	c.TransitBytes = pkt.TransitBytes
	return c
}

// quarantineSize is how many released frames a pool holds back in
// leak-check mode before reusing them, so a stale second Release (or a use
// after release) by the previous holder hits a poisoned frame and panics
// instead of silently freeing the next holder's frame.
const quarantineSize = LeakCheckQuarantine

// LeakCheckQuarantine is how many releases a FramePool absorbs in
// leak-check mode before it reuses frames; allocation tests warm up past it.
const LeakCheckQuarantine = 1024

// ReleaseFrame implements FrameOwner.
func (p *FramePool) ReleaseFrame(pkt *PacketBuffer) {
	p.outstanding.Add(-1)
	if leakCheck.Load() {
		// Poison: Data() on a released frame panics (head > tail).
		pkt.head, pkt.tail = len(pkt.buf)+1, 0
		p.qmu.Lock()
		old := p.quarantine[p.qi]
		p.quarantine[p.qi] = pkt
		p.qi = (p.qi + 1) % quarantineSize
		p.qmu.Unlock()
		if old == nil {
			return
		}
		pkt = old
	}
	p.pool.Put(pkt)
}

// Outstanding is the number of frames lent and not yet released; tests
// assert it returns to zero to catch leaks.
func (p *FramePool) Outstanding() int64 { return p.outstanding.Load() }

// BatchSize is how many frames move through the data path together: one RX
// poll, one dispatch, one WritePackets. 64 amortises the ring doorbell and
// the syscall over enough packets while a batch's headers still fit in L1.
const BatchSize = 64

// PacketBufferList is a batch of packets. It is a plain slice wrapper that a
// worker reuses, so building a batch never allocates once its capacity is
// reached.
type PacketBufferList struct {
	pkts []*PacketBuffer
	// Queue is the index of the worker that fills the list; links with one
	// TX ring per worker use it to pick the ring without locking.
	Queue int
}

// MakePacketBufferList returns an empty list with room for capacity packets.
func MakePacketBufferList(capacity int) PacketBufferList {
	return PacketBufferList{pkts: make([]*PacketBuffer, 0, capacity)}
}

// PushBack appends pkt.
func (l *PacketBufferList) PushBack(pkt *PacketBuffer) { l.pkts = append(l.pkts, pkt) }

// Len is the number of packets in the list.
func (l *PacketBufferList) Len() int { return len(l.pkts) }

// AsSlice exposes the packets; valid until the list is next changed.
func (l *PacketBufferList) AsSlice() []*PacketBuffer { return l.pkts }

// Reset empties the list without releasing its packets (they were passed on).
func (l *PacketBufferList) Reset() {
	clear(l.pkts)
	l.pkts = l.pkts[:0]
}

// Release releases every packet and empties the list.
func (l *PacketBufferList) Release() {
	for _, pkt := range l.pkts {
		pkt.Release()
	}
	l.Reset()
}
