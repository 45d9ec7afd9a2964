package ipv6_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/ipv6"
	"github.com/nexthop-router/nexthop/link/memlink"
	"github.com/nexthop-router/nexthop/stack"
)

// The test network: host1 — [NIC 1] router [NIC 2] — host2, and a remote
// network 2001:db8:99::/48 behind host2.
var (
	rMAC1 = stack.LinkAddress{0x02, 0, 0, 0, 1, 1}
	hMAC1 = stack.LinkAddress{0x02, 0, 0, 0, 1, 2}
	rMAC2 = stack.LinkAddress{0x02, 0, 0, 0, 2, 1}
	hMAC2 = stack.LinkAddress{0x02, 0, 0, 0, 2, 2}

	rAddr1  = netip.MustParseAddr("2001:db8:1::1")
	hAddr1  = netip.MustParseAddr("2001:db8:1::2")
	rAddr2  = netip.MustParseAddr("2001:db8:2::1")
	hAddr2  = netip.MustParseAddr("2001:db8:2::2")
	remote  = netip.MustParseAddr("2001:db8:99::1")
	hLL1    = netip.MustParseAddr("fe80::2")
	rLL1    = netip.MustParseAddr("fe80::ff:fe00:101") // EUI-64 of rMAC1
	rLL2    = netip.MustParseAddr("fe80::ff:fe00:201")
	noRoute = netip.MustParseAddr("2001:db8:77::1")
)

type router struct {
	t     *testing.T
	s     *stack.Stack
	clock *stack.FakeClock
	w     *stack.Worker
	nic   [3]*stack.NIC
	rt    [3]*memlink.Endpoint // router ends, by NICID
	host  [3]*memlink.Endpoint // host ends, by NICID
	// announce is what host id saw when its NIC came up: the unsolicited
	// Neighbor Advertisements of Enable. newRouter takes them off the
	// link so tests start from a quiet one; announced counts them.
	announce [3][][]byte
}

// announced is the number of unsolicited Neighbor Advertisements NIC id
// sent when it was enabled; they count in its NDP and ICMPv6 stats.
func (r *router) announced(id int) uint64 { return uint64(len(r.announce[id])) }

type routerConfig struct {
	opts     ipv6.Options
	mtu2     uint32 // NIC 2's MTU; 0 means 1500
	noStatic bool   // no static neighbours: NDP resolves them
}

func newRouter(t *testing.T, cfg routerConfig) *router {
	t.Helper()
	r := &router{t: t, clock: stack.NewFakeClock()}
	r.s = stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{ipv6.NewProtocolWithOptions(cfg.opts)},
		Clock:            r.clock,
	})
	macs := [3][2]stack.LinkAddress{{}, {rMAC1, hMAC1}, {rMAC2, hMAC2}}
	addrs := [3]string{"", "2001:db8:1::1/64", "2001:db8:2::1/64"}
	for id := 1; id <= 2; id++ {
		mtu := uint32(0)
		if id == 2 {
			mtu = cfg.mtu2
		}
		a, b := memlink.NewPair(memlink.Options{LinkAddress: macs[id][0], MTU: mtu}, memlink.Options{LinkAddress: macs[id][1], MTU: mtu})
		nic, err := r.s.CreateNIC(stack.NICID(id), "eth"+string(rune('0'+id)), a)
		if err != nil {
			t.Fatalf("s.CreateNIC(%d, _): %v", id, err)
		}
		if err := nic.AddAddress(netip.MustParsePrefix(addrs[id])); err != nil {
			t.Fatalf("nic.AddAddress(%s): %v", addrs[id], err)
		}
		if err := nic.Enable(); err != nil {
			t.Fatalf("nic.Enable(): %v", err)
		}
		r.nic[id], r.rt[id], r.host[id] = nic, a, b
		r.announce[id] = b.DrainBytes()
	}
	if !cfg.noStatic {
		r.nic[1].Neighbors(stack.IPv6ProtocolNumber).AddStatic(hAddr1, hMAC1)
		r.nic[1].Neighbors(stack.IPv6ProtocolNumber).AddStatic(hLL1, hMAC1)
		r.nic[2].Neighbors(stack.IPv6ProtocolNumber).AddStatic(hAddr2, hMAC2)
	}
	if err := r.s.Routes().Add(stack.Route{
		Prefix:   netip.MustParsePrefix("2001:db8:99::/48"),
		NextHops: []stack.NextHop{{Gateway: hAddr2, NIC: 2}},
	}); err != nil {
		t.Fatalf("Routes().Add: %v", err)
	}
	w, err := r.s.NewWorker()
	if err != nil {
		t.Fatalf("s.NewWorker(): %v", err)
	}
	r.w = w
	t.Cleanup(r.checkLeaks)
	return r
}

// checkLeaks releases what tests left queued and asserts every frame of
// every pool came back.
func (r *router) checkLeaks() {
	for id := 1; id <= 2; id++ {
		r.nic[id].Neighbors(stack.IPv6ProtocolNumber).Flush()
		r.host[id].Discard()
		r.rt[id].Discard()
	}
	for id := 1; id <= 2; id++ {
		if n := r.rt[id].Frames().Outstanding(); n != 0 {
			r.t.Errorf("memlink pair %d: %d frames outstanding", id, n)
		}
	}
	if n := r.s.Frames().Outstanding(); n != 0 {
		r.t.Errorf("s.Frames(): %d frames outstanding", n)
	}
	if d, l := stack.OwnershipErrors(); d+l != 0 {
		r.t.Errorf("ownership errors: %d double releases, %d reused live", d, l)
	}
}

// inject sends frames from host id to the router and runs the router.
func (r *router) inject(id int, frames ...[]byte) {
	r.t.Helper()
	for _, f := range frames {
		if err := r.host[id].WriteFrame(f); err != nil {
			r.t.Fatalf("host%d.WriteFrame: %v", id, err)
		}
	}
	r.rt[id].PollAll(r.w)
}

func (r *router) ep(id int) *ipv6.Endpoint {
	return r.nic[id].NetworkEndpoint(stack.IPv6ProtocolNumber).(*ipv6.Endpoint)
}

// tick advances the fake clock and runs the stack's timers.
func (r *router) tick(d time.Duration) {
	r.clock.Advance(d)
	r.s.Tick()
}

// pkt describes a test frame.
type pkt struct {
	ethDst   stack.LinkAddress // zero: the router's MAC on NIC 1
	ethSrc   stack.LinkAddress // zero: host1's MAC
	src, dst netip.Addr
	hop      uint8 // 0 means 64; use hop0 for a real 0
	hop0     bool
	next     uint8
	payload  []byte // everything after the fixed header
	lenDelta int    // added to Payload Length (a lying length)
	pad      int    // link padding after the packet
	version  uint8  // 0 means 6
}

func (p pkt) frame() []byte {
	eDst, eSrc := p.ethDst, p.ethSrc
	if eDst == (stack.LinkAddress{}) {
		eDst = rMAC1
	}
	if eSrc == (stack.LinkAddress{}) {
		eSrc = hMAC1
	}
	hop := p.hop
	if hop == 0 && !p.hop0 {
		hop = 64
	}
	b := make([]byte, header.EthernetMinimumSize+header.IPv6MinimumSize+len(p.payload)+p.pad)
	header.EncodeEthernet(b, eDst, eSrc, header.EtherTypeIPv6)
	ip := b[header.EthernetMinimumSize:]
	header.EncodeIPv6(ip, header.IPv6Fields{
		PayloadLength: uint16(len(p.payload) + p.lenDelta),
		NextHeader:    p.next,
		HopLimit:      hop,
		Src:           p.src.As16(),
		Dst:           p.dst.As16(),
		FlowLabel:     0x12345,
	})
	if p.version != 0 {
		ip[0] = p.version<<4 | ip[0]&0x0f
	}
	copy(ip[header.IPv6MinimumSize:], p.payload)
	return b
}

// udp is a UDP datagram with n bytes of data (checksum left zero: the
// router never looks at it).
func udp(n int) []byte {
	b := make([]byte, 8+n)
	binary.BigEndian.PutUint16(b[0:], 40000)
	binary.BigEndian.PutUint16(b[2:], 33434)
	binary.BigEndian.PutUint16(b[4:], uint16(8+n))
	for i := range n {
		b[8+i] = byte(i)
	}
	return b
}

// icmp builds an ICMPv6 message with a valid checksum for src→dst.
func icmp(typ header.ICMPv6Type, code header.ICMPv6Code, rest uint32, data []byte, src, dst netip.Addr) []byte {
	b := make([]byte, header.ICMPv6MinimumSize+len(data))
	copy(b[8:], data)
	header.EncodeICMPv6(b, typ, code, rest, src.As16(), dst.As16())
	return b
}

func echo(src, dst netip.Addr) pkt {
	return pkt{src: src, dst: dst, next: header.IPv6ProtocolICMPv6,
		payload: icmp(header.ICMPv6EchoRequest, 0, 0x1234_0001, []byte("nexthop-ping-data"), src, dst)}
}

// hbh builds a Hop-by-Hop Options header (next header nh) holding opts,
// padded with PadN to a multiple of 8.
func hbh(nh uint8, opts ...byte) []byte {
	b := append([]byte{nh, 0}, opts...)
	if pad := (8 - len(b)%8) % 8; pad == 1 {
		b = append(b, 0)
	} else if pad > 1 {
		b = append(b, 1, byte(pad-2))
		b = append(b, make([]byte, pad-2)...)
	}
	b[1] = byte(len(b)/8 - 1)
	return b
}

// out is one parsed frame the router sent.
type out struct {
	raw  []byte
	eth  header.Ethernet
	ip   header.IPv6
	icmp header.ICMPv6 // nil unless Next Header is ICMPv6
}

// drain returns what the router sent to host id, checking every frame's
// IPv6 header and ICMPv6 checksum.
func (r *router) drain(id int) []out {
	r.t.Helper()
	var res []out
	for _, f := range r.host[id].DrainBytes() {
		o := out{raw: f, eth: header.Ethernet(f)}
		if err := header.ValidateEthernet(f); err != nil {
			r.t.Fatalf("host%d got a runt frame % x", id, f)
		}
		if o.eth.EtherType() != header.EtherTypeIPv6 {
			r.t.Fatalf("host%d got EtherType %#04x", id, o.eth.EtherType())
		}
		ip := f[header.EthernetMinimumSize:]
		if err := header.ValidateIPv6(ip); err != nil {
			r.t.Fatalf("host%d got a bad IPv6 packet: %v", id, err)
		}
		o.ip = header.IPv6(ip[:header.IPv6MinimumSize+int(header.IPv6(ip).PayloadLength())])
		if o.ip.NextHeader() == header.IPv6ProtocolICMPv6 {
			o.icmp = header.ICMPv6(o.ip.Payload())
			// Only what the router originated; forwarded messages keep
			// their sender's checksum, right or wrong.
			if r.s.NICWithAddress(o.ip.SrcAddr()) != nil && !o.icmp.IsChecksumValid(o.ip.SourceAddress(), o.ip.DestinationAddress()) {
				r.t.Errorf("host%d: ICMPv6 type %d has a bad checksum", id, o.icmp.Type())
			}
		}
		res = append(res, o)
	}
	return res
}

// dropCounts is a set of expected drop counters.
type dropCounts map[stack.DropReason]uint64

// checkDrops asserts exactly the wanted drop counters moved on s.
func checkDrops(t *testing.T, where string, s stack.IPStats, want dropCounts) {
	t.Helper()
	for r := stack.DropReason(0); r < stack.NumDropReasons; r++ {
		if s.Drops[r] != want[r] {
			t.Errorf("%s: Drops[%s] = %d, want %d", where, r, s.Drops[r], want[r])
		}
	}
}

func (p pkt) withEthSrc(mac stack.LinkAddress) pkt {
	p.ethSrc = mac
	return p
}
