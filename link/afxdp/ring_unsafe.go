//go:build linux

package afxdp

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Why unsafe: an AF_XDP ring is memory shared with the kernel. Its producer
// and consumer indices and its flags word sit at offsets the kernel reports
// (XDP_MMAP_OFFSETS) inside the mmap, and each side publishes descriptors by
// storing its index, so those words must be read and written atomically
// through pointers into the mapping; the descriptor arrays are read as typed
// slices over the same memory rather than decoded byte by byte per packet.
// The UMEM's address has to be passed to the kernel (XDP_UMEM_REG), and
// x/sys/unix has no wrappers for the XDP socket options taking structs.
// Everything else in the package stays in safe Go.

// ringWords points at the shared words of one mapped ring.
type ringWords struct {
	producer *uint32
	consumer *uint32
	flags    *uint32
}

func mapWords(mem []byte, off unix.XDPRingOffset) ringWords {
	base := unsafe.Pointer(&mem[0])
	return ringWords{
		producer: (*uint32)(unsafe.Add(base, off.Producer)),
		consumer: (*uint32)(unsafe.Add(base, off.Consumer)),
		flags:    (*uint32)(unsafe.Add(base, off.Flags)),
	}
}

func (w ringWords) loadProducer() uint32   { return atomic.LoadUint32(w.producer) }
func (w ringWords) loadConsumer() uint32   { return atomic.LoadUint32(w.consumer) }
func (w ringWords) storeProducer(v uint32) { atomic.StoreUint32(w.producer, v) }
func (w ringWords) storeConsumer(v uint32) { atomic.StoreUint32(w.consumer, v) }
func (w ringWords) loadFlags() uint32      { return atomic.LoadUint32(w.flags) }

// descSlice views n struct xdp_desc at offset off of mem (RX and TX rings).
func descSlice(mem []byte, off uint64, n int) []unix.XDPDesc {
	return unsafe.Slice((*unix.XDPDesc)(unsafe.Pointer(&mem[off])), n)
}

// addrSlice views n u64 addresses at offset off of mem (fill and
// completion rings).
func addrSlice(mem []byte, off uint64, n int) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(&mem[off])), n)
}

const (
	sizeofDesc = unsafe.Sizeof(unix.XDPDesc{})
	sizeofAddr = unsafe.Sizeof(uint64(0))
)

// registerUMEM passes the UMEM area to the kernel (XDP_UMEM_REG).
func registerUMEM(fd int, mem []byte, frameSize int) error {
	reg := unix.XDPUmemReg{
		Addr: uint64(uintptr(unsafe.Pointer(&mem[0]))),
		Len:  uint64(len(mem)),
		Size: uint32(frameSize),
	}
	return setsockopt(fd, unix.XDP_UMEM_REG, unsafe.Pointer(&reg), unsafe.Sizeof(reg))
}

func setsockopt(fd, opt int, p unsafe.Pointer, n uintptr) error {
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_XDP, uintptr(opt), uintptr(p), n, 0)
	if e != 0 {
		return e
	}
	return nil
}

func getsockopt(fd, opt int, p unsafe.Pointer, n uintptr) error {
	l := uint32(n)
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_XDP, uintptr(opt), uintptr(p), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return e
	}
	return nil
}

// mmapOffsets reads where each ring's words and descriptors start.
func mmapOffsets(fd int) (unix.XDPMmapOffsets, error) {
	var off unix.XDPMmapOffsets
	err := getsockopt(fd, unix.XDP_MMAP_OFFSETS, unsafe.Pointer(&off), unsafe.Sizeof(off))
	return off, err
}

// xdpStatistics reads the socket's XDP_STATISTICS (cumulative counters).
func xdpStatistics(fd int) (unix.XDPStatistics, error) {
	var st unix.XDPStatistics
	err := getsockopt(fd, unix.XDP_STATISTICS, unsafe.Pointer(&st), unsafe.Sizeof(st))
	return st, err
}
