//go:build linux

package afxdp

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/stack"
)

// maxKicks bounds the sendto calls one TX batch makes: copy mode sends at
// most a budget of frames per call (32 unless XDP_MAX_TX_SKB_BUDGET raised
// it) and answers EAGAIN while more are left.
const maxKicks = 8

// xsk is one AF_XDP socket: queue `queue` of one interface, its four
// rings, and the UMEM it shares with its worker's other sockets. Only the
// UMEM's worker touches the rings.
type xsk struct {
	fd      int
	ifindex int
	queue   int
	umem    *UMEM
	slot    int
	bound   bool
	// bindRetries counts binds refused with EBUSY before success.
	bindRetries int
	// zeroCopy: bound with XDP_ZEROCOPY (the driver DMAs into the UMEM).
	zeroCopy bool

	fill, comp, rx, tx *ring

	batch stack.PacketBufferList

	rxPackets, rxBytes                atomic.Uint64
	txPackets, txBytes                atomic.Uint64
	txMoved, txCopied                 atomic.Uint64
	txRingFull, txNoFrame, txTooBig   atomic.Uint64
	txErrors, rxBadDescs, fillWakeups atomic.Uint64
	txKicks                           atomic.Uint64
	statsMu                           sync.Mutex // closes against Stats
	closed                            bool
}

// newXSK opens, sets up and binds the socket of (ifindex, queue).
func newXSK(ifindex, queue int, u *UMEM, o *Options) (s *xsk, err error) {
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("AF_XDP socket: %w (needs CAP_NET_RAW)", err)
		}
		return nil, fmt.Errorf("AF_XDP socket: %w", err)
	}
	s = &xsk{fd: fd, ifindex: ifindex, queue: queue, umem: u, batch: stack.MakePacketBufferList(stack.BatchSize)}
	// The error returns below set s to nil before deferred calls run.
	sock := s
	defer func() {
		if err != nil {
			sock.unmapAndClose()
		}
	}()
	share := u.shareFD()
	if share < 0 {
		if err := registerUMEM(fd, u.mem, u.frameSize); err != nil {
			if errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.ENOMEM) {
				return nil, fmt.Errorf("XDP_UMEM_REG of %d bytes: %w (over RLIMIT_MEMLOCK without CAP_IPC_LOCK?)", len(u.mem), err)
			}
			return nil, fmt.Errorf("XDP_UMEM_REG of %d bytes: %w", len(u.mem), err)
		}
	}
	// Every socket gets its own fill and completion rings: a socket on
	// another device or queue than the UMEM's first one has its own
	// buffer pool in the kernel and needs them (set before bind).
	for _, r := range []struct {
		opt  int
		n    int
		name string
	}{
		{unix.XDP_UMEM_FILL_RING, o.FillSize, "XDP_UMEM_FILL_RING"},
		{unix.XDP_UMEM_COMPLETION_RING, o.CompletionSize, "XDP_UMEM_COMPLETION_RING"},
		{unix.XDP_RX_RING, o.RXSize, "XDP_RX_RING"},
		{unix.XDP_TX_RING, o.TXSize, "XDP_TX_RING"},
	} {
		if err := unix.SetsockoptInt(fd, unix.SOL_XDP, r.opt, r.n); err != nil {
			return nil, fmt.Errorf("setsockopt %s %d: %w", r.name, r.n, err)
		}
	}
	off, err := mmapOffsets(fd)
	if err != nil {
		return nil, fmt.Errorf("getsockopt XDP_MMAP_OFFSETS: %w", err)
	}
	if s.fill, err = mapRing(fd, off.Fr, unix.XDP_UMEM_PGOFF_FILL_RING, o.FillSize, false, "fill"); err != nil {
		return nil, err
	}
	if s.comp, err = mapRing(fd, off.Cr, unix.XDP_UMEM_PGOFF_COMPLETION_RING, o.CompletionSize, false, "completion"); err != nil {
		return nil, err
	}
	if s.rx, err = mapRing(fd, off.Rx, unix.XDP_PGOFF_RX_RING, o.RXSize, true, "RX"); err != nil {
		return nil, err
	}
	if s.tx, err = mapRing(fd, off.Tx, unix.XDP_PGOFF_TX_RING, o.TXSize, true, "TX"); err != nil {
		return nil, err
	}
	// Copy mode sends at most 32 frames per sendto unless told otherwise
	// (Linux 6.17+); a batch in one call saves syscalls. Older kernels
	// refuse: harmless, the kick loop copes.
	_ = unix.SetsockoptInt(fd, unix.SOL_XDP, unix.XDP_MAX_TX_SKB_BUDGET, stack.BatchSize)

	if err := s.bind(share, o); err != nil {
		return nil, err
	}
	if err := u.addSocket(s); err != nil {
		return nil, err
	}
	s.refill()
	return s, nil
}

// bind binds the socket, retrying while the queue's previous socket is
// still being torn down (EBUSY for ~30 ms after a close) and falling back
// from zero-copy to copy mode when the driver cannot do it.
func (s *xsk) bind(share int, o *Options) error {
	var flagSets []uint16
	switch {
	case share >= 0:
		// Copy/zero-copy and need_wakeup are inherited from the UMEM's
		// first socket; adding XDP_COPY here gives EINVAL.
		flagSets = []uint16{unix.XDP_SHARED_UMEM}
	case o.ZeroCopy:
		flagSets = []uint16{unix.XDP_ZEROCOPY | unix.XDP_USE_NEED_WAKEUP, unix.XDP_COPY | unix.XDP_USE_NEED_WAKEUP}
	default:
		flagSets = []uint16{unix.XDP_COPY | unix.XDP_USE_NEED_WAKEUP}
	}
	var errs []error
	for _, flags := range flagSets {
		sa := &unix.SockaddrXDP{Flags: flags, Ifindex: uint32(s.ifindex), QueueID: uint32(s.queue)}
		if share >= 0 {
			sa.SharedUmemFD = uint32(share)
		}
		deadline := time.Now().Add(o.BindTimeout)
		var err error
		for {
			err = unix.Bind(s.fd, sa)
			if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
				break
			}
			s.bindRetries++
			time.Sleep(5 * time.Millisecond)
		}
		if err == nil {
			s.bound = true
			if share >= 0 {
				s.zeroCopy = s.umem.zeroCopy()
			} else {
				s.zeroCopy = flags&unix.XDP_ZEROCOPY != 0
			}
			return nil
		}
		errs = append(errs, fmt.Errorf("bind flags %s: %w", bindFlagsString(flags), err))
		if flags&unix.XDP_ZEROCOPY != 0 && (errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL)) {
			continue // copy mode next
		}
		break
	}
	err := errors.Join(errs...)
	switch {
	case errors.Is(err, unix.EBUSY):
		return fmt.Errorf("%w (queue %d already has an AF_XDP socket, still busy after %v)", err, s.queue, o.BindTimeout)
	case errors.Is(err, unix.EINVAL) && share < 0:
		return fmt.Errorf("%w (is queue %d past the interface's last queue?)", err, s.queue)
	}
	return err
}

// zeroCopy reports whether the UMEM's sockets run in zero-copy mode.
func (u *UMEM) zeroCopy() bool {
	for _, s := range u.sockets {
		if s != nil && s.bound {
			return s.zeroCopy
		}
	}
	return false
}

func bindFlagsString(f uint16) string {
	var parts []string
	for _, b := range []struct {
		f    uint16
		name string
	}{{unix.XDP_SHARED_UMEM, "XDP_SHARED_UMEM"}, {unix.XDP_COPY, "XDP_COPY"}, {unix.XDP_ZEROCOPY, "XDP_ZEROCOPY"}, {unix.XDP_USE_NEED_WAKEUP, "XDP_USE_NEED_WAKEUP"}} {
		if f&b.f != 0 {
			parts = append(parts, b.name)
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	s := parts[0]
	for _, p := range parts[1:] {
		s += "|" + p
	}
	return s
}

// reap takes TX completions back to the free list.
func (s *xsk) reap() {
	c := s.comp
	n := c.available()
	if n == 0 {
		return
	}
	u := s.umem
	want := uint16(placeTX<<8 | s.slot)
	for i := uint32(0); i < n; i++ {
		idx, ok := u.index(c.addrs[(c.cachedCons+i)&c.mask])
		if !ok || u.place[idx] != want {
			u.unexpected++
			continue
		}
		u.put(idx)
	}
	c.cachedCons += n
	c.release()
}

// refill lends free frames to the kernel on the fill ring, and wakes the
// driver if it asked to be (need_wakeup; zero-copy drivers only).
func (s *xsk) refill() {
	u := s.umem
	f := s.fill
	n := min(f.free(uint32(len(u.free))), uint32(len(u.free)))
	if n == 0 {
		return
	}
	for i := uint32(0); i < n; i++ {
		idx := u.free[len(u.free)-1]
		u.free = u.free[:len(u.free)-1]
		u.move(idx, placeFill, s.slot)
		f.addrs[(f.cachedProd+i)&f.mask] = uint64(idx) << u.shift
	}
	f.cachedProd += n
	f.submit()
	if f.needWakeup() {
		s.fillWakeups.Add(1)
		_, _, _ = unix.Recvfrom(s.fd, nil, unix.MSG_DONTWAIT)
	}
}

// poll reaps completions, refills, and delivers up to one batch of
// received frames, in place.
func (s *xsk) poll(w *stack.Worker, d stack.NetworkDispatcher) int {
	s.reap()
	s.refill()
	if s.tx.cachedProd != s.tx.cachedCons && s.tx.pending() != 0 {
		// A previous kick left frames on the TX ring (EAGAIN/EBUSY).
		s.kick()
	}
	r := s.rx
	n := min(r.available(), stack.BatchSize)
	if n == 0 {
		return 0
	}
	u := s.umem
	want := uint16(placeFill<<8 | s.slot)
	var bytes uint64
	delivered := 0
	for i := uint32(0); i < n; i++ {
		desc := r.descs[(r.cachedCons+i)&r.mask]
		idx, ok := u.index(desc.Addr)
		base := uint64(idx) << u.shift
		if !ok || u.place[idx] != want || desc.Addr-base+uint64(desc.Len) > uint64(u.frameSize) {
			u.unexpected++
			s.rxBadDescs.Add(1)
			continue
		}
		u.move(idx, placeStack, 0)
		pkt := &u.pkts[idx]
		head := int(desc.Addr - base)
		pkt.InitFrame(u, u.frame(idx), head, head+int(desc.Len))
		pkt.Handle = base
		bytes += uint64(desc.Len)
		s.batch.PushBack(pkt)
		delivered++
	}
	r.cachedCons += n
	r.release()
	if delivered == 0 {
		return 0
	}
	s.rxPackets.Add(uint64(delivered))
	s.rxBytes.Add(bytes)
	d.DeliverNetworkPackets(w, &s.batch)
	s.batch.Reset()
	return delivered
}

// write puts a batch on the TX ring: a frame of this UMEM by its address
// (no copy), any other frame copied into a free UMEM frame. It releases
// every packet and kicks the kernel once per batch.
func (s *xsk) write(pkts []*stack.PacketBuffer, maxLen int) int {
	u := s.umem
	s.reap()
	t := s.tx
	free := t.free(uint32(len(pkts)))
	var bytes uint64
	sent, moved := 0, 0
	for _, pkt := range pkts {
		n := pkt.Len()
		switch {
		case n > maxLen || n > u.frameSize-txHeadroom && pkt.Owner() != stack.FrameOwner(u):
			s.txTooBig.Add(1)
			pkt.Release()
			continue
		case free == 0:
			s.txRingFull.Add(1)
			pkt.Release()
			continue
		}
		var addr uint64
		if pkt.Owner() == stack.FrameOwner(u) {
			idx := uint32(pkt.Handle >> u.shift)
			addr = pkt.Handle + uint64(pkt.Start())
			// Mark it on TX first: Release then leaves the frame alone.
			u.move(idx, placeTX, s.slot)
			moved++
		} else {
			idx, ok := u.take()
			if !ok {
				s.txNoFrame.Add(1)
				pkt.Release()
				continue
			}
			copy(u.frame(idx)[txHeadroom:], pkt.Data())
			addr = uint64(idx)<<u.shift + txHeadroom
			u.move(idx, placeTX, s.slot)
		}
		pkt.Release()
		t.descs[t.cachedProd&t.mask] = unix.XDPDesc{Addr: addr, Len: uint32(n)}
		t.cachedProd++
		free--
		sent++
		bytes += uint64(n)
	}
	if sent == 0 {
		return 0
	}
	t.submit()
	s.txPackets.Add(uint64(sent))
	s.txBytes.Add(bytes)
	s.txMoved.Add(uint64(moved))
	s.txCopied.Add(uint64(sent - moved))
	s.kick()
	return sent
}

// kick tells the kernel about new TX descriptors. Copy mode needs a
// sendto for every batch (the TX ring's need_wakeup flag stays set);
// zero-copy drivers set the flag only when their TX is idle.
func (s *xsk) kick() {
	for i := 0; i < maxKicks; i++ {
		if !s.tx.needWakeup() {
			return
		}
		s.txKicks.Add(1)
		err := unix.Sendto(s.fd, nil, unix.MSG_DONTWAIT, nil)
		switch {
		case err == nil, errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EBUSY), errors.Is(err, unix.ENOBUFS):
			// EAGAIN: budget spent or completion ring full; reap and go on.
			s.reap()
			if s.tx.pending() == 0 {
				return
			}
			if err != nil && !errors.Is(err, unix.EAGAIN) {
				return // device busy: the next poll kicks again
			}
		default:
			s.txErrors.Add(1)
			return
		}
	}
}

// stats reads the socket's counters and XDP_STATISTICS.
func (s *xsk) stats() Stats {
	st := Stats{
		RXPackets:  s.rxPackets.Load(),
		RXBytes:    s.rxBytes.Load(),
		RXBadDescs: s.rxBadDescs.Load(),
		TXPackets:  s.txPackets.Load(),
		TXBytes:    s.txBytes.Load(),
		TXMoved:    s.txMoved.Load(),
		TXCopied:   s.txCopied.Load(),
		TXRingFull: s.txRingFull.Load(),
		TXNoFrame:  s.txNoFrame.Load(),
		TXTooBig:   s.txTooBig.Load(),
		TXErrors:   s.txErrors.Load(),
		TXKicks:    s.txKicks.Load(),
	}
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.closed {
		return st
	}
	if x, err := xdpStatistics(s.fd); err == nil {
		st.Kernel = KernelStats{
			RXDropped:            x.Rx_dropped,
			RXInvalidDescs:       x.Rx_invalid_descs,
			TXInvalidDescs:       x.Tx_invalid_descs,
			RXRingFull:           x.Rx_ring_full,
			RXFillRingEmptyDescs: x.Rx_fill_ring_empty_descs,
			TXRingEmptyDescs:     x.Tx_ring_empty_descs,
		}
	}
	return st
}

func (s *xsk) unmapAndClose() {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	// The mappings hold a reference to the socket: unmap first, or close
	// would not release the queue.
	for _, r := range []*ring{s.fill, s.comp, s.rx, s.tx} {
		r.unmap()
	}
	if s.fd >= 0 {
		_ = unix.Close(s.fd)
		s.fd = -1
	}
	s.closed = true
}
