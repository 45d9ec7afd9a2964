//go:build linux

package afxdp

import (
	"errors"
	"fmt"
	"math/bits"

	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/stack"
)

// Places a UMEM frame can be in. Every frame is in exactly one at a time;
// only the owning worker moves it, so a plain byte per frame records it.
const (
	placeFree  = iota // on the UMEM's free list
	placeFill         // lent to the kernel for RX: fill ring, kernel, RX ring
	placeStack        // a PacketBuffer in the stack (or being copied into)
	placeTX           // lent to the kernel for TX: TX ring, kernel, completion ring
	numPlaces
)

// maxSockets bounds how many sockets (interfaces) share one UMEM, so a
// frame's place and socket fit in 16 bits.
const maxSockets = 255

// txHeadroom is where a frame copied in for TX starts, matching the
// kernel's XDP_PACKET_HEADROOM on RX so copied and forwarded frames look
// alike.
const txHeadroom = unix.XDP_PACKET_HEADROOM

// UMEM is the packet memory of one worker: NumFrames frames of FrameSize
// bytes registered with the kernel once and shared (XDP_SHARED_UMEM) by
// that worker's socket on every interface, so a frame received on one
// interface can be sent on another by moving its descriptor.
//
// A UMEM belongs to one goroutine (its Worker): Poll, WritePackets and
// Release of its frames run there and take no locks. New and Close of the
// endpoints using it must not run while that worker polls them.
type UMEM struct {
	mem       []byte
	frameSize int
	shift     uint
	worker    int

	pkts  []stack.PacketBuffer // one per frame, Handle = frame base address
	place []uint16             // place<<8 | socket slot, per frame
	free  []uint32             // frame indices; a stack
	count [numPlaces]int

	sockets []*xsk // by slot; nil once closed
	// unexpected counts addresses the kernel handed back that were not
	// lent to it (out of range, or in another place): a bug or a
	// duplicate, never silently reused.
	unexpected uint64
}

var _ stack.FrameOwner = (*UMEM)(nil)

// NewUMEM maps the packet memory of one worker. It is registered with the
// kernel by the first endpoint that uses it.
func NewUMEM(opts UMEMOptions) (*UMEM, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	size := opts.FrameSize * opts.NumFrames
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("afxdp: mmap UMEM of %d bytes: %w", size, err)
	}
	u := &UMEM{
		mem:       mem,
		frameSize: opts.FrameSize,
		shift:     uint(bits.TrailingZeros(uint(opts.FrameSize))),
		worker:    opts.Worker,
		pkts:      make([]stack.PacketBuffer, opts.NumFrames),
		place:     make([]uint16, opts.NumFrames),
		free:      make([]uint32, 0, opts.NumFrames),
	}
	// Hand out low frames first (pop from the end).
	for i := opts.NumFrames - 1; i >= 0; i-- {
		u.free = append(u.free, uint32(i))
		u.pkts[i].Handle = uint64(i) << u.shift
	}
	u.count[placeFree] = opts.NumFrames
	return u, nil
}

// FrameSize is the size of every frame.
func (u *UMEM) FrameSize() int { return u.frameSize }

// NumFrames is the number of frames.
func (u *UMEM) NumFrames() int { return len(u.pkts) }

// Worker is the ID of the stack worker that owns the UMEM.
func (u *UMEM) Worker() int { return u.worker }

// frame is the memory of frame idx, capacity-limited so nothing writes
// into the next frame.
func (u *UMEM) frame(idx uint32) []byte {
	off := int(idx) << u.shift
	return u.mem[off : off+u.frameSize : off+u.frameSize]
}

// index maps a kernel address to its frame, or reports it out of range.
func (u *UMEM) index(addr uint64) (uint32, bool) {
	idx := addr >> u.shift
	return uint32(idx), idx < uint64(len(u.pkts))
}

func (u *UMEM) move(idx uint32, place, slot int) {
	u.count[u.place[idx]>>8]--
	u.place[idx] = uint16(place<<8 | slot)
	u.count[place]++
}

// take pops a free frame and marks it as in the stack.
func (u *UMEM) take() (uint32, bool) {
	n := len(u.free)
	if n == 0 {
		return 0, false
	}
	idx := u.free[n-1]
	u.free = u.free[:n-1]
	u.move(idx, placeStack, 0)
	return idx, true
}

// put returns a frame to the free list.
func (u *UMEM) put(idx uint32) {
	u.move(idx, placeFree, 0)
	u.free = append(u.free, idx)
}

// ReleaseFrame implements stack.FrameOwner: a frame the stack is done with
// goes back to the free list, from which the next Poll refills the fill
// rings. A frame WritePackets already put on a TX ring stays there.
func (u *UMEM) ReleaseFrame(pkt *stack.PacketBuffer) {
	idx := uint32(pkt.Handle >> u.shift)
	switch u.place[idx] >> 8 {
	case placeTX:
		// Moved to a TX ring without a copy; completion frees it.
	case placeStack:
		u.put(idx)
	default:
		u.unexpected++
	}
}

// Accounting says where a UMEM's frames are. Free+Fill+Stack+TX is always
// NumFrames; the ring fields break Fill and TX down by what the rings hold
// right now (the rest is inside the kernel).
type Accounting struct {
	NumFrames int
	// Free frames are on the UMEM's free list.
	Free int
	// Fill frames are lent to the kernel for RX: on a fill ring, held by
	// the kernel, or received on an RX ring and not yet polled.
	Fill int
	// Stack frames are PacketBuffers held by the stack.
	Stack int
	// TX frames are lent to the kernel for TX: on a TX ring, being sent,
	// or on a completion ring and not yet reaped.
	TX int
	// FillRing, RXRing, TXRing and CompletionRing are the descriptors on
	// those rings, summed over the UMEM's sockets; informational, since the
	// kernel publishes its consumer indices lazily (a frame it has taken
	// may still count on the fill or TX ring).
	FillRing, RXRing, TXRing, CompletionRing int
	// Unexpected counts addresses the kernel returned that were not lent
	// to it (or were returned twice); they were ignored. Should be zero.
	Unexpected uint64
}

// Sum is Free+Fill+Stack+TX, which must equal NumFrames.
func (a Accounting) Sum() int { return a.Free + a.Fill + a.Stack + a.TX }

// Accounting reports where the frames are. Call it on the owning worker
// (or while the worker is stopped): the bookkeeping is not synchronized.
func (u *UMEM) Accounting() Accounting {
	a := Accounting{
		NumFrames:  len(u.pkts),
		Free:       u.count[placeFree],
		Fill:       u.count[placeFill],
		Stack:      u.count[placeStack],
		TX:         u.count[placeTX],
		Unexpected: u.unexpected,
	}
	for _, s := range u.sockets {
		if s == nil {
			continue
		}
		a.FillRing += int(s.fill.occupancy())
		a.RXRing += int(s.rx.occupancy())
		a.TXRing += int(s.tx.occupancy())
		a.CompletionRing += int(s.comp.occupancy())
	}
	return a
}

// Check walks every frame and verifies the bookkeeping: each frame in
// exactly one place, the free list without duplicates, the stack's frames
// marked in use and no others, and no address handed back by the kernel
// that was not lent to it. It does not compare the books with ring
// occupancy: the kernel publishes its fill and TX consumer indices lazily,
// so a frame can show on a fill ring and an RX ring at once. Call it like
// Accounting.
func (u *UMEM) Check() error {
	var errs []error
	var count [numPlaces]int
	for i := range u.place {
		p := int(u.place[i] >> 8)
		if p >= numPlaces {
			errs = append(errs, fmt.Errorf("frame %d in unknown place %d", i, p))
			continue
		}
		count[p]++
		if inUse := u.pkts[i].InUse(); inUse != (p == placeStack) {
			errs = append(errs, fmt.Errorf("frame %d in place %d but PacketBuffer in use = %v", i, p, inUse))
		}
	}
	if count != u.count {
		errs = append(errs, fmt.Errorf("per-place counts %v, walk found %v", u.count, count))
	}
	seen := make([]bool, len(u.pkts))
	for _, idx := range u.free {
		if seen[idx] {
			errs = append(errs, fmt.Errorf("frame %d twice on the free list", idx))
		}
		seen[idx] = true
		if u.place[idx]>>8 != placeFree {
			errs = append(errs, fmt.Errorf("frame %d on the free list but in place %d", idx, u.place[idx]>>8))
		}
	}
	if len(u.free) != count[placeFree] {
		errs = append(errs, fmt.Errorf("free list has %d frames, %d marked free", len(u.free), count[placeFree]))
	}
	if u.unexpected != 0 {
		errs = append(errs, fmt.Errorf("%d unexpected addresses from the kernel", u.unexpected))
	}
	return errors.Join(errs...)
}

// addSocket gives s a slot.
func (u *UMEM) addSocket(s *xsk) error {
	for i, o := range u.sockets {
		if o == nil {
			u.sockets[i] = s
			s.slot = i
			return nil
		}
	}
	if len(u.sockets) >= maxSockets {
		return fmt.Errorf("afxdp: UMEM of worker %d already serves %d sockets", u.worker, maxSockets)
	}
	s.slot = len(u.sockets)
	u.sockets = append(u.sockets, s)
	return nil
}

// removeSocket takes back every frame lent to a socket that is closed:
// the kernel can no longer touch them.
func (u *UMEM) removeSocket(s *xsk) {
	for i := range u.place {
		p := u.place[i]
		if int(p&0xff) == s.slot && (p>>8 == placeFill || p>>8 == placeTX) {
			u.put(uint32(i))
		}
	}
	u.sockets[s.slot] = nil
}

// shareFD is the descriptor of a bound socket that already uses the UMEM,
// for XDP_SHARED_UMEM, or -1 when there is none and the UMEM must be
// registered.
func (u *UMEM) shareFD() int {
	for _, s := range u.sockets {
		if s != nil && s.bound {
			return s.fd
		}
	}
	return -1
}

// Close unmaps the memory. Every endpoint using the UMEM must be closed and
// every frame released first.
func (u *UMEM) Close() error {
	for _, s := range u.sockets {
		if s != nil {
			return fmt.Errorf("afxdp: UMEM of worker %d still used by a socket on ifindex %d queue %d", u.worker, s.ifindex, s.queue)
		}
	}
	if n := u.count[placeStack]; n != 0 {
		return fmt.Errorf("afxdp: UMEM of worker %d: %d frames still held by the stack", u.worker, n)
	}
	if u.mem != nil {
		err := unix.Munmap(u.mem)
		u.mem = nil
		return err
	}
	return nil
}
