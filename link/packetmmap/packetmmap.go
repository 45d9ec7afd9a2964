//go:build linux

package packetmmap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/stack"
)

// Ring geometry. A frame holds a tpacket2_hdr, the sockaddr_ll the kernel
// appends, a virtio_net_hdr and a whole 64 KiB GSO super-packet, because
// veth hands PACKET_MMAP super-packets whenever TSO or GRO is on
// (LINUX-NOTES.md); a smaller frame would truncate them.
const (
	// DefaultFrameSize fits a 64 KiB super-packet plus every header.
	DefaultFrameSize = 69632
	// DefaultBlockSize groups 15 default frames per 1 MiB kernel block,
	// an allocation order the kernel serves without waste.
	DefaultBlockSize = 1 << 20
	// DefaultRXFrames sizes each RX ring: 240 frames are 16 MiB of ring
	// memory and about 200 µs of buffering at 1 Mpps.
	DefaultRXFrames = 240
	// DefaultTXFrames sizes each TX ring. The kernel sends a batch inside
	// the kick, and a NIC lets go of a frame when it has sent it: 120
	// frames (8 MiB) leave room for two batches.
	DefaultTXFrames = 120
	// A veth (forwardingDrivers) lets go of a TX frame only when its
	// peer's napi has taken the skb from its 256-slot queue, so its TX
	// rings get more, smaller frames (super-packets never go to them
	// there): frames of 10 KiB, enough for an MTU of 9,000 (larger for a
	// larger MTU at start), as many as fit 6 MiB, rounded up to whole
	// blocks: 714 frames for a 1,500-byte MTU. With 120 the ring filled
	// and dropped under TCP without
	// TSO (bench/RESULTS.md, "2026-11-28, 00:40–00:58 UTC — by hand"). A
	// frame larger than a ring frame takes the super-packet socket.
	vethTXFrameSize = 10240
	vethTXBytes     = 6 << 20
	// vethTXSndBuf is asked for as a veth TX ring socket's send buffer;
	// the kernel doubles it, to 4 MiB: the whole ring of linear skbs of a
	// 1,500-byte MTU (about 4 KiB of truesize each) in flight.
	vethTXSndBuf = 2 << 20

	tpacketAlign   = 16
	tpacket2HdrLen = 32 // sizeof(struct tpacket2_hdr)
	// txDataOffset is where a V2 TX frame's data starts: the kernel uses
	// tp_hdrlen - sizeof(struct sockaddr_ll) = TPACKET2_HDRLEN - 20 = 32.
	txDataOffset = tpacket2HdrLen
	vnetHdrLen   = 10 // sizeof(struct virtio_net_hdr)
	ethHdrLen    = 14
)

// Options configure an Endpoint. Zero values take the defaults named.
type Options struct {
	// Interface is the Linux interface name; required.
	Interface string
	// Queues is the number of RX sockets in the interface's fanout group,
	// one per worker that serves the interface; 0 means 1.
	Queues int
	// Writers is the number of TX rings, one per stack worker ID that may
	// write (ID 0 is the stack's control worker); 0 means Queues+1.
	Writers int
	// FrameSize is the ring frame size, a multiple of 16 of at least
	// MTU+128; 0 means DefaultFrameSize (TX frames on a veth: see
	// TXFrames).
	FrameSize int
	// BlockSize is the kernel allocation unit, a multiple of the page size
	// holding at least one frame; 0 means DefaultBlockSize.
	BlockSize int
	// RXFrames and TXFrames size each ring (rounded up to whole blocks);
	// 0 means DefaultRXFrames / DefaultTXFrames. With both TXFrames and
	// FrameSize 0, a veth's TX rings take 600 or more frames of 10 KiB
	// (see vethTXFrameSize).
	RXFrames int
	TXFrames int
	// NoVnetHdr turns off PACKET_VNET_HDR: checksum-not-ready frames are
	// then completed in software and super-packets are not accepted.
	NoVnetHdr bool
	// FanoutID names the PACKET_FANOUT group; 0 derives one from the
	// interface index.
	FanoutID uint16
}

// Stats are an endpoint's counters, summed over its sockets.
type Stats struct {
	RXPackets, RXBytes uint64
	// RXTruncated frames were longer than a ring frame and were dropped.
	RXTruncated uint64
	// RXOutgoing frames were the host's own, sent on the interface and
	// handed back by a kernel too old to keep them from the fanout group
	// (before Linux 6.2); they were dropped.
	RXOutgoing uint64
	// KernelDrops are PACKET_STATISTICS tp_drops: frames the kernel could
	// not place because the RX ring was full.
	KernelDrops        uint64
	TXPackets, TXBytes uint64
	// TXRingFull frames found no free TX slot, or no room in the
	// super-packet socket's send buffer or its qdisc (EAGAIN,
	// ENOBUFS), and were dropped.
	TXRingFull uint64
	// TXTooBig frames did not fit a TX frame or exceeded the MTU without GSO.
	TXTooBig uint64
	// TXErrors are failed kicks (sendto errors other than EAGAIN) and
	// frames the super-packet socket failed to send for another
	// reason.
	TXErrors uint64
	// TXRefused frames the device would not take, kick after kick (a
	// super-packet after TSO was turned off, or a frame over a veth peer's
	// MTU, say), and that the ring skipped so the frames behind them could
	// go.
	TXRefused uint64
	// TXKernelGSO super-packets were handed to the kernel's software
	// segmentation, the device lacking the offload (counted in TXPackets
	// too). Those the device segments itself are not counted here.
	TXKernelGSO uint64
}

// Endpoint is a PACKET_MMAP link on one interface: RX sockets in a fanout
// group read in place, and one TX ring per writer so workers never share a
// ring. It implements stack.LinkEndpoint and stack.QueuePoller.
type Endpoint struct {
	name    string
	ifindex int
	addr    stack.LinkAddress
	mtu     atomic.Uint32
	vnet    bool
	rx      []*rxRing
	tx      []*txRing
	// gso[i] is writer i's socket for super-packets that do not go to the
	// ring (see offload.go); nil without vnet headers.
	gso []*superSocket
	// ringCopied says the driver copies the TX ring's pages again for
	// every frame (a veth; see forwardingDrivers), so super-packets skip
	// the ring even where the device has the offload.
	ringCopied bool
	// superOpen says the super-packet sockets are open (cleared by Close).
	superOpen atomic.Bool
	closeOne  sync.Once

	// gsoOK has bit 1<<t set for each stack.GSOType t the device segments
	// itself (its TSO/USO features); ctlMu guards ctlFD, the socket
	// RefreshOffloads reads the features through (-1 once closed).
	gsoOK atomic.Uint32
	ctlMu sync.Mutex
	ctlFD int

	dispatcher stack.DispatcherRef
}

var (
	_ stack.LinkEndpoint  = (*Endpoint)(nil)
	_ stack.QueuePoller   = (*Endpoint)(nil)
	_ stack.GSOTypeFilter = (*Endpoint)(nil)
)

// ErrOptions is wrapped by every error about a bad option value.
var ErrOptions = errors.New("packetmmap: invalid options")

func (o *Options) fill() error {
	if o.Interface == "" {
		return fmt.Errorf("%w: Interface is empty", ErrOptions)
	}
	if o.Queues == 0 {
		o.Queues = 1
	}
	if o.Writers == 0 {
		o.Writers = o.Queues + 1
	}
	if o.FrameSize == 0 {
		o.FrameSize = DefaultFrameSize
	}
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.RXFrames == 0 {
		o.RXFrames = DefaultRXFrames
	}
	if o.TXFrames == 0 {
		o.TXFrames = DefaultTXFrames
	}
	page := unix.Getpagesize()
	switch {
	case o.Queues < 0 || o.Queues > stack.MaxWorkers:
		return fmt.Errorf("%w: Queues %d out of range 1..%d", ErrOptions, o.Queues, stack.MaxWorkers)
	case o.Writers < 1 || o.Writers > stack.MaxWorkers:
		return fmt.Errorf("%w: Writers %d out of range 1..%d", ErrOptions, o.Writers, stack.MaxWorkers)
	case o.FrameSize%tpacketAlign != 0 || o.FrameSize < 2048:
		return fmt.Errorf("%w: FrameSize %d must be a multiple of %d and at least 2048", ErrOptions, o.FrameSize, tpacketAlign)
	case o.BlockSize%page != 0 || o.BlockSize < o.FrameSize:
		return fmt.Errorf("%w: BlockSize %d must be a multiple of the page size (%d) and hold a frame of %d", ErrOptions, o.BlockSize, page, o.FrameSize)
	case o.RXFrames < 1 || o.TXFrames < 1:
		return fmt.Errorf("%w: RXFrames and TXFrames must be positive", ErrOptions)
	}
	return nil
}

// New opens the sockets and rings of an endpoint on an existing interface.
// It needs CAP_NET_RAW.
func New(opts Options) (*Endpoint, error) {
	txDefault := opts.TXFrames == 0 && opts.FrameSize == 0
	if err := opts.fill(); err != nil {
		return nil, err
	}
	ifc, err := net.InterfaceByName(opts.Interface)
	if err != nil {
		return nil, fmt.Errorf("packetmmap: interface %q not found: %w", opts.Interface, err)
	}
	if len(ifc.HardwareAddr) != 6 {
		return nil, fmt.Errorf("packetmmap: interface %q is not Ethernet (link address %v)", opts.Interface, ifc.HardwareAddr)
	}
	e := &Endpoint{
		name:    opts.Interface,
		ifindex: ifc.Index,
		vnet:    !opts.NoVnetHdr,
		ctlFD:   -1,
	}
	copy(e.addr[:], ifc.HardwareAddr)
	e.mtu.Store(uint32(ifc.MTU))
	if int(ifc.MTU)+ethHdrLen+128 > opts.FrameSize {
		return nil, fmt.Errorf("%w: FrameSize %d too small for MTU %d of %q", ErrOptions, opts.FrameSize, ifc.MTU, opts.Interface)
	}
	fanout := opts.FanoutID
	if fanout == 0 {
		fanout = uint16(ifc.Index) ^ uint16(unix.Getpid()<<4)
	}
	for q := 0; q < opts.Queues; q++ {
		r, err := newRXRing(e, &opts, fanout)
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("packetmmap: %q RX queue %d: %w", opts.Interface, q, err)
		}
		e.rx = append(e.rx, r)
	}
	if err := e.openCtl(); err != nil {
		e.Close()
		return nil, err
	}
	// A driver that does not say its name gets the ring as a NIC would.
	if info, err := unix.IoctlGetEthtoolDrvinfo(e.ctlFD, e.name); err == nil {
		e.ringCopied = forwardingDrivers[unix.ByteSliceToString(info.Driver[:])]
	}
	txOpts := opts
	if e.ringCopied && txDefault {
		txOpts.FrameSize, txOpts.TXFrames = vethTXGeometry(int(ifc.MTU))
	}
	for i := 0; i < opts.Writers; i++ {
		t, err := newTXRing(e, &txOpts)
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("packetmmap: %q TX ring %d: %w", opts.Interface, i, err)
		}
		e.tx = append(e.tx, t)
		if !e.vnet {
			continue
		}
		g, err := newSuperSocket(e)
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("packetmmap: %q socket %d for super-packets: %w", opts.Interface, i, err)
		}
		e.gso = append(e.gso, g)
	}
	e.superOpen.Store(e.vnet)
	// A device whose features cannot be read gets software segmentation:
	// correct, only slower, so it is not a reason to fail.
	_ = e.RefreshOffloads()
	return e, nil
}

// Name is the interface name.
func (e *Endpoint) Name() string { return e.name }

// Ifindex is the interface index.
func (e *Endpoint) Ifindex() int { return e.ifindex }

// MTU implements stack.LinkEndpoint.
func (e *Endpoint) MTU() uint32 { return e.mtu.Load() }

// SetMTU follows an MTU change of the interface (the forwarder watches
// netlink for it).
func (e *Endpoint) SetMTU(mtu uint32) { e.mtu.Store(mtu) }

// MaxHeaderLength implements stack.LinkEndpoint.
func (e *Endpoint) MaxHeaderLength() uint16 { return ethHdrLen }

// LinkAddress implements stack.LinkEndpoint.
func (e *Endpoint) LinkAddress() stack.LinkAddress { return e.addr }

// Capabilities implements stack.LinkEndpoint. With vnet headers the kernel
// completes checksums and segments super-packets on TX: the device where
// it has the offload (DeviceGSO), else the kernel's software GSO through
// the writer's superSocket (AcceptsGSO).
func (e *Endpoint) Capabilities() stack.LinkEndpointCapabilities {
	c := stack.CapabilityResolutionRequired | stack.CapabilityRXChecksumOffload
	if e.vnet {
		c |= stack.CapabilityTXChecksumOffload | stack.CapabilitySoftwareGSO
	}
	return c
}

// Attach implements stack.LinkEndpoint.
func (e *Endpoint) Attach(d stack.NetworkDispatcher) { e.dispatcher.Store(d) }

// IsAttached implements stack.LinkEndpoint.
func (e *Endpoint) IsAttached() bool { return e.dispatcher.Load() != nil }

// NumRXQueues implements stack.QueuePoller.
func (e *Endpoint) NumRXQueues() int { return len(e.rx) }

// RXFD is the file descriptor of RX queue q, for a worker's poll(2) set
// while it is idle.
func (e *Endpoint) RXFD(q int) int { return e.rx[q].fd }

// Poll implements stack.QueuePoller: it takes up to one batch of frames
// from RX ring q, in place, and delivers them on w.
func (e *Endpoint) Poll(w *stack.Worker, q int) int {
	d := e.dispatcher.Load()
	if d == nil {
		return 0
	}
	return e.rx[q].poll(w, d)
}

// WritePackets implements stack.LinkEndpoint: it copies each frame into the
// TX ring of the calling worker (pkts.Queue) and kicks the kernel once for
// the batch, or sends it through the writer's super-packet socket
// (offload.go says which), and releases it.
func (e *Endpoint) WritePackets(pkts stack.PacketBufferList) (int, error) {
	if pkts.Queue < 0 || pkts.Queue >= len(e.tx) {
		pkts.Release()
		return 0, fmt.Errorf("packetmmap: %q has no TX ring for writer %d (Writers=%d)", e.name, pkts.Queue, len(e.tx))
	}
	var gso *superSocket
	if e.gso != nil {
		gso = e.gso[pkts.Queue]
	}
	o := txOpts{maxFrame: int(e.mtu.Load()) + ethHdrLen, vnet: e.vnet, gso: gso, devGSO: e.gsoOK.Load(), linearTo: linearMax}
	o.ringGSO = o.devGSO
	if e.ringCopied {
		// The driver copies ring pages anyway: super-packets skip the
		// ring, and every other frame is copied into linear data once
		// rather than into a page it then copies again.
		o.ringGSO, o.linearTo = 0, linearAll
	}
	return e.tx[pkts.Queue].write(pkts, o)
}

// Wait implements stack.LinkEndpoint; the endpoint has no goroutines.
func (e *Endpoint) Wait() {}

// Close unmaps the rings and closes the sockets. Frames still held by the
// stack must have been released before.
func (e *Endpoint) Close() {
	e.closeOne.Do(func() {
		e.superOpen.Store(false)
		e.closeCtl()
		for _, r := range e.rx {
			r.close()
		}
		for _, t := range e.tx {
			t.close()
		}
		for _, g := range e.gso {
			g.close()
		}
	})
}

// RXQueueStats are the RX counters of queue q (its socket's
// PACKET_STATISTICS included); the TX fields are zero.
func (e *Endpoint) RXQueueStats(q int) Stats {
	r := e.rx[q]
	return Stats{
		RXPackets:   r.packets.Load(),
		RXBytes:     r.bytes.Load(),
		RXTruncated: r.truncated.Load(),
		RXOutgoing:  r.outgoing.Load(),
		KernelDrops: r.kernelDrops(),
	}
}

// NumTXRings is the number of TX rings (one per writer).
func (e *Endpoint) NumTXRings() int { return len(e.tx) }

// TXRingStats are the TX counters of writer i's ring; the RX fields are zero.
func (e *Endpoint) TXRingStats(i int) Stats {
	var s Stats
	e.tx[i].addStats(&s)
	if e.gso != nil {
		e.gso[i].addStats(&s)
	}
	return s
}

// Stats sums the counters of every ring, reading PACKET_STATISTICS.
func (e *Endpoint) Stats() Stats {
	var s Stats
	for _, r := range e.rx {
		s.RXPackets += r.packets.Load()
		s.RXBytes += r.bytes.Load()
		s.RXTruncated += r.truncated.Load()
		s.RXOutgoing += r.outgoing.Load()
		s.KernelDrops += r.kernelDrops()
	}
	for _, t := range e.tx {
		t.addStats(&s)
	}
	for _, g := range e.gso {
		g.addStats(&s)
	}
	return s
}

// htons converts an EtherType to network byte order for socket calls.
func htons(v uint16) uint16 { return v<<8 | v>>8 }

// vethTXGeometry is the TX frame size and count for a veth of MTU mtu: a
// frame holds a whole MTU-sized frame (at least vethTXFrameSize), and as
// many frames as fit vethTXBytes, no fewer than DefaultTXFrames.
func vethTXGeometry(mtu int) (size, frames int) {
	size = max(vethTXFrameSize, (txDataOffset+vnetHdrLen+ethHdrLen+mtu+tpacketAlign-1)/tpacketAlign*tpacketAlign)
	return size, max(DefaultTXFrames, vethTXBytes/size)
}

// ringGeometry rounds frames up to whole blocks.
func ringGeometry(frames int, o *Options) unix.TpacketReq {
	perBlock := o.BlockSize / o.FrameSize
	blocks := (frames + perBlock - 1) / perBlock
	return unix.TpacketReq{
		Block_size: uint32(o.BlockSize),
		Block_nr:   uint32(blocks),
		Frame_size: uint32(o.FrameSize),
		Frame_nr:   uint32(blocks * perBlock),
	}
}

// frameAt returns frame i of a ring laid out in blocks: frames never cross
// a block boundary, so a block's tail may be unused.
func frameAt(mem []byte, req unix.TpacketReq, i int) []byte {
	perBlock := int(req.Block_size / req.Frame_size)
	off := (i/perBlock)*int(req.Block_size) + (i%perBlock)*int(req.Frame_size)
	return mem[off : off+int(req.Frame_size) : off+int(req.Frame_size)]
}

func setIntOpt(fd, opt, v int, name string) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, opt, v); err != nil {
		return fmt.Errorf("setsockopt %s: %w", name, err)
	}
	return nil
}

// le16 reads the virtio_net_hdr's host-order (little-endian on the
// platforms Go runs PACKET_MMAP on) 16-bit fields.
var le = binary.LittleEndian
