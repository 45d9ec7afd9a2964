package ipv4_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"testing"

	"github.com/nexthop-router/nexthop/arp"
	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/ipv4"
	"github.com/nexthop-router/nexthop/link/memlink"
	"github.com/nexthop-router/nexthop/stack"
)

func TestMain(m *testing.M) { os.Exit(stack.RunTestsWithLeakCheck(m)) }

// The test topology: the router has NIC i (1…3) with address 198.18.i.1/24
// and MAC 02:00:00:00:0i:01; one host sits behind each NIC at 198.18.i.2
// with MAC 02:00:00:00:0i:02. 198.19.0.0/16 is routed via host 2, and
// 198.19.1.0/24, .2.0/24, .3.0/24 are blackhole, unreachable and prohibit.
const numNICs = 3

func routerMAC(i int) stack.LinkAddress { return stack.LinkAddress{2, 0, 0, 0, byte(i), 1} }
func hostMAC(i int) stack.LinkAddress   { return stack.LinkAddress{2, 0, 0, 0, byte(i), 2} }
func routerIP(i int) [4]byte            { return [4]byte{198, 18, byte(i), 1} }
func hostIP(i int) [4]byte              { return [4]byte{198, 18, byte(i), 2} }

var (
	remoteIP      = [4]byte{198, 19, 7, 9}  // routed via host 2
	blackholeIP   = [4]byte{198, 19, 1, 9}  // blackhole route
	unreachableIP = [4]byte{198, 19, 2, 9}  // unreachable route
	prohibitIP    = [4]byte{198, 19, 3, 9}  // prohibit route
	unroutedIP    = [4]byte{203, 0, 113, 5} // no route
)

type netOpts struct {
	ipv4    ipv4.Options
	mtu     [numNICs + 1]uint32 // 0 = 1500
	dynamic [numNICs + 1]bool   // no static neighbour entry for host i
	nud     stack.NUDConfig
	// hostQueue bounds host i's receive queue (memlink RXQueueLen); 0
	// means memlink's default.
	hostQueue [numNICs + 1]int
}

type testNet struct {
	t      testing.TB
	clock  *stack.FakeClock
	s      *stack.Stack
	w      *stack.Worker
	nics   [numNICs + 1]*stack.NIC
	router [numNICs + 1]*memlink.Endpoint
	host   [numNICs + 1]*memlink.Endpoint
}

func newNet(t testing.TB, o netOpts) *testNet {
	t.Helper()
	n := &testNet{t: t, clock: stack.NewFakeClock()}
	n.s = stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{ipv4.NewProtocolWithOptions(o.ipv4), arp.NewProtocol},
		Clock:            n.clock,
		NUD:              o.nud,
	})
	for i := 1; i <= numNICs; i++ {
		r, h := memlink.NewPair(
			memlink.Options{LinkAddress: routerMAC(i), MTU: o.mtu[i]},
			memlink.Options{LinkAddress: hostMAC(i), MTU: o.mtu[i], RXQueueLen: o.hostQueue[i]},
		)
		nic, err := n.s.CreateNIC(stack.NICID(i), "eth"+string(rune('0'+i)), r)
		if err != nil {
			t.Fatalf("CreateNIC %d: %v", i, err)
		}
		if err := nic.AddAddress(netip.PrefixFrom(netip.AddrFrom4(routerIP(i)), 24)); err != nil {
			t.Fatalf("AddAddress on NIC %d: %v", i, err)
		}
		if !o.dynamic[i] {
			nic.Neighbors(stack.IPv4ProtocolNumber).AddStatic(netip.AddrFrom4(hostIP(i)), hostMAC(i))
		}
		n.nics[i], n.router[i], n.host[i] = nic, r, h
	}
	for i := 1; i <= numNICs; i++ {
		if err := n.nics[i].Enable(); err != nil {
			t.Fatalf("Enable NIC %d: %v", i, err)
		}
		n.host[i].Discard() // gratuitous ARP
	}
	routes := []stack.Route{
		{Prefix: netip.MustParsePrefix("198.19.0.0/16"), NextHops: []stack.NextHop{{Gateway: netip.AddrFrom4(hostIP(2)), NIC: 2}}},
		{Prefix: netip.MustParsePrefix("198.19.1.0/24"), Type: stack.RouteBlackhole},
		{Prefix: netip.MustParsePrefix("198.19.2.0/24"), Type: stack.RouteUnreachable},
		{Prefix: netip.MustParsePrefix("198.19.3.0/24"), Type: stack.RouteProhibit},
	}
	for _, r := range routes {
		if err := n.s.Routes().Add(r); err != nil {
			t.Fatalf("add route %v: %v", r.Prefix, err)
		}
	}
	w, err := n.s.NewWorker()
	if err != nil {
		t.Fatal(err)
	}
	n.w = w
	t.Cleanup(n.checkLeaks)
	return n
}

// checkLeaks releases whatever the hosts still hold and asserts that every
// frame went back to its pool.
func (n *testNet) checkLeaks() {
	for i := 1; i <= numNICs; i++ {
		n.host[i].Discard()
		n.router[i].Discard()
	}
	for _, nic := range n.nics[1:] {
		nic.Neighbors(stack.IPv4ProtocolNumber).Flush()
	}
	if o := n.s.Frames().Outstanding(); o != 0 {
		n.t.Errorf("stack frame pool: %d frames leaked", o)
	}
	for i := 1; i <= numNICs; i++ {
		if o := n.host[i].Frames().Outstanding(); o != 0 {
			n.t.Errorf("memlink pool of NIC %d: %d frames leaked", i, o)
		}
	}
}

// inject sends frames from host i to the router and runs the router.
func (n *testNet) inject(i int, frames ...[]byte) {
	n.t.Helper()
	for _, f := range frames {
		if err := n.host[i].WriteFrame(f); err != nil {
			n.t.Fatalf("inject on NIC %d: %v", i, err)
		}
	}
	n.router[i].PollAll(n.w)
}

// out returns (and releases) what the router sent to host i.
func (n *testNet) out(i int) [][]byte { return n.host[i].DrainBytes() }

func (n *testNet) ep(i int) *ipv4.Endpoint {
	return n.nics[i].NetworkEndpoint(stack.IPv4ProtocolNumber).(*ipv4.Endpoint)
}

func (n *testNet) arpEP(i int) *arp.Endpoint {
	return n.nics[i].NetworkEndpoint(stack.ARPProtocolNumber).(*arp.Endpoint)
}

func (n *testNet) totalICMP() ipv4.ICMPStats {
	var s ipv4.ICMPStats
	for i := 1; i <= numNICs; i++ {
		st := n.ep(i).ICMPStats()
		s.Add(&st)
	}
	return s
}

// wantOnlyDrop asserts that drop reason r (or none, for r < 0) counted
// exactly want packets and every other reason none.
func wantOnlyDrop(t testing.TB, s stack.IPStats, r int, want uint64) {
	t.Helper()
	for i := stack.DropReason(0); i < stack.NumDropReasons; i++ {
		got := s.Drops[i]
		exp := uint64(0)
		if int(i) == r {
			exp = want
		}
		if got != exp {
			t.Errorf("drop counter %v = %d, want %d", i, got, exp)
		}
	}
}

// ipFields is a convenience for building test packets.
type pktSpec struct {
	src, dst [4]byte
	ttl      uint8
	proto    uint8
	flags    uint8
	fragOff  uint16
	id       uint16
	tos      uint8
	options  []byte
	payload  []byte
}

// build returns the IPv4 packet of p with a correct checksum.
func (p pktSpec) build() []byte {
	hl := header.IPv4MinimumSize + (len(p.options)+3)&^3
	b := make([]byte, hl+len(p.payload))
	proto := p.proto
	if proto == 0 {
		proto = header.IPv4ProtocolUDP
	}
	header.EncodeIPv4(b, header.IPv4Fields{
		TOS: p.tos, TotalLength: uint16(len(b)), ID: p.id, Flags: p.flags, FragmentOffset: p.fragOff,
		TTL: p.ttl, Protocol: proto, Src: p.src, Dst: p.dst, Options: p.options,
	})
	copy(b[hl:], p.payload)
	return b
}

// udpPayload is an 8-byte UDP header (checksum zero: not computed, which
// UDP over IPv4 allows) followed by n bytes of a counting pattern.
func udpPayload(n int) []byte {
	b := make([]byte, 8+n)
	binary.BigEndian.PutUint16(b[0:], 40000)
	binary.BigEndian.PutUint16(b[2:], 9)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
	for i := range n {
		b[8+i] = byte(i)
	}
	return b
}

// echoRequest is an ICMP echo request with id, seq and data.
func echoRequest(id, seq uint16, data []byte) []byte {
	b := make([]byte, 8+len(data))
	copy(b[8:], data)
	header.EncodeICMPv4(b, header.ICMPv4Echo, 0, uint32(id)<<16|uint32(seq))
	return b
}

func eth(dst, src stack.LinkAddress, etherType uint16, payload []byte) []byte {
	b := make([]byte, header.EthernetMinimumSize+len(payload))
	header.EncodeEthernet(b, dst, src, etherType)
	copy(b[header.EthernetMinimumSize:], payload)
	return b
}

// fromHost frames an IPv4 packet as host i sends it to the router.
func fromHost(i int, ip []byte) []byte {
	return eth(routerMAC(i), hostMAC(i), header.EtherTypeIPv4, ip)
}

// toHost frames an IPv4 packet as the router sends it to host i.
func toHost(i int, ip []byte) []byte {
	return eth(hostMAC(i), routerMAC(i), header.EtherTypeIPv4, ip)
}

// forwarded returns ip as the router must forward it: TTL one less, the
// checksum recomputed from scratch (the router updates it incrementally).
func forwarded(ip []byte) []byte {
	b := bytes.Clone(ip)
	h := header.IPv4(b)
	h.SetTTL(h.TTL() - 1)
	h.UpdateChecksum()
	return b
}

// icmpError is the ICMP error the router must send from src to the source
// of orig: TOS 0xc0, TTL 64, the given IP ID (the router's counter), and as
// much of orig as fits in 576 bytes.
func icmpError(id uint16, src [4]byte, orig []byte, t header.ICMPv4Type, c header.ICMPv4Code, rest uint32) []byte {
	q := min(len(orig), 576-28)
	b := make([]byte, 28+q)
	header.EncodeIPv4(b, header.IPv4Fields{
		TOS: 0xc0, TotalLength: uint16(len(b)), ID: id, TTL: 64, Protocol: header.IPv4ProtocolICMP,
		Src: src, Dst: header.IPv4(orig).SourceAddress(),
	})
	copy(b[28:], orig[:q])
	header.EncodeICMPv4(b[20:], t, c, rest)
	return b
}

// ipID reads the IP Identification of an Ethernet frame carrying IPv4.
func ipID(frame []byte) uint16 {
	if len(frame) < 14+20 {
		return 0
	}
	return header.IPv4(frame[14:]).ID()
}
