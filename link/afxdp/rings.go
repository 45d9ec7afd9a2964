//go:build linux

package afxdp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// ring is one single-producer/single-consumer AF_XDP ring shared with the
// kernel. Its size is a power of two, so a free-running uint32 index maps
// to a slot with index&mask and wraps around for free. One side of each
// ring is ours; the other index is the kernel's, and we read it only when
// the cached copy says we have run out (gVisor pkg/xdp does the same: the
// atomic load is the expensive part, not the arithmetic).
type ring struct {
	mem   []byte
	words ringWords
	mask  uint32
	size  uint32
	// cachedProd and cachedCons are our copies of the indices: on a ring we
	// produce to, cachedProd is ours and cachedCons the kernel's last seen;
	// on a ring we consume, the other way round.
	cachedProd uint32
	cachedCons uint32

	descs []unix.XDPDesc // RX and TX rings
	addrs []uint64       // fill and completion rings
}

// mapRing mmaps a ring of n entries of the socket at page offset pgoff.
func mapRing(fd int, off unix.XDPRingOffset, pgoff int64, n int, desc bool, name string) (*ring, error) {
	entry := sizeofAddr
	if desc {
		entry = sizeofDesc
	}
	size := int(off.Desc) + n*int(entry)
	mem, err := unix.Mmap(fd, pgoff, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mmap %s ring (%d entries): %w", name, n, err)
	}
	r := &ring{mem: mem, words: mapWords(mem, off), mask: uint32(n - 1), size: uint32(n)}
	if desc {
		r.descs = descSlice(mem, off.Desc, n)
	} else {
		r.addrs = addrSlice(mem, off.Desc, n)
	}
	r.cachedProd = r.words.loadProducer()
	r.cachedCons = r.words.loadConsumer()
	return r, nil
}

func (r *ring) unmap() {
	if r != nil && r.mem != nil {
		_ = unix.Munmap(r.mem)
		r.mem, r.descs, r.addrs = nil, nil, nil
	}
}

// Producer side (fill, TX).

// free is how many entries can be produced, reading the kernel's consumer
// index only when the cached one does not show at least want free slots.
func (r *ring) free(want uint32) uint32 {
	n := r.cachedCons + r.size - r.cachedProd
	if n >= want {
		return n
	}
	r.cachedCons = r.words.loadConsumer()
	return r.cachedCons + r.size - r.cachedProd
}

// submit publishes every entry written since the last submit.
func (r *ring) submit() { r.words.storeProducer(r.cachedProd) }

// pending is how many produced entries the kernel has not consumed yet.
func (r *ring) pending() uint32 {
	r.cachedCons = r.words.loadConsumer()
	return r.cachedProd - r.cachedCons
}

// Consumer side (RX, completion).

// available is how many entries can be consumed, reading the kernel's
// producer index only when the cached one shows none.
func (r *ring) available() uint32 {
	n := r.cachedProd - r.cachedCons
	if n > 0 {
		return n
	}
	r.cachedProd = r.words.loadProducer()
	return r.cachedProd - r.cachedCons
}

// release hands consumed entries back to the kernel.
func (r *ring) release() { r.words.storeConsumer(r.cachedCons) }

// occupancy is how many entries are on the ring right now (for accounting
// and tests, not the fast path).
func (r *ring) occupancy() uint32 {
	if r == nil || r.mem == nil {
		return 0
	}
	return r.words.loadProducer() - r.words.loadConsumer()
}

func (r *ring) needWakeup() bool { return r.words.loadFlags()&unix.XDP_RING_NEED_WAKEUP != 0 }
