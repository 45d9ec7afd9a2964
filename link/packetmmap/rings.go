//go:build linux

package packetmmap

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/stack"
)

// tpacket2_hdr field offsets (linux/if_packet.h).
const (
	tpStatus  = 0
	tpLen     = 4
	tpSnaplen = 8
	tpMac     = 12
	// tpPkttype is sll_pkttype of the sockaddr_ll that follows the
	// header at TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) = 32.
	tpPkttype = 32 + 10
)

// fanoutIgnoreOutgoing makes the RX fanout groups with
// PACKET_FANOUT_FLAG_IGNORE_OUTGOING; tests turn it off to stand in for a
// kernel that ignores the flag.
var fanoutIgnoreOutgoing = true

// rxRing is one RX socket of the fanout group. Its frames are handed to the
// stack in place: slot i's PacketBuffer views ring frame i, and releasing it
// gives the frame back to the kernel. TPACKET_V2 is used rather than V3
// because V3 hands over whole blocks only when they fill or a timer of at
// least one jiffy (4 ms here) fires, which adds milliseconds at low rates;
// V2 hands over every frame at once.
type rxRing struct {
	e      *Endpoint
	fd     int
	mem    []byte
	frames [][]byte
	pkts   []stack.PacketBuffer
	head   int
	batch  stack.PacketBufferList

	packets, bytes, truncated, outgoing atomic.Uint64

	statsMu sync.Mutex
	drops   uint64
}

func newRXRing(e *Endpoint, o *Options, fanout uint16) (r *rxRing, err error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, socketError(err)
	}
	r = &rxRing{e: e, fd: fd, batch: stack.MakePacketBufferList(stack.BatchSize)}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	// PACKET_VERSION and PACKET_VNET_HDR must precede the ring (else EBUSY).
	if err := setIntOpt(fd, unix.PACKET_VERSION, unix.TPACKET_V2, "PACKET_VERSION"); err != nil {
		return nil, err
	}
	if e.vnet {
		if err := setIntOpt(fd, unix.PACKET_VNET_HDR, 1, "PACKET_VNET_HDR"); err != nil {
			return nil, err
		}
	}
	// Without this the RX socket also sees every frame the router sends
	// through the qdisc (the super-packet socket). It only holds
	// until the socket joins its fanout group, whose own hook then
	// decides; see the fanout flags below.
	if err := setIntOpt(fd, unix.PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING"); err != nil {
		return nil, err
	}
	req := ringGeometry(o.RXFrames, o)
	if err := unix.SetsockoptTpacketReq(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return nil, fmt.Errorf("setsockopt PACKET_RX_RING %+v: %w", req, err)
	}
	size := int(req.Block_size * req.Block_nr)
	r.mem, err = unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mmap RX ring of %d bytes: %w", size, err)
	}
	r.frames = make([][]byte, req.Frame_nr)
	r.pkts = make([]stack.PacketBuffer, req.Frame_nr)
	for i := range r.frames {
		r.frames[i] = frameAt(r.mem, req, i)
	}
	// Bind last: the socket receives nothing until it has its ring.
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: e.ifindex}); err != nil {
		return nil, fmt.Errorf("bind to ifindex %d: %w", e.ifindex, err)
	}
	// A fanout group ignores PACKET_IGNORE_OUTGOING: it hands the group
	// a copy of every frame sent on the interface through the qdisc
	// unless the group was made with PACKET_FANOUT_FLAG_IGNORE_OUTGOING
	// (Linux 6.2). Each copy costs a clone and a copy into the ring, on
	// the sender's CPU, for a frame the router only drops. An older
	// kernel ignores the flag bit, so poll drops such copies too.
	mode := unix.PACKET_FANOUT_HASH
	if fanoutIgnoreOutgoing {
		mode |= unix.PACKET_FANOUT_FLAG_IGNORE_OUTGOING
	}
	if err := setIntOpt(fd, unix.PACKET_FANOUT, int(fanout)|mode<<16, "PACKET_FANOUT"); err != nil {
		return nil, err
	}
	return r, nil
}

// poll delivers up to one batch of received frames.
func (r *rxRing) poll(w *stack.Worker, d stack.NetworkDispatcher) int {
	n := 0
	var bytes uint64
	// Frames dropped here (truncated, the host's own) take no place in
	// the batch; the scan still stops after one turn of the ring.
	for seen := 0; n < stack.BatchSize && seen < len(r.frames); seen++ {
		f := r.frames[r.head]
		pkt := &r.pkts[r.head]
		// A frame the stack still holds keeps its USER status; the
		// kernel cannot reuse it and neither may we.
		if pkt.InUse() {
			break
		}
		st := loadStatus(f)
		if st&unix.TP_STATUS_USER == 0 {
			break
		}
		slot := r.head
		r.head++
		if r.head == len(r.frames) {
			r.head = 0
		}
		if f[tpPkttype] == unix.PACKET_OUTGOING {
			// A frame this host sent, from a kernel that does not know
			// PACKET_FANOUT_FLAG_IGNORE_OUTGOING.
			r.outgoing.Add(1)
			storeStatus(f, unix.TP_STATUS_KERNEL)
			continue
		}
		length := int(le.Uint32(f[tpLen:]))
		snap := int(le.Uint32(f[tpSnaplen:]))
		mac := int(le.Uint16(f[tpMac:]))
		if snap < length || mac+snap > len(f) {
			r.truncated.Add(1)
			storeStatus(f, unix.TP_STATUS_KERNEL)
			continue
		}
		pkt.InitFrame(r, f, mac, mac+snap)
		pkt.Handle = uint64(slot)
		if r.e.vnet && mac >= vnetHdrLen {
			decodeVnetHdr(f[mac-vnetHdrLen:mac], &pkt.GSO)
		}
		if st&unix.TP_STATUS_CSUMNOTREADY != 0 && !pkt.GSO.NeedsCsum {
			// Without a virtio_net_hdr the kernel only says the checksum
			// is unfinished; find where it is from the packet's headers.
			pkt.TrimFront(ethHdrLen)
			pkt.GSO.NeedsCsum = stack.SetChecksumOffsets(pkt)
			pkt.Prepend(ethHdrLen)
		}
		if st&unix.TP_STATUS_CSUM_VALID != 0 {
			pkt.RXChecksumValidated = true
		}
		bytes += uint64(snap)
		r.batch.PushBack(pkt)
		n++
	}
	if n == 0 {
		return 0
	}
	r.packets.Add(uint64(n))
	r.bytes.Add(bytes)
	d.DeliverNetworkPackets(w, &r.batch)
	r.batch.Reset()
	return n
}

// ReleaseFrame implements stack.FrameOwner: the slot goes back to the kernel.
func (r *rxRing) ReleaseFrame(pkt *stack.PacketBuffer) {
	storeStatus(r.frames[pkt.Handle], unix.TP_STATUS_KERNEL)
}

// kernelDrops accumulates PACKET_STATISTICS, which resets on every read.
func (r *rxRing) kernelDrops() uint64 {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	if s, err := unix.GetsockoptTpacketStats(r.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
		r.drops += uint64(s.Drops)
	}
	return r.drops
}

func (r *rxRing) close() {
	if r.mem != nil {
		_ = unix.Munmap(r.mem)
		r.mem = nil
	}
	if r.fd >= 0 {
		_ = unix.Close(r.fd)
		r.fd = -1
	}
}

// txRing is one writer's TX ring. Only the worker whose ID it belongs to
// writes it, so it needs no lock.
type txRing struct {
	fd     int
	mem    []byte
	frames [][]byte
	head   int
	// tail is where the search for the kernel's position starts: every
	// frame from tail up to head was handed to the kernel.
	tail int
	// stuck is the frame the kernel failed to send at the last failed
	// kick, and stuckKicks how many failed kicks in a row it has been.
	stuck, stuckKicks int

	packets, bytes, ringFull, tooBig, errors, refused atomic.Uint64
}

// maxStuckKicks is how many failed kicks in a row one frame may cause
// before the ring skips it: a full peer queue clears between kicks, a
// frame the device will never take (a super-packet after its TSO was
// turned off, a frame over a veth peer's MTU) does not.
const maxStuckKicks = 4

// TXMark is the SO_MARK of the TX sockets that send super-packets through
// the qdisc layer (superSocket): the TCX egress program that keeps the
// kernel's own stack off an owned port (forwarder) lets frames with it
// through.
const TXMark = 0x6e687467 // "nhtg"

// newTXRing opens a TX ring. Its socket sends straight to the driver
// (PACKET_QDISC_BYPASS); super-packets the ring cannot or should not take
// go through a superSocket instead (offload.go).
func newTXRing(e *Endpoint, o *Options) (t *txRing, err error) {
	// Protocol 0: the socket receives nothing; the kernel takes each sent
	// frame's protocol from its Ethernet header.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, socketError(err)
	}
	t = &txRing{fd: fd}
	defer func() {
		if err != nil {
			t.close()
		}
	}()
	if err := setIntOpt(fd, unix.PACKET_VERSION, unix.TPACKET_V2, "PACKET_VERSION"); err != nil {
		return nil, err
	}
	if e.vnet {
		if err := setIntOpt(fd, unix.PACKET_VNET_HDR, 1, "PACKET_VNET_HDR"); err != nil {
			return nil, err
		}
	}
	// Straight to the driver: no qdisc, so the TCX egress program that
	// silences the kernel on owned ports does not see our frames either.
	if err := setIntOpt(fd, unix.PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS"); err != nil {
		return nil, err
	}
	// A malformed frame is skipped instead of stalling the ring.
	if err := setIntOpt(fd, unix.PACKET_LOSS, 1, "PACKET_LOSS"); err != nil {
		return nil, err
	}
	// Every skb sent from the ring is charged to this socket's send
	// buffer until the device lets go of it, and tpacket_snd stops at a
	// full one. A veth lets go only when its peer has taken the skb, so
	// the default buffer (about 90 frames of 1,500 bytes) would leave most
	// of its deeper ring waiting; give it room for all of them.
	if e.ringCopied {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, vethTXSndBuf); err != nil {
			return nil, fmt.Errorf("setsockopt SO_SNDBUFFORCE: %w", err)
		}
	}
	req := ringGeometry(o.TXFrames, o)
	if err := unix.SetsockoptTpacketReq(fd, unix.SOL_PACKET, unix.PACKET_TX_RING, &req); err != nil {
		return nil, fmt.Errorf("setsockopt PACKET_TX_RING %+v: %w", req, err)
	}
	size := int(req.Block_size * req.Block_nr)
	t.mem, err = unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mmap TX ring of %d bytes: %w", size, err)
	}
	t.frames = make([][]byte, req.Frame_nr)
	for i := range t.frames {
		t.frames[i] = frameAt(t.mem, req, i)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: 0, Ifindex: e.ifindex}); err != nil {
		return nil, fmt.Errorf("bind to ifindex %d: %w", e.ifindex, err)
	}
	return t, nil
}

// txOpts are what a write needs to know of its endpoint, read once per
// batch.
type txOpts struct {
	maxFrame int  // the MTU plus the Ethernet header
	vnet     bool // frames carry a virtio_net_hdr
	// gso is the writer's super-packet socket (nil without vnet).
	gso *superSocket
	// ringGSO has bit 1<<t for each GSO type the ring may take; devGSO for
	// each the device segments itself.
	ringGSO, devGSO uint32
	linearTo        int // see encodeVnetHdr
}

// write copies the batch into free TX slots, releases the packets and kicks
// the kernel. Super-packets of a GSO type outside ringGSO, and frames too
// large for a ring frame, go to the socket gso instead, if there is one
// (offload.go says which go where); super-packets of a
// type outside devGSO (the types the device segments itself) count as
// segmented by the kernel. Order is kept, as a link must: the ring's frames
// put so far are kicked before a frame goes to gso; and from then on, and
// while frames sent through gso earlier may still wait in a qdisc, every
// frame takes gso, so that none overtakes a segment of an earlier
// super-packet. Each frame through gso is one sendmsg: cheap next to the
// copy of a super-packet, dearer for small frames caught behind one. A kick
// that returns EAGAIN may leave ring frames unsent that a following sendmsg
// then overtakes, as with any two sockets; so may a device with several TX
// queues and no XPS map, where the two sockets' frames can take different
// queues.
func (t *txRing) write(pkts stack.PacketBufferList, o txOpts) (int, error) {
	gso, ringGSO, devGSO := o.gso, o.ringGSO, o.devGSO
	// A frame larger than a ring frame (a veth's ring has small ones, see
	// vethTXFrameSize) takes the socket too.
	room := len(t.frames[0]) - txDataOffset - vnetHdrLen
	allGSO := gso != nil && gso.busy()
	var err error
	pending := 0 // frames put on the ring since the last kick
	var sent, sentGSO, supers int
	var bytes, bytesGSO uint64
	for _, pkt := range pkts.AsSlice() {
		if allGSO || gso != nil && (pkt.GSO.Type != stack.GSONone && ringGSO&(1<<pkt.GSO.Type) == 0 || pkt.Len() > room) {
			if pending > 0 {
				if kerr := t.kick(); kerr != nil {
					err = kerr
				}
				pending = 0
			}
			allGSO = true
			if pkt.GSO.Type == stack.GSONone && pkt.Len() > o.maxFrame {
				t.tooBig.Add(1)
			} else if gso.send(pkt) {
				sentGSO++
				bytesGSO += uint64(pkt.Len())
				if pkt.GSO.Type != stack.GSONone && devGSO&(1<<pkt.GSO.Type) == 0 {
					supers++
				}
			}
		} else if t.put(pkt, o.maxFrame, o.vnet, o.linearTo) {
			pending++
			sent++
			bytes += uint64(pkt.Len())
		}
		pkt.Release()
	}
	// One kick for the batch, or for its ring frames before the first
	// that went to gso: the kernel sends every SEND_REQUEST frame inside
	// this call.
	if pending > 0 {
		if kerr := t.kick(); kerr != nil {
			err = kerr
		}
	}
	if sent > 0 {
		t.packets.Add(uint64(sent))
		t.bytes.Add(bytes)
	}
	if sentGSO > 0 {
		gso.packets.Add(uint64(sentGSO))
		gso.bytes.Add(bytesGSO)
		gso.kernelGSO.Add(uint64(supers))
	}
	return sent + sentGSO, err
}

// addStats adds the ring's counters to s.
func (t *txRing) addStats(s *Stats) {
	s.TXPackets += t.packets.Load()
	s.TXBytes += t.bytes.Load()
	s.TXRingFull += t.ringFull.Load()
	s.TXTooBig += t.tooBig.Load()
	s.TXErrors += t.errors.Load()
	s.TXRefused += t.refused.Load()
}

// put copies pkt into the next free slot and reports whether it did (when
// not, it counts why: too big, ring full). The caller counts what was
// sent, releases pkt and kicks.
func (t *txRing) put(pkt *stack.PacketBuffer, maxFrame int, vnet bool, linearTo int) bool {
	data := pkt.Data()
	off := txDataOffset
	if vnet {
		off += vnetHdrLen
	}
	f := t.frames[t.head]
	switch {
	case off+len(data) > len(f),
		len(data) > maxFrame && (pkt.GSO.Type == stack.GSONone || !vnet):
		t.tooBig.Add(1)
		return false
	case loadStatus(f) != unix.TP_STATUS_AVAILABLE:
		t.ringFull.Add(1)
		return false
	}
	if vnet {
		encodeVnetHdr(f[txDataOffset:off], &pkt.GSO, len(data), linearTo)
	}
	copy(f[off:], data)
	le.PutUint32(f[tpLen:], uint32(off-txDataOffset+len(data)))
	storeStatus(f, unix.TP_STATUS_SEND_REQUEST)
	t.head++
	if t.head == len(t.frames) {
		t.head = 0
	}
	return true
}

// kick asks the kernel to send every SEND_REQUEST frame. When the device
// drops a frame the kernel puts it back to SEND_REQUEST without moving past
// it (tpacket_snd, "skb was destructed already"), so every later kick
// fails on the same frame and the ring stops for good. After
// maxStuckKicks such kicks on one frame, kick makes that frame's header
// invalid; with PACKET_LOSS the kernel then skips it and goes on.
func (t *txRing) kick() error {
	err := unix.Sendto(t.fd, nil, unix.MSG_DONTWAIT, nil)
	if err == nil || errors.Is(err, unix.EAGAIN) {
		t.stuckKicks = 0
		return nil
	}
	t.errors.Add(1)
	if slot, ok := t.kernelHead(); ok {
		if slot == t.stuck && t.stuckKicks > 0 {
			t.stuckKicks++
		} else {
			t.stuck, t.stuckKicks = slot, 1
		}
		if t.stuckKicks >= maxStuckKicks {
			t.poison(t.frames[slot])
			t.refused.Add(1)
			t.stuckKicks = 0
			if err2 := unix.Sendto(t.fd, nil, unix.MSG_DONTWAIT, nil); err2 == nil || errors.Is(err2, unix.EAGAIN) {
				return nil
			}
		}
	}
	return fmt.Errorf("packetmmap: TX kick: %w", err)
}

// kernelHead finds the frame the kernel will try next: the oldest frame
// still in SEND_REQUEST (frames before it are sent, or in flight as
// SENDING until the device lets go of them).
func (t *txRing) kernelHead() (int, bool) {
	for t.tail != t.head && loadStatus(t.frames[t.tail]) == unix.TP_STATUS_AVAILABLE {
		if t.tail++; t.tail == len(t.frames) {
			t.tail = 0
		}
	}
	for i := t.tail; i != t.head; {
		if loadStatus(t.frames[i]) == unix.TP_STATUS_SEND_REQUEST {
			return i, true
		}
		if i++; i == len(t.frames) {
			i = 0
		}
	}
	return 0, false
}

// poison gives a SEND_REQUEST frame a length the kernel rejects before
// building an skb, so that with PACKET_LOSS it marks the frame available
// and moves on.
func (t *txRing) poison(f []byte) {
	le.PutUint32(f[tpLen:], uint32(len(f)))
}

func (t *txRing) close() {
	if t.mem != nil {
		_ = unix.Munmap(t.mem)
		t.mem = nil
	}
	if t.fd >= 0 {
		_ = unix.Close(t.fd)
		t.fd = -1
	}
}

// socketError explains the usual reason an AF_PACKET socket is refused.
func socketError(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("AF_PACKET socket: %w (run as root or grant CAP_NET_RAW)", err)
	}
	return fmt.Errorf("AF_PACKET socket: %w", err)
}
