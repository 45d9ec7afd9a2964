//go:build linux

package packetmmap

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// sendmsg sends the socket's virtio_net_hdr followed by data, without
// blocking. data is a frame of a ring (mmap'd, not Go memory) or of the
// Go heap; either way it stays put for the call.
func (s *superSocket) sendmsg(data []byte) error {
	s.iov[1].Base = &data[0]
	s.iov[1].SetLen(len(data))
	_, _, errno := unix.Syscall(unix.SYS_SENDMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&s.msg)), unix.MSG_DONTWAIT)
	if errno != 0 {
		return errno
	}
	return nil
}
