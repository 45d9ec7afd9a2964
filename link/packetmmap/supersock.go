//go:build linux

package packetmmap

import (
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/stack"
)

// superSocket is one writer's socket for the super-packets that do not go to
// the TX ring (offload.go): those the device cannot segment, and on a veth
// every one. It sends each with sendmsg through the qdisc layer, where
// validate_xmit_skb hands it whole to a device with the offload or
// segments it in software (PACKET_QDISC_BYPASS would go straight to the
// driver, and __dev_direct_xmit drops what it segmented), and it carries
// TXMark so that the TCX egress program lets it pass. A sendmsg copies the
// frame once, into the skb's pages, which the segments then share; the
// ring would cost a copy into the ring and another when skb_segment or a
// veth copies the ring's zero-copy pages. Only the worker whose ID it
// belongs to uses it.
type superSocket struct {
	fd  int
	hdr [vnetHdrLen]byte
	iov [2]unix.Iovec
	msg unix.Msghdr
	// queued says frames went out since the socket was last seen with
	// nothing in flight (see busy).
	queued bool

	packets, bytes, full, errors, kernelGSO atomic.Uint64
}

// superSndBuf is asked for as the socket's send buffer; the kernel doubles
// it, to 4 MiB: about 60 super-packets of 64 KiB in a qdisc or a driver's
// ring before sendmsg says EAGAIN.
const superSndBuf = 2 << 20

func newSuperSocket(e *Endpoint) (s *superSocket, err error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, socketError(err)
	}
	s = &superSocket{fd: fd}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if err := setIntOpt(fd, unix.PACKET_VNET_HDR, 1, "PACKET_VNET_HDR"); err != nil {
		return nil, err
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, TXMark); err != nil {
		return nil, fmt.Errorf("setsockopt SO_MARK: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, superSndBuf); err != nil {
		return nil, fmt.Errorf("setsockopt SO_SNDBUFFORCE: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: 0, Ifindex: e.ifindex}); err != nil {
		return nil, fmt.Errorf("bind to ifindex %d: %w", e.ifindex, err)
	}
	s.iov[0].Base = &s.hdr[0]
	s.iov[0].SetLen(vnetHdrLen)
	s.msg.Iov = &s.iov[0]
	s.msg.SetIovlen(len(s.iov))
	return s, nil
}

// send hands pkt to the kernel with its virtio_net_hdr and reports whether
// the kernel took it; when not, it counts why.
func (s *superSocket) send(pkt *stack.PacketBuffer) bool {
	data := pkt.Data()
	if len(data) == 0 {
		s.errors.Add(1)
		return false
	}
	encodeVnetHdr(s.hdr[:], &pkt.GSO, len(data), linearMax)
	err := s.sendmsg(data)
	s.iov[1] = unix.Iovec{} // no pointer into a frame the stack is about to release
	switch {
	case err == nil:
		s.queued = true
		return true
	case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.ENOBUFS):
		s.full.Add(1)
	default:
		s.errors.Add(1)
	}
	return false
}

// busy reports whether frames sent earlier may still wait in a qdisc or a
// driver's ring (SIOCOUTQ: the socket's send buffer is not yet released).
// It asks the kernel only after frames went out.
func (s *superSocket) busy() bool {
	if !s.queued {
		return false
	}
	n, err := unix.IoctlGetInt(s.fd, unix.SIOCOUTQ)
	if err == nil && n == 0 {
		s.queued = false
	}
	return s.queued
}

// addStats adds the socket's counters to s.
func (s *superSocket) addStats(st *Stats) {
	st.TXPackets += s.packets.Load()
	st.TXBytes += s.bytes.Load()
	st.TXRingFull += s.full.Load()
	st.TXErrors += s.errors.Load()
	st.TXKernelGSO += s.kernelGSO.Load()
}

func (s *superSocket) close() {
	if s.fd >= 0 {
		_ = unix.Close(s.fd)
		s.fd = -1
	}
}
