//go:build linux

package traffic

// This file holds the only code of the package that needs unsafe: pointers
// into the sendmmsg(2) message vector, and atomic access to the tp_status /
// block_status words that the kernel updates concurrently in the RX ring.

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgBatch is a sendmmsg vector over preallocated frames. The frames and
// the address live on the Go heap, which does not move, and the batch keeps
// them reachable for as long as the kernel may read them (during the call).
type mmsgBatch struct {
	hdrs   []unix.Mmsghdr
	iovs   []unix.Iovec
	frames [][]byte
	addr   *unix.RawSockaddrLinklayer
}

func newMmsgBatch(n, frameLen int, addr *unix.RawSockaddrLinklayer) *mmsgBatch {
	b := &mmsgBatch{
		hdrs:   make([]unix.Mmsghdr, n),
		iovs:   make([]unix.Iovec, n),
		frames: make([][]byte, n),
		addr:   addr,
	}
	for i := range n {
		b.frames[i] = make([]byte, frameLen)
		b.iovs[i].Base = &b.frames[i][0]
		b.iovs[i].SetLen(frameLen)
		h := &b.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(addr))
		h.Namelen = unix.SizeofSockaddrLinklayer
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
	}
	return b
}

// send passes hdrs[from:to] to sendmmsg(2) without blocking and returns how
// many frames the kernel accepted, or the errno of the first failure.
func (b *mmsgBatch) send(fd, from, to int) (int, unix.Errno) {
	r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd),
		uintptr(unsafe.Pointer(&b.hdrs[from])), uintptr(to-from), unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

// loadU32 atomically reads the native-endian 32-bit word at b[0:4], which
// must be 4-byte aligned (ring status words are).
func loadU32(b []byte) uint32 {
	_ = b[3]
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&b[0])))
}

// storeU32 atomically writes the native-endian 32-bit word at b[0:4].
func storeU32(b []byte, v uint32) {
	_ = b[3]
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&b[0])), v)
}
