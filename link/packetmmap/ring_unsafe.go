//go:build linux

package packetmmap

import (
	"sync/atomic"
	"unsafe"
)

// Ring frames begin with a struct tpacket2_hdr whose first word, tp_status,
// is shared with the kernel: it hands a frame over by flipping the status,
// so both sides must access that word atomically
// (Documentation/networking/packet_mmap.rst). The rest of the header is
// written by one side before the status flips and read by the other after,
// so plain loads and stores are enough there.

// loadStatus reads tp_status of the frame starting at b[0].
func loadStatus(b []byte) uint32 {
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&b[0])))
}

// storeStatus writes tp_status of the frame starting at b[0], publishing the
// frame to the kernel (TX: SEND_REQUEST; RX: back to KERNEL).
func storeStatus(b []byte, v uint32) {
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&b[0])), v)
}
