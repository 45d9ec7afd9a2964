package stack_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/nexthop-router/nexthop/arp"
	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/ipv4"
	"github.com/nexthop-router/nexthop/ipv6"
	"github.com/nexthop-router/nexthop/link/memlink"
	"github.com/nexthop-router/nexthop/stack"
)

// The GSO test network: a router with three NICs and one host behind each.
// NIC 1 is the ingress and takes GSO (like PACKET_MMAP with vnet headers);
// NIC 2 takes neither GSO nor TX checksum offload (like AF_XDP), so the
// stack segments for it; NIC 3 takes GSO, so super-packets pass whole.
// Host i is 198.18.i.2 and 2001:db8:i::2, behind router address .1 / ::1.
const (
	gsoIn      = 1
	gsoNoGSO   = 2
	gsoCapable = 3
	gsoNICs    = 3
)

// bigFrame is a frame that holds a whole 64 KiB super-packet.
const bigFrame = stack.DefaultHeadroom + 14 + 65536

func gsoRouterMAC(i int) stack.LinkAddress { return stack.LinkAddress{2, 0, 0, 0, byte(i), 1} }
func gsoHostMAC(i int) stack.LinkAddress   { return stack.LinkAddress{2, 0, 0, 0, byte(i), 2} }
func gsoHost4(i int) [4]byte               { return [4]byte{198, 18, byte(i), 2} }
func gsoHost6(i int) [16]byte {
	return netip.MustParseAddr(fmt.Sprintf("2001:db8:%d::2", i)).As16()
}

// batchLink records the size of every WritePackets call, so tests can see
// that a super-packet's segments left in one batch.
type batchLink struct {
	*memlink.Endpoint
	record  bool
	batches []int
}

func (l *batchLink) WritePackets(pkts stack.PacketBufferList) (int, error) {
	if l.record {
		l.batches = append(l.batches, pkts.Len())
	}
	return l.Endpoint.WritePackets(pkts)
}

type gsoNet struct {
	s    *stack.Stack
	w    *stack.Worker
	nic  [gsoNICs + 1]*stack.NIC
	rt   [gsoNICs + 1]*batchLink
	host [gsoNICs + 1]*memlink.Endpoint
	// src lends the big frames super-packets are injected in, like a
	// PACKET_MMAP RX ring would.
	src  *memlink.Ring
	list stack.PacketBufferList
}

func newGSONet(t testing.TB, mtu2 uint32) *gsoNet {
	t.Helper()
	return newGSONetWrapped(t, mtu2, nil)
}

// newGSONetWrapped is newGSONet with NIC i's link replaced by wrap(i, l)
// (l being its batchLink) when wrap is not nil.
func newGSONetWrapped(t testing.TB, mtu2 uint32, wrap func(i int, l *batchLink) stack.LinkEndpoint) *gsoNet {
	t.Helper()
	n := &gsoNet{src: memlink.NewRing(4, bigFrame), list: stack.MakePacketBufferList(1)}
	n.s = stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol, ipv6.NewProtocol},
		Clock:            stack.NewFakeClock(),
	})
	caps := [gsoNICs + 1]stack.LinkEndpointCapabilities{
		gsoIn:      stack.CapabilityResolutionRequired | stack.CapabilitySoftwareGSO | stack.CapabilityTXChecksumOffload,
		gsoNoGSO:   stack.CapabilityResolutionRequired,
		gsoCapable: stack.CapabilityResolutionRequired | stack.CapabilitySoftwareGSO | stack.CapabilityTXChecksumOffload,
	}
	for i := 1; i <= gsoNICs; i++ {
		mtu := uint32(0)
		if i == gsoNoGSO {
			mtu = mtu2
		}
		r, h := memlink.NewPair(
			memlink.Options{LinkAddress: gsoRouterMAC(i), MTU: mtu, Capabilities: caps[i]},
			memlink.Options{LinkAddress: gsoHostMAC(i), MTU: mtu, RXQueueLen: 4096},
		)
		n.rt[i], n.host[i] = &batchLink{Endpoint: r}, h
		var ep stack.LinkEndpoint = n.rt[i]
		if wrap != nil {
			ep = wrap(i, n.rt[i])
		}
		nic, err := n.s.CreateNIC(stack.NICID(i), fmt.Sprintf("eth%d", i), ep)
		if err != nil {
			t.Fatalf("s.CreateNIC(%d, _): %v", i, err)
		}
		for _, a := range []string{fmt.Sprintf("198.18.%d.1/24", i), fmt.Sprintf("2001:db8:%d::1/64", i)} {
			if err := nic.AddAddress(netip.MustParsePrefix(a)); err != nil {
				t.Fatalf("nic.AddAddress(%s): %v", a, err)
			}
		}
		nic.Neighbors(stack.IPv4ProtocolNumber).AddStatic(netip.AddrFrom4(gsoHost4(i)), gsoHostMAC(i))
		nic.Neighbors(stack.IPv6ProtocolNumber).AddStatic(netip.AddrFrom16(gsoHost6(i)), gsoHostMAC(i))
		if err := nic.Enable(); err != nil {
			t.Fatalf("nic.Enable(): %v", err)
		}
		h.Discard() // gratuitous ARP, unsolicited NA
		n.nic[i] = nic
	}
	w, err := n.s.NewWorker()
	if err != nil {
		t.Fatalf("s.NewWorker(): %v", err)
	}
	n.w = w
	t.Cleanup(func() { n.checkLeaks(t) })
	return n
}

func (n *gsoNet) checkLeaks(t testing.TB) {
	for i := 1; i <= gsoNICs; i++ {
		n.host[i].Discard()
		n.rt[i].Discard()
		n.nic[i].Neighbors(stack.IPv4ProtocolNumber).Flush()
		n.nic[i].Neighbors(stack.IPv6ProtocolNumber).Flush()
	}
	if o := n.src.Outstanding(); o != 0 {
		t.Errorf("source ring: %d frames leaked", o)
	}
	if o := n.s.Frames().Outstanding(); o != 0 {
		t.Errorf("s.Frames(): %d frames leaked", o)
	}
	if o := n.host[1].Frames().Outstanding(); o != 0 {
		t.Errorf("memlink pool: %d frames leaked", o)
	}
}

// inject writes a super-packet (network bytes net, metadata g) from host 1
// to the router in a frame of the source ring and runs the router. It
// allocates nothing, for the allocation test.
func (n *gsoNet) inject(t testing.TB, net []byte, g stack.GSO) {
	pkt := n.src.Get()
	if pkt == nil {
		t.Fatal("source ring empty: a super-packet was not released")
	}
	if !pkt.SetLen(14 + len(net)) {
		t.Fatalf("a %d-byte super-packet does not fit a source frame", len(net))
	}
	d := pkt.Data()
	rm, hm := gsoRouterMAC(gsoIn), gsoHostMAC(gsoIn)
	copy(d[0:6], rm[:])
	copy(d[6:12], hm[:])
	et := stack.IPv4ProtocolNumber
	if net[0]>>4 == 6 {
		et = stack.IPv6ProtocolNumber
	}
	binary.BigEndian.PutUint16(d[12:14], uint16(et))
	copy(d[14:], net)
	pkt.GSO = g
	n.list.PushBack(pkt)
	_, _ = n.host[gsoIn].WritePackets(n.list)
	n.list.Reset()
	n.rt[gsoIn].PollAll(n.w)
}

func (n *gsoNet) ipStats(i int, v6 bool) stack.IPStats {
	p := stack.IPv4ProtocolNumber
	if v6 {
		p = stack.IPv6ProtocolNumber
	}
	return n.nic[i].NetworkEndpoint(p).Stats()
}

// superSpec describes a super-packet to build.
type superSpec struct {
	v6, udp   bool
	egress    int // the NIC whose host is the destination
	mss       int
	payload   int
	flags     uint8 // TCP flags (ACK is always added)
	seq       uint32
	id        uint16
	df        bool
	ipOpts    []byte // IPv4 options
	tcpOpts   []byte
	destOpts  bool // IPv6: a Destination Options header before the L4 one
	needsCsum bool // L4 field holds the pseudo-header sum, as TSO leaves it
	fill      byte
	dstLast   byte // IPv4: last byte of the destination, if not the host's 2
}

// build returns the super-packet's network-layer bytes, its GSO metadata,
// and the offset of its L4 header and the length of all its headers.
func (p superSpec) build() (net []byte, g stack.GSO, l4, hdrLen int) {
	l4proto := header.IPv4ProtocolTCP
	l4hdr := header.TCPMinimumSize + (len(p.tcpOpts)+3)&^3
	if p.udp {
		l4proto, l4hdr = header.IPv4ProtocolUDP, header.UDPMinimumSize
	}
	if p.v6 {
		l4 = header.IPv6MinimumSize
		if p.destOpts {
			l4 += 8
		}
	} else {
		l4 = header.IPv4MinimumSize + (len(p.ipOpts)+3)&^3
	}
	hdrLen = l4 + l4hdr
	net = make([]byte, hdrLen+p.payload)
	for i := range p.payload {
		net[hdrLen+i] = byte(i*7) + p.fill
	}
	var pseudo uint16
	l4len := len(net) - l4
	if p.v6 {
		nh := l4proto
		if p.destOpts {
			nh = header.IPv6ExtDestination
			// Next Header, length 0 (8 bytes), PadN of 4 bytes of padding.
			copy(net[40:48], []byte{l4proto, 0, 1, 4, 0, 0, 0, 0})
		}
		header.EncodeIPv6(net, header.IPv6Fields{
			TrafficClass: 0x10, FlowLabel: 0x12345, PayloadLength: uint16(len(net) - 40),
			NextHeader: nh, HopLimit: 64, Src: gsoHost6(gsoIn), Dst: gsoHost6(p.egress),
		})
		pseudo = header.PseudoHeaderChecksumV6(l4proto, gsoHost6(gsoIn), gsoHost6(p.egress), uint32(l4len))
	} else {
		dst := gsoHost4(p.egress)
		if p.dstLast != 0 {
			dst[3] = p.dstLast
		}
		var fl uint8
		if p.df {
			fl = header.IPv4FlagDontFragment
		}
		header.EncodeIPv4(net, header.IPv4Fields{
			TOS: 0x10, TotalLength: uint16(len(net)), ID: p.id, Flags: fl, TTL: 64,
			Protocol: l4proto, Src: gsoHost4(gsoIn), Dst: dst, Options: p.ipOpts,
		})
		pseudo = header.PseudoHeaderChecksumV4(l4proto, gsoHost4(gsoIn), dst, uint16(l4len))
	}
	g = stack.GSO{MSS: uint16(p.mss), HdrLen: uint16(hdrLen), CsumStart: uint16(l4), NeedsCsum: p.needsCsum}
	if p.udp {
		header.EncodeUDP(net[l4:], header.UDPFields{SrcPort: 4000, DstPort: 5001, Length: uint16(l4len)})
		g.Type, g.CsumOffset = stack.GSOUDPL4, 6
		if p.needsCsum {
			header.UDP(net[l4:]).SetChecksum(pseudo)
		} else {
			header.UDP(net[l4:]).UpdateChecksum(pseudo)
		}
	} else {
		header.EncodeTCP(net[l4:], header.TCPFields{
			SrcPort: 40000, DstPort: 5201, SeqNum: p.seq, AckNum: 0x01020304,
			Flags: p.flags | header.TCPFlagACK, WindowSize: 502, UrgentPointer: 0, Options: p.tcpOpts,
		})
		g.Type, g.CsumOffset = stack.GSOTCPv4, 16
		if p.v6 {
			g.Type = stack.GSOTCPv6
		}
		if p.needsCsum {
			header.TCP(net[l4:]).SetChecksum(pseudo)
		} else {
			header.TCP(net[l4:]).UpdateChecksum(pseudo)
		}
	}
	return net, g, l4, hdrLen
}

// refChecksum is RFC 1071 the slow way: 16-bit big-endian words.
func refChecksum(parts ...[]byte) uint16 {
	var all []byte
	for _, p := range parts {
		all = append(all, p...)
	}
	if len(all)%2 == 1 {
		all = append(all, 0)
	}
	var s uint32
	for i := 0; i < len(all); i += 2 {
		s += uint32(all[i])<<8 | uint32(all[i+1])
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// refSegment is the reference segmenter: what the frames leaving a router
// that forwards super-packet net to egress NIC e must be, built field by
// field from the description of Linux's tcp_gso_segment and
// __udp_gso_segment, independently of package stack.
func refSegment(net []byte, l4, hdrLen, mss int, udp bool, e int) [][]byte {
	v6 := net[0]>>4 == 6
	payload := net[hdrLen:]
	n := (len(payload) + mss - 1) / mss
	if n == 0 {
		n = 1
	}
	var out [][]byte
	for i := range n {
		chunk := payload[i*mss : min(len(payload), (i+1)*mss)]
		seg := append(append([]byte(nil), net[:hdrLen]...), chunk...)
		l4len := len(seg) - l4
		var pseudo []byte
		proto := header.IPv4ProtocolTCP
		if udp {
			proto = header.IPv4ProtocolUDP
		}
		if v6 {
			seg[7]-- // hop limit
			binary.BigEndian.PutUint16(seg[4:], uint16(len(seg)-40))
			pseudo = append(append([]byte(nil), seg[8:40]...), 0, 0, 0, 0, 0, 0, 0, proto)
			binary.BigEndian.PutUint32(pseudo[32:], uint32(l4len))
		} else {
			ihl := int(seg[0]&0xf) * 4
			seg[8]-- // TTL
			binary.BigEndian.PutUint16(seg[2:], uint16(len(seg)))
			binary.BigEndian.PutUint16(seg[4:], binary.BigEndian.Uint16(net[4:])+uint16(i))
			seg[10], seg[11] = 0, 0
			binary.BigEndian.PutUint16(seg[10:], refChecksum(seg[:ihl]))
			pseudo = append(append([]byte(nil), seg[12:20]...), 0, proto, 0, 0)
			binary.BigEndian.PutUint16(pseudo[10:], uint16(l4len))
		}
		t := seg[l4:]
		if udp {
			binary.BigEndian.PutUint16(t[4:], uint16(l4len))
			t[6], t[7] = 0, 0
			c := refChecksum(pseudo, t)
			if c == 0 {
				c = 0xffff
			}
			binary.BigEndian.PutUint16(t[6:], c)
		} else {
			binary.BigEndian.PutUint32(t[4:], binary.BigEndian.Uint32(net[l4+4:])+uint32(i*mss))
			if i != n-1 {
				t[13] &^= header.TCPFlagFIN | header.TCPFlagPSH
			}
			if i != 0 {
				t[13] &^= header.TCPFlagCWR
			}
			t[16], t[17] = 0, 0
			binary.BigEndian.PutUint16(t[16:], refChecksum(pseudo, t))
		}
		eth := make([]byte, 14, 14+len(seg))
		hm, rm := gsoHostMAC(e), gsoRouterMAC(e)
		copy(eth[0:6], hm[:])
		copy(eth[6:12], rm[:])
		et := uint16(stack.IPv4ProtocolNumber)
		if v6 {
			et = uint16(stack.IPv6ProtocolNumber)
		}
		binary.BigEndian.PutUint16(eth[12:], et)
		out = append(out, append(eth, seg...))
	}
	return out
}

// checkSegmented sends p through the router to the NIC without GSO and
// compares what leaves with refSegment byte for byte, and the counters
// with exactly what moved.
func checkSegmented(t *testing.T, p superSpec) {
	t.Helper()
	p.egress = gsoNoGSO
	n := newGSONet(t, 0)
	net, g, l4, hdrLen := p.build()
	want := refSegment(net, l4, hdrLen, p.mss, p.udp, gsoNoGSO)
	before := n.rt[gsoNoGSO].Stats()
	nicBefore := n.nic[gsoNoGSO].Stats()
	sentBefore := n.ipStats(gsoNoGSO, p.v6).PacketsSent
	n.rt[gsoNoGSO].record = true
	n.inject(t, net, g)
	got := n.host[gsoNoGSO].DrainBytes()
	if len(got) != len(want) {
		t.Fatalf("got %d segments, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("segment %d of %d:\n got %x\nwant %x", i, len(want), got[i], want[i])
		}
	}
	// Counters: one packet forwarded and sent (IP counts the super-packet,
	// whichever link cuts it), len(want) frames on the link, in batches
	// of at most BatchSize, each batch of one super-packet only.
	in, out := n.ipStats(gsoIn, p.v6), n.ipStats(gsoNoGSO, p.v6)
	if in.Forwarded != 1 || in.ForwardedBytes != uint64(len(net)) || in.TotalDrops() != 0 {
		t.Errorf("ingress: Forwarded %d, ForwardedBytes %d, drops %d; want 1, %d, 0", in.Forwarded, in.ForwardedBytes, in.TotalDrops(), len(net))
	}
	if sent := out.PacketsSent - sentBefore; sent != 1 || out.TotalDrops() != 0 {
		t.Errorf("egress: PacketsSent %d, drops %d; want 1, 0", sent, out.TotalDrops())
	}
	ns := n.nic[gsoNoGSO].Stats()
	tx, seg, segd := ns.TXFrames-nicBefore.TXFrames, ns.TXGSOSegments, ns.TXGSOSegmented
	if tx != uint64(len(want)) || ns.TXDropped != 0 || segd != 1 || seg != uint64(len(want)) {
		t.Errorf("NIC: %d frames sent, %d dropped, %d segments of %d super-packets; want %d, 0, %d, 1", tx, ns.TXDropped, seg, segd, len(want), len(want))
	}
	after := n.rt[gsoNoGSO].Stats()
	calls := (len(want) + stack.BatchSize - 1) / stack.BatchSize
	if c := after.WriteCalls - before.WriteCalls; c != uint64(calls) {
		t.Errorf("WritePackets calls = %d (batches %v), want %d", c, n.rt[gsoNoGSO].batches, calls)
	}
	if n.host[gsoIn].Queued() != 0 {
		t.Errorf("host 1 got %d frames back, want none", n.host[gsoIn].Queued())
	}
}

var tsOpt = []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2} // NOP NOP Timestamps

func TestGSOSegmentTCP(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		for _, tc := range []struct {
			name string
			p    superSpec
		}{
			{"one byte", superSpec{mss: 1448, payload: 1, flags: header.TCPFlagPSH}},
			{"exactly one MSS", superSpec{mss: 1448, payload: 1448, flags: header.TCPFlagPSH | header.TCPFlagFIN | header.TCPFlagCWR}},
			{"MSS plus one", superSpec{mss: 1448, payload: 1449, flags: header.TCPFlagPSH | header.TCPFlagFIN | header.TCPFlagCWR}},
			{"10 MSS plus 7", superSpec{mss: 1448, payload: 10*1448 + 7, flags: header.TCPFlagPSH | header.TCPFlagCWR, needsCsum: true}},
			{"64 KiB TSO", superSpec{mss: 1448, payload: 65000, flags: header.TCPFlagPSH, tcpOpts: tsOpt, needsCsum: true, seq: 0xffff0000}},
			{"multiple of MSS with FIN", superSpec{mss: 1000, payload: 8000, flags: header.TCPFlagFIN | header.TCPFlagPSH | header.TCPFlagECE}},
			{"sequence wraps", superSpec{mss: 1200, payload: 5000, seq: 0xfffffc00, needsCsum: true}},
			{"IPv4 options or IPv6 Destination Options", superSpec{mss: 1400, payload: 4000, ipOpts: []byte{1, 1, 1, 0}, destOpts: true, needsCsum: true}},
			{"odd MSS", superSpec{mss: 1001, payload: 3003 + 1, needsCsum: true}},
			{"no payload", superSpec{mss: 1448, payload: 0, flags: header.TCPFlagFIN}},
		} {
			name := "v4/" + tc.name
			if v6 {
				name = "v6/" + tc.name
			}
			t.Run(name, func(t *testing.T) {
				p := tc.p
				p.v6, p.df, p.id, p.fill = v6, true, 0xfffe, 3
				if v6 && p.mss == 1448 {
					p.mss = 1428 // the IPv6 header is 20 bytes longer
				}
				checkSegmented(t, p)
			})
		}
	}
}

func TestGSOSegmentUDP(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		for _, tc := range []struct {
			name string
			p    superSpec
		}{
			{"one datagram", superSpec{mss: 1400, payload: 100}},
			{"even split", superSpec{mss: 1400, payload: 4200, needsCsum: true}},
			{"short last", superSpec{mss: 1200, payload: 60000 + 11, needsCsum: true}},
			{"odd sizes", superSpec{mss: 333, payload: 3333}},
		} {
			name := "v4/" + tc.name
			if v6 {
				name = "v6/" + tc.name
			}
			t.Run(name, func(t *testing.T) {
				p := tc.p
				p.v6, p.udp, p.id = v6, true, 77
				checkSegmented(t, p)
			})
		}
	}
}

// TestGSOSegmentManySegments: more segments than a batch leave in
// consecutive full batches.
func TestGSOSegmentManySegments(t *testing.T) {
	checkSegmented(t, superSpec{mss: 100, payload: 150*100 + 50, flags: header.TCPFlagPSH, df: true, needsCsum: true})
	checkSegmented(t, superSpec{v6: true, udp: true, mss: 200, payload: 64 * 200, needsCsum: true})
}

// TestGSOSegmentBatches: the segments of two super-packets in one received
// batch each leave in one WritePackets; the first batch is flushed early
// rather than split.
func TestGSOSegmentBatches(t *testing.T) {
	n := newGSONet(t, 0)
	n.rt[gsoNoGSO].record = true
	var want [][]byte
	for k := range 2 {
		p := superSpec{egress: gsoNoGSO, mss: 1448, payload: 45*1448 + 100, df: true, needsCsum: true, fill: byte(k)}
		net, g, l4, hl := p.build()
		want = append(want, refSegment(net, l4, hl, p.mss, false, gsoNoGSO)...)
		pkt := n.src.Get()
		pkt.SetLen(14 + len(net))
		rm, hm := gsoRouterMAC(gsoIn), gsoHostMAC(gsoIn)
		copy(pkt.Data(), rm[:])
		copy(pkt.Data()[6:], hm[:])
		binary.BigEndian.PutUint16(pkt.Data()[12:], uint16(stack.IPv4ProtocolNumber))
		copy(pkt.Data()[14:], net)
		pkt.GSO = g
		n.list.PushBack(pkt)
	}
	_, _ = n.host[gsoIn].WritePackets(n.list)
	n.list.Reset()
	n.rt[gsoIn].PollAll(n.w) // both in one batch
	got := n.host[gsoNoGSO].DrainBytes()
	if len(got) != len(want) {
		t.Fatalf("got %d segments, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("segment %d differs", i)
		}
	}
	if b := n.rt[gsoNoGSO].batches; len(b) != 2 || b[0] != 46 || b[1] != 46 {
		t.Errorf("WritePackets batches %v, want [46 46]", b)
	}
}

// TestGSOSegmentAfterResolution: a super-packet that waited for its next
// hop's link address is segmented when it leaves (the neighbour queue
// hands it to WriteEthernet like any other packet), both when the queue
// held a copy in a pool frame and when it held the ring frame itself (too
// big to copy).
func TestGSOSegmentAfterResolution(t *testing.T) {
	for _, payload := range []int{5000, 60000} {
		n := newGSONet(t, 0)
		p := superSpec{egress: gsoNoGSO, dstLast: 3, mss: 1448, payload: payload, df: true, needsCsum: true, flags: header.TCPFlagPSH}
		net, g, l4, hl := p.build()
		n.inject(t, net, g)
		if got := n.host[gsoNoGSO].Discard(); got != 1 {
			t.Fatalf("payload %d: %d frames before resolution, want the ARP request", payload, got)
		}
		n.nic[gsoNoGSO].Neighbors(stack.IPv4ProtocolNumber).AddStatic(netip.AddrFrom4([4]byte{198, 18, 2, 3}), gsoHostMAC(gsoNoGSO))
		want := refSegment(net, l4, hl, p.mss, false, gsoNoGSO)
		got := n.host[gsoNoGSO].DrainBytes()
		if len(got) != len(want) {
			t.Fatalf("payload %d: got %d segments, want %d", payload, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("payload %d: segment %d differs:\n got %x\nwant %x", payload, i, got[i], want[i])
			}
		}
	}
}

// TestGSOPassThrough: a link that takes GSO gets the super-packet whole,
// TTL decremented, metadata intact, nothing counted as segmented.
func TestGSOPassThrough(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		n := newGSONet(t, 0)
		p := superSpec{v6: v6, egress: gsoCapable, mss: 1400, payload: 30000, df: true, needsCsum: true}
		net, g, _, _ := p.build()
		n.inject(t, net, g)
		pkts := n.host[gsoCapable].Drain()
		if len(pkts) != 1 {
			t.Fatalf("v6=%v: got %d frames, want the super-packet", v6, len(pkts))
		}
		got := pkts[0]
		if got.GSO != g {
			t.Errorf("v6=%v: GSO %+v, want %+v", v6, got.GSO, g)
		}
		d := append([]byte(nil), got.Data()[14:]...)
		got.Release()
		wantNet := append([]byte(nil), net...)
		if v6 {
			wantNet[7]--
		} else {
			header.IPv4(wantNet).DecrementTTL()
		}
		if !bytes.Equal(d, wantNet) {
			t.Errorf("v6=%v: super-packet changed beyond its TTL", v6)
		}
		if s := n.nic[gsoCapable].Stats(); s.TXGSOSegmented != 0 || s.TXGSOSegments != 0 {
			t.Errorf("v6=%v: NIC stats %+v", v6, s)
		}
	}
}

// TestGSOSegmentTooBig: a segment larger than the egress MTU is handled
// like a packet of that size: Fragmentation Needed or Packet Too Big with
// the MTU, nothing sent on.
func TestGSOSegmentTooBig(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		n := newGSONet(t, 1280)
		p := superSpec{v6: v6, egress: gsoNoGSO, mss: 1448, payload: 20000, df: true, needsCsum: true}
		net, g, _, _ := p.build()
		n.inject(t, net, g)
		if q := n.host[gsoNoGSO].Queued(); q != 0 {
			t.Errorf("v6=%v: %d frames sent on, want none", v6, q)
		}
		back := n.host[gsoIn].DrainBytes()
		if len(back) != 1 {
			t.Fatalf("v6=%v: host 1 got %d frames, want one ICMP error", v6, len(back))
		}
		b := back[0][14:]
		if v6 {
			icmp := b[40:]
			if b[6] != 58 || icmp[0] != byte(header.ICMPv6PacketTooBig) || binary.BigEndian.Uint32(icmp[4:]) != 1280 {
				t.Errorf("v6: got %x, want Packet Too Big with MTU 1280", b[:48])
			}
		} else {
			icmp := b[20:]
			if b[9] != 1 || icmp[0] != 3 || icmp[1] != byte(header.ICMPv4FragmentationNeeded) || binary.BigEndian.Uint16(icmp[6:]) != 1280 {
				t.Errorf("v4: got %x, want Fragmentation Needed with MTU 1280", b[:28])
			}
		}
		s := n.ipStats(gsoIn, v6)
		if s.Drops[stack.DropPacketTooBig] != 1 || s.TotalDrops() != 1 || s.Forwarded != 0 {
			t.Errorf("v6=%v: drops %v, Forwarded %d; want one packet_too_big", v6, s.Drops, s.Forwarded)
		}
	}
	// The same super-packet whose segments fit 1280 goes through.
	n := newGSONet(t, 1280)
	p := superSpec{egress: gsoNoGSO, mss: 1240, payload: 20000, df: true, needsCsum: true}
	net, g, l4, hl := p.build()
	n.inject(t, net, g)
	if got, want := n.host[gsoNoGSO].Queued(), len(refSegment(net, l4, hl, p.mss, false, gsoNoGSO)); got != want {
		t.Errorf("MTU 1280, MSS 1240: %d frames, want %d", got, want)
	}
}

// TestGSOSegmentMalformed: super-packets whose headers contradict their
// metadata are dropped and counted once, as gso_unsupported.
func TestGSOSegmentMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    superSpec
		mod  func(net []byte, g *stack.GSO)
	}{
		{"zero gso_size", superSpec{mss: 1448, payload: 5000}, func(_ []byte, g *stack.GSO) { g.MSS = 0 }},
		{"TCPv4 type on UDP", superSpec{udp: true, mss: 1448, payload: 5000}, func(_ []byte, g *stack.GSO) { g.Type = stack.GSOTCPv4 }},
		{"TCPv6 type on IPv4", superSpec{mss: 1448, payload: 5000}, func(_ []byte, g *stack.GSO) { g.Type = stack.GSOTCPv6 }},
		{"TCPv4 type on IPv6", superSpec{v6: true, mss: 1448, payload: 5000}, func(_ []byte, g *stack.GSO) { g.Type = stack.GSOTCPv4 }},
		{"TCP data offset past the end", superSpec{mss: 1448, payload: 0}, func(net []byte, _ *stack.GSO) { net[20+12] = 0xf0 }},
	} {
		for _, e := range []int{gsoNoGSO, gsoCapable} {
			t.Run(fmt.Sprintf("%s/NIC%d", tc.name, e), func(t *testing.T) {
				n := newGSONet(t, 0)
				p := tc.p
				p.egress, p.df = e, true
				net, g, _, _ := p.build()
				tc.mod(net, &g)
				n.inject(t, net, g)
				if q := n.host[e].Queued(); q != 0 {
					t.Errorf("%d frames sent on, want none", q)
				}
				s := n.ipStats(gsoIn, p.v6)
				if s.Drops[stack.DropGSOUnsupported] != 1 || s.TotalDrops() != 1 {
					t.Errorf("drops %v, want one gso_unsupported", s.Drops)
				}
			})
		}
	}
}

// TestChecksumNotReadyCompleted: a frame without GSO whose L4 checksum is
// not ready (CHECKSUM_PARTIAL from a local Linux sender) gets it completed
// on a link without TX checksum offload, and is left to a link with it.
func TestChecksumNotReadyCompleted(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    superSpec
	}{
		{"TCPv4", superSpec{payload: 1000, df: true}},
		{"TCPv6", superSpec{v6: true, payload: 1001}},
		{"UDPv4", superSpec{udp: true, payload: 555}},
		{"UDPv6", superSpec{v6: true, udp: true, payload: 1200}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newGSONet(t, 0)
			for _, e := range []int{gsoNoGSO, gsoCapable} {
				p := tc.p
				p.egress, p.mss, p.needsCsum = e, 1448, true
				net, g, l4, hl := p.build()
				g.Type, g.MSS, g.HdrLen = stack.GSONone, 0, 0
				n.inject(t, net, g)
				pkts := n.host[e].Drain()
				if len(pkts) != 1 {
					t.Fatalf("NIC %d: got %d frames, want 1", e, len(pkts))
				}
				got := append([]byte(nil), pkts[0].Data()...)
				gotGSO := pkts[0].GSO
				pkts[0].Release()
				if e == gsoNoGSO {
					// Completed: exactly the reference's one segment.
					want := refSegment(net, l4, hl, max(1, p.payload), p.udp, e)[0]
					if !bytes.Equal(got, want) {
						t.Errorf("NIC %d:\n got %x\nwant %x", e, got, want)
					}
					if gotGSO.NeedsCsum {
						t.Errorf("NIC %d: still marked NeedsCsum", e)
					}
				} else {
					off := 14 + int(g.CsumStart) + int(g.CsumOffset)
					if !bytes.Equal(got[off:off+2], net[off-14:off-12]) || !gotGSO.NeedsCsum {
						t.Errorf("NIC %d (TX checksum offload): checksum touched or mark lost", e)
					}
				}
			}
		})
	}
}

// TestGSOSegmentAllocs: segmenting a 64 KiB super-packet into 46 frames
// allocates nothing once the frame pool is warm.
func TestGSOSegmentAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("warms a leak-check pool past its quarantine")
	}
	if gsoRaceEnabled {
		t.Skip("sync.Pool drops frames at random under the race detector")
	}
	for _, p := range []superSpec{
		{mss: 1448, payload: 45*1448 + 300, df: true, needsCsum: true, flags: header.TCPFlagPSH},
		{v6: true, mss: 1428, payload: 45*1428 + 300, needsCsum: true, flags: header.TCPFlagPSH},
		{udp: true, mss: 1472, payload: 40 * 1472, needsCsum: true},
	} {
		n := newGSONet(t, 0)
		p.egress = gsoNoGSO
		net, g, _, _ := p.build()
		run := func() {
			n.inject(t, net, g)
			if n.host[gsoNoGSO].Discard() == 0 {
				t.Fatal("nothing forwarded")
			}
		}
		// The leak-check quarantine holds LeakCheckQuarantine released
		// frames back before the pool reuses any.
		for range stack.LeakCheckQuarantine/40 + 10 {
			run()
		}
		if a := testing.AllocsPerRun(200, run); a != 0 {
			t.Errorf("v6=%v udp=%v: %v allocations per super-packet, want 0", p.v6, p.udp, a)
		}
	}
}

// FuzzGSOSegment compares the router's segments with refSegment over
// gso_size, payload length, flags, both IP versions and TCP and UDP.
func FuzzGSOSegment(f *testing.F) {
	f.Add(false, false, uint16(1448), uint16(65000), uint8(header.TCPFlagPSH|header.TCPFlagCWR), true, uint32(1))
	f.Add(true, false, uint16(1428), uint16(1429), uint8(header.TCPFlagFIN), false, uint32(0xffffffff))
	f.Add(false, true, uint16(1472), uint16(10000), uint8(0), true, uint32(0))
	f.Add(true, true, uint16(1), uint16(900), uint8(0), true, uint32(0))
	f.Add(false, false, uint16(1461), uint16(3000), uint8(0xff), true, uint32(5)) // segment 1501 > MTU
	f.Fuzz(func(t *testing.T, v6, udp bool, mss, payload uint16, flags uint8, needsCsum bool, seq uint32) {
		p := superSpec{v6: v6, udp: udp, egress: gsoNoGSO, mss: int(mss), payload: int(payload), df: true,
			flags: flags &^ (header.TCPFlagSYN | header.TCPFlagRST), needsCsum: needsCsum, seq: seq, id: uint16(seq)}
		if p.mss == 0 {
			p.mss = 1
		}
		hdr := 40
		if v6 {
			hdr = 60
		}
		p.payload = min(p.payload, 65535-hdr)
		// Keep a run short: at most about 512 segments.
		p.mss = max(p.mss, p.payload/512+1)
		n := newGSONet(t, 0)
		net, g, l4, hl := p.build()
		txBefore := n.nic[gsoNoGSO].Stats().TXFrames
		n.inject(t, net, g)
		seg := hl + min(p.mss, p.payload)
		if seg > 1500 {
			if q := n.host[gsoNoGSO].Queued(); q != 0 {
				t.Fatalf("segment of %d bytes: %d frames sent past MTU 1500", seg, q)
			}
			if d := n.ipStats(gsoIn, v6).Drops[stack.DropPacketTooBig]; d != 1 {
				t.Fatalf("segment of %d bytes: packet_too_big = %d, want 1", seg, d)
			}
			return
		}
		want := refSegment(net, l4, hl, p.mss, udp, gsoNoGSO)
		got := n.host[gsoNoGSO].DrainBytes()
		if len(got) != len(want) {
			t.Fatalf("got %d segments, want %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("segment %d of %d:\n got %x\nwant %x", i, len(want), got[i], want[i])
			}
		}
		if s := n.nic[gsoNoGSO].Stats(); s.TXFrames-txBefore != uint64(len(want)) || s.TXGSOSegments != uint64(len(want)) {
			t.Fatalf("NIC stats %+v, want %d frames", s, len(want))
		}
	})
}

// BenchmarkGSOSegment forwards a 64 KiB TCP super-packet (46 segments at
// MSS 1448) from a GSO link to one without GSO: receive, route, segment,
// one WritePackets.
func BenchmarkGSOSegment(b *testing.B) {
	n := newGSONet(b, 0)
	p := superSpec{egress: gsoNoGSO, mss: 1448, payload: 45*1448 + 300, df: true, needsCsum: true, flags: header.TCPFlagPSH}
	net, g, _, _ := p.build()
	b.SetBytes(int64(len(net)))
	b.ReportAllocs()
	for b.Loop() {
		n.inject(b, net, g)
		n.host[gsoNoGSO].Discard()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/46, "ns/segment")
}
