//go:build linux

package afxdp

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/stack"
)

const ethHdrLen = 14

// KernelStats are a socket's XDP_STATISTICS: what the kernel dropped or
// refused, which user-space counters cannot see.
type KernelStats struct {
	// RXDropped frames were dropped for lack of space or being too big for
	// a frame.
	RXDropped uint64
	// RXInvalidDescs and TXInvalidDescs are descriptors the kernel
	// rejected (bad address or length): a bug on our side.
	RXInvalidDescs, TXInvalidDescs uint64
	// RXRingFull frames were dropped because the RX ring was full (the
	// worker polls too slowly).
	RXRingFull uint64
	// RXFillRingEmptyDescs counts times the kernel found the fill ring
	// empty (frames all in use elsewhere).
	RXFillRingEmptyDescs uint64
	// TXRingEmptyDescs counts times the kernel looked for TX work and found
	// none.
	TXRingEmptyDescs uint64
}

// Stats are the counters of one queue's socket (or their sum).
type Stats struct {
	RXPackets, RXBytes uint64
	// RXBadDescs are RX descriptors whose address was not lent to the
	// kernel; they were skipped.
	RXBadDescs         uint64
	TXPackets, TXBytes uint64
	// TXMoved frames went from an RX ring to this TX ring without a copy;
	// TXCopied frames (locally made, or from another UMEM) were copied in.
	TXMoved, TXCopied uint64
	// TXRingFull frames found no TX descriptor free and were dropped.
	TXRingFull uint64
	// TXNoFrame frames to copy in found no free UMEM frame and were dropped.
	TXNoFrame uint64
	// TXTooBig frames exceeded the MTU or a frame and were dropped.
	TXTooBig uint64
	// TXErrors are failed kicks (sendto errors other than EAGAIN/EBUSY).
	TXErrors uint64
	// TXKicks are sendto calls made to start TX.
	TXKicks uint64
	// Kernel is the socket's XDP_STATISTICS.
	Kernel KernelStats
}

func (s *Stats) add(o Stats) {
	s.RXPackets += o.RXPackets
	s.RXBytes += o.RXBytes
	s.RXBadDescs += o.RXBadDescs
	s.TXPackets += o.TXPackets
	s.TXBytes += o.TXBytes
	s.TXMoved += o.TXMoved
	s.TXCopied += o.TXCopied
	s.TXRingFull += o.TXRingFull
	s.TXNoFrame += o.TXNoFrame
	s.TXTooBig += o.TXTooBig
	s.TXErrors += o.TXErrors
	s.TXKicks += o.TXKicks
	s.Kernel.RXDropped += o.Kernel.RXDropped
	s.Kernel.RXInvalidDescs += o.Kernel.RXInvalidDescs
	s.Kernel.TXInvalidDescs += o.Kernel.TXInvalidDescs
	s.Kernel.RXRingFull += o.Kernel.RXRingFull
	s.Kernel.RXFillRingEmptyDescs += o.Kernel.RXFillRingEmptyDescs
	s.Kernel.TXRingEmptyDescs += o.Kernel.TXRingEmptyDescs
}

// SlowPathStats count frames written by workers without a socket on the
// interface (the control worker, or a worker whose queue index the
// interface lacks): they go out through an AF_PACKET socket, copied.
type SlowPathStats struct {
	TXPackets, TXBytes uint64
	// TXErrors are sendto failures; the frame was dropped.
	TXErrors uint64
}

// Endpoint is an AF_XDP link on one interface: one socket per RX queue,
// each sharing its worker's UMEM, and an XDP program steering every served
// queue to its socket. It implements stack.LinkEndpoint and
// stack.QueuePoller.
type Endpoint struct {
	name    string
	ifindex int
	addr    stack.LinkAddress
	mtu     atomic.Uint32

	socks []*xsk
	// writer maps a stack worker ID to its socket index, -1 for none.
	writer [stack.MaxWorkers]int16

	steer *steering
	slow  *slowPath

	dispatcher stack.DispatcherRef
	closeOnce  sync.Once
}

var (
	_ stack.LinkEndpoint = (*Endpoint)(nil)
	_ stack.QueuePoller  = (*Endpoint)(nil)
)

// New opens an AF_XDP socket on each of the interface's first Queues RX
// queues, sharing UMEMs[q] for queue q, and attaches the XDP program that
// redirects those queues to them. It needs CAP_NET_RAW, CAP_NET_ADMIN and
// CAP_BPF, and must run in the interface's network namespace.
func New(opts Options) (*Endpoint, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	ifc, err := net.InterfaceByName(opts.Interface)
	if err != nil {
		return nil, fmt.Errorf("afxdp: interface %q not found: %w", opts.Interface, err)
	}
	if len(ifc.HardwareAddr) != 6 {
		return nil, fmt.Errorf("afxdp: interface %q is not Ethernet (link address %v)", opts.Interface, ifc.HardwareAddr)
	}
	for q, u := range opts.UMEMs {
		if u.mem == nil {
			return nil, fmt.Errorf("%w: UMEMs[%d] is closed", ErrOptions, q)
		}
		if need := txHeadroom + ifc.MTU + ethHdrLen; need > u.frameSize {
			return nil, fmt.Errorf("%w: UMEMs[%d] FrameSize %d too small for MTU %d of %q (needs %d with the kernel's %d-byte headroom)", ErrOptions, q, u.frameSize, ifc.MTU, opts.Interface, need, txHeadroom)
		}
	}
	e := &Endpoint{name: opts.Interface, ifindex: ifc.Index}
	copy(e.addr[:], ifc.HardwareAddr)
	e.mtu.Store(uint32(ifc.MTU))
	for i := range e.writer {
		e.writer[i] = -1
	}
	fail := func(err error) (*Endpoint, error) {
		e.Close()
		return nil, err
	}
	for q, u := range opts.UMEMs {
		s, err := newXSK(ifc.Index, q, u, &opts)
		if err != nil {
			return fail(fmt.Errorf("afxdp: %q queue %d: %w", opts.Interface, q, err))
		}
		e.socks = append(e.socks, s)
		e.writer[u.worker] = int16(q)
	}
	if e.slow, err = newSlowPath(ifc.Index); err != nil {
		return fail(fmt.Errorf("afxdp: %q: %w", opts.Interface, err))
	}
	if e.steer, err = newSteering(opts.Queues); err != nil {
		return fail(fmt.Errorf("afxdp: %q: %w", opts.Interface, err))
	}
	for q, s := range e.socks {
		if err := e.steer.xsks.Put(uint32(q), uint32(s.fd)); err != nil {
			return fail(fmt.Errorf("afxdp: %q: XSKMAP[%d] = socket: %w", opts.Interface, q, err))
		}
	}
	if err := e.steer.attach(ifc.Index, opts.Interface, opts.Mode); err != nil {
		return fail(fmt.Errorf("afxdp: %w", err))
	}
	return e, nil
}

// Name is the interface name.
func (e *Endpoint) Name() string { return e.name }

// Ifindex is the interface index.
func (e *Endpoint) Ifindex() int { return e.ifindex }

// Mode is the XDP attach mode in use (driver or generic), and Why says
// how it was chosen (e.g. the driver-mode error that forced generic), for
// the forwarder's log.
func (e *Endpoint) Mode() (mode Mode, why string) { return e.steer.mode, e.steer.why }

// ZeroCopy reports whether queue q's socket is bound in zero-copy mode
// (the driver DMAs into the UMEM) rather than copy mode.
func (e *Endpoint) ZeroCopy(q int) bool { return e.socks[q].zeroCopy }

// MTU implements stack.LinkEndpoint.
func (e *Endpoint) MTU() uint32 { return e.mtu.Load() }

// SetMTU follows an MTU change of the interface (the forwarder watches
// netlink for it). Frames longer than the UMEM frame are still refused.
func (e *Endpoint) SetMTU(mtu uint32) { e.mtu.Store(mtu) }

// MaxHeaderLength implements stack.LinkEndpoint.
func (e *Endpoint) MaxHeaderLength() uint16 { return ethHdrLen }

// LinkAddress implements stack.LinkEndpoint.
func (e *Endpoint) LinkAddress() stack.LinkAddress { return e.addr }

// Capabilities implements stack.LinkEndpoint. AF_XDP carries no metadata:
// it cannot tell a frame whose checksum the sender left unfinished, nor
// take super-packets, so the stack completes checksums and segments.
func (e *Endpoint) Capabilities() stack.LinkEndpointCapabilities {
	return stack.CapabilityResolutionRequired
}

// Attach implements stack.LinkEndpoint.
func (e *Endpoint) Attach(d stack.NetworkDispatcher) { e.dispatcher.Store(d) }

// IsAttached implements stack.LinkEndpoint.
func (e *Endpoint) IsAttached() bool { return e.dispatcher.Load() != nil }

// NumRXQueues implements stack.QueuePoller.
func (e *Endpoint) NumRXQueues() int { return len(e.socks) }

// RXFD is the socket of RX queue q, for a worker's poll(2) set while it is
// idle (POLLIN when the RX ring has frames).
func (e *Endpoint) RXFD(q int) int { return e.socks[q].fd }

// Poll implements stack.QueuePoller: it reaps TX completions, refills the
// fill ring, and delivers up to one batch of frames from RX queue q in
// place. w must be the worker owning UMEMs[q].
func (e *Endpoint) Poll(w *stack.Worker, q int) int {
	d := e.dispatcher.Load()
	if d == nil {
		return 0
	}
	return e.socks[q].poll(w, d)
}

// WritePackets implements stack.LinkEndpoint. A writer with a socket here
// (pkts.Queue is the Worker of one of the UMEMs) puts the batch on that
// socket's TX ring: frames of its UMEM move without a copy, others are
// copied into free UMEM frames; one kick per batch. Other writers (the
// control worker) go through the copying slow path.
func (e *Endpoint) WritePackets(pkts stack.PacketBufferList) (int, error) {
	maxLen := int(e.mtu.Load()) + ethHdrLen
	if pkts.Queue >= 0 && pkts.Queue < len(e.writer) {
		if q := e.writer[pkts.Queue]; q >= 0 {
			s := e.socks[q]
			if err := s.txErr(); err != nil {
				pkts.Release()
				return 0, err
			}
			return s.write(pkts.AsSlice(), maxLen), nil
		}
	}
	return e.slow.write(pkts.AsSlice(), maxLen)
}

// Wait implements stack.LinkEndpoint; the endpoint has no goroutines.
func (e *Endpoint) Wait() {}

// Close detaches the XDP program (the interface goes back to the kernel),
// closes the sockets and takes every frame lent to them back into their
// UMEMs. Frames held by the stack stay valid until released; the UMEMs
// outlive the endpoint. It must not run while a worker polls it.
func (e *Endpoint) Close() {
	e.closeOnce.Do(func() {
		if e.steer != nil {
			e.steer.close()
		}
		for _, s := range e.socks {
			s.unmapAndClose()
			s.umem.removeSocket(s)
		}
		if e.slow != nil {
			e.slow.close()
		}
	})
}

// QueueStats are the counters of queue q's socket, XDP_STATISTICS
// included. Safe to call from any goroutine.
func (e *Endpoint) QueueStats(q int) Stats { return e.socks[q].stats() }

// SlowPathStats are the counters of frames written by workers without a
// socket on this interface.
func (e *Endpoint) SlowPathStats() SlowPathStats {
	return SlowPathStats{
		TXPackets: e.slow.packets.Load(),
		TXBytes:   e.slow.bytes.Load(),
		TXErrors:  e.slow.errors.Load(),
	}
}

// Stats sums every queue's counters; the slow path's TX is included in
// TXPackets/TXBytes/TXErrors.
func (e *Endpoint) Stats() Stats {
	var st Stats
	for _, s := range e.socks {
		st.add(s.stats())
	}
	sp := e.SlowPathStats()
	st.TXPackets += sp.TXPackets
	st.TXBytes += sp.TXBytes
	st.TXErrors += sp.TXErrors
	return st
}

// txErr refuses writes on a closed socket.
func (s *xsk) txErr() error {
	if s.fd < 0 {
		return errors.New("afxdp: write on a closed endpoint")
	}
	return nil
}

// slowPath sends frames of writers that have no AF_XDP socket on the
// interface. An AF_PACKET socket may be used by several goroutines at
// once, so no ring is shared; it copies, but carries control traffic
// (ARP, ICMP errors) or the traffic of interfaces with fewer queues than
// workers.
type slowPath struct {
	fd                     int
	packets, bytes, errors atomic.Uint64
}

func newSlowPath(ifindex int) (*slowPath, error) {
	// Protocol 0: the socket receives nothing.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("AF_PACKET socket for the slow path: %w", err)
	}
	// Straight to the driver, like AF_XDP TX: past the qdisc and a TCX
	// egress program that silences the kernel on owned ports.
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("setsockopt PACKET_QDISC_BYPASS: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifindex}); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("bind slow-path socket to ifindex %d: %w", ifindex, err)
	}
	return &slowPath{fd: fd}, nil
}

func (p *slowPath) write(pkts []*stack.PacketBuffer, maxLen int) (int, error) {
	sent := 0
	var firstErr error
	for _, pkt := range pkts {
		if pkt.Len() <= maxLen {
			if err := unix.Sendto(p.fd, pkt.Data(), unix.MSG_DONTWAIT, nil); err != nil {
				p.errors.Add(1)
				if firstErr == nil {
					firstErr = fmt.Errorf("afxdp: slow-path send: %w", err)
				}
			} else {
				sent++
				p.bytes.Add(uint64(pkt.Len()))
			}
		}
		pkt.Release()
	}
	p.packets.Add(uint64(sent))
	return sent, firstErr
}

func (p *slowPath) close() {
	if p.fd >= 0 {
		_ = unix.Close(p.fd)
		p.fd = -1
	}
}
