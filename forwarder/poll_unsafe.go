//go:build linux

package forwarder

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// idleWait sleeps in poll(2) until a queue has frames or timeout (ms)
// passes.
//
// Why a raw system call: a worker is locked to its OS thread. Through the
// ordinary syscall path, a poll that blocks longer than 20 µs loses its P
// to sysmon, and when a frame wakes it the locked goroutine must get a P
// handed back through another thread: two more context switches, measured
// here as about 50 µs more round-trip time through the router at low
// rates. RawSyscall keeps the P, so a woken worker runs at once. The cost
// is one P per worker, which Run provides by raising GOMAXPROCS, and the
// runtime still preempts the worker: its preemption signal interrupts the
// poll with EINTR.
//
// A socket whose link went down or away reports POLLERR until its error is
// read; reading SO_ERROR clears it, or the worker would spin.
func idleWait(fds []unix.PollFd, timeout int) {
	if len(fds) == 0 {
		return
	}
	r1, _, errno := unix.RawSyscall(unix.SYS_POLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(timeout))
	if errno != 0 || r1 == 0 {
		return
	}
	for i := range fds {
		if fds[i].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
			_, _ = unix.GetsockoptInt(int(fds[i].Fd), unix.SOL_SOCKET, unix.SO_ERROR)
		}
		fds[i].Revents = 0
	}
}
