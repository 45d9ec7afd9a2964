package memlink

import "github.com/nexthop-router/nexthop/stack"

// Ring is a fixed set of frames handed out and taken back like a real link's
// RX ring or UMEM: a plain free list, no locking and no sync.Pool, so a
// benchmark that feeds the stack from it measures the router rather than
// the allocator. One goroutine owns it.
type Ring struct {
	free []*stack.PacketBuffer
	bufs [][]byte
}

// NewRing makes n frames of frameSize bytes.
func NewRing(n, frameSize int) *Ring {
	r := &Ring{}
	for i := range n {
		pkt := &stack.PacketBuffer{Handle: uint64(i)}
		r.bufs = append(r.bufs, make([]byte, frameSize))
		r.free = append(r.free, pkt)
	}
	return r
}

// Get takes a frame with empty data after stack.DefaultHeadroom, or nil
// when every frame is out.
func (r *Ring) Get() *stack.PacketBuffer {
	if len(r.free) == 0 {
		return nil
	}
	pkt := r.free[len(r.free)-1]
	r.free = r.free[:len(r.free)-1]
	pkt.InitFrame(r, r.bufs[pkt.Handle], stack.DefaultHeadroom, stack.DefaultHeadroom)
	return pkt
}

// Outstanding is the number of frames lent out and not yet released.
func (r *Ring) Outstanding() int64 { return int64(len(r.bufs) - len(r.free)) }

// Free is the number of frames not lent out.
func (r *Ring) Free() int { return len(r.free) }

// ReleaseFrame implements stack.FrameOwner.
func (r *Ring) ReleaseFrame(pkt *stack.PacketBuffer) { r.free = append(r.free, pkt) }
