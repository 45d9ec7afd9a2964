package arp_test

import (
	"bytes"
	"net/netip"
	"os"
	"testing"

	"github.com/nexthop-router/nexthop/arp"
	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/ipv4"
	"github.com/nexthop-router/nexthop/link/memlink"
	"github.com/nexthop-router/nexthop/stack"
)

func TestMain(m *testing.M) {
	stack.SetLeakCheck(true)
	os.Exit(m.Run())
}

var (
	routerMAC = stack.LinkAddress{2, 0, 0, 0, 1, 1}
	hostMAC   = stack.LinkAddress{2, 0, 0, 0, 1, 2}
	otherMAC  = stack.LinkAddress{2, 0, 0, 0, 1, 3}
	routerIP  = [4]byte{198, 18, 1, 1}
	hostIP    = [4]byte{198, 18, 1, 2}
	otherIP   = [4]byte{198, 18, 1, 3}
)

type env struct {
	s      *stack.Stack
	w      *stack.Worker
	nic    *stack.NIC
	router *memlink.Endpoint
	host   *memlink.Endpoint
	// announce is what the host saw when the NIC came up.
	announce [][]byte
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{}
	e.s = stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		Clock:            stack.NewFakeClock(),
	})
	e.router, e.host = memlink.NewPair(memlink.Options{LinkAddress: routerMAC}, memlink.Options{LinkAddress: hostMAC})
	var err error
	if e.nic, err = e.s.CreateNIC(1, "eth1", e.router); err != nil {
		t.Fatal(err)
	}
	if err := e.nic.AddAddress(netip.PrefixFrom(netip.AddrFrom4(routerIP), 24)); err != nil {
		t.Fatal(err)
	}
	if err := e.nic.Enable(); err != nil {
		t.Fatal(err)
	}
	e.announce = e.host.DrainBytes()
	e.w, _ = e.s.NewWorker()
	t.Cleanup(func() {
		e.host.Discard()
		e.nic.Neighbors(stack.IPv4ProtocolNumber).Flush()
		if o := e.s.Frames().Outstanding(); o != 0 {
			t.Errorf("stack pool: %d frames leaked", o)
		}
		if o := e.host.Frames().Outstanding(); o != 0 {
			t.Errorf("memlink pool: %d frames leaked", o)
		}
	})
	return e
}

func (e *env) ep() *arp.Endpoint {
	return e.nic.NetworkEndpoint(stack.ARPProtocolNumber).(*arp.Endpoint)
}

func arpFrame(dst, src stack.LinkAddress, op uint16, sha stack.LinkAddress, spa [4]byte, tha stack.LinkAddress, tpa [4]byte) []byte {
	b := make([]byte, header.EthernetMinimumSize+header.ARPSize)
	header.EncodeEthernet(b, dst, src, header.EtherTypeARP)
	header.EncodeARP(b[header.EthernetMinimumSize:], op, sha, spa, tha, tpa)
	return b
}

func (e *env) inject(t *testing.T, f []byte) [][]byte {
	t.Helper()
	if err := e.host.WriteFrame(f); err != nil {
		t.Fatal(err)
	}
	e.router.PollAll(e.w)
	return e.host.DrainBytes()
}

// TestGratuitousARPOnEnable: enabling the NIC announces its address with a
// broadcast request whose sender and target are both that address.
func TestGratuitousARPOnEnable(t *testing.T) {
	e := newEnv(t)
	want := arpFrame(stack.BroadcastLinkAddress, routerMAC, header.ARPRequest, routerMAC, routerIP, stack.LinkAddress{}, routerIP)
	if len(e.announce) != 1 || !bytes.Equal(e.announce[0], want) {
		t.Fatalf("announcement %x, want %x", e.announce, want)
	}
	if st := e.ep().ARPStats(); st.GratuitousSent != 1 || st.RequestsSent != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestARPResponder covers requests and replies arriving at the router.
func TestARPResponder(t *testing.T) {
	padded := func(f []byte) []byte { return append(f, make([]byte, 60-len(f))...) }
	cases := []struct {
		name  string
		in    []byte
		want  [][]byte
		entry stack.NeighborState // expected state of hostIP afterwards (0: none)
		check func(t *testing.T, st arp.Stats)
	}{
		{
			name:  "request for our address is answered and teaches the sender",
			in:    padded(arpFrame(stack.BroadcastLinkAddress, hostMAC, header.ARPRequest, hostMAC, hostIP, stack.LinkAddress{}, routerIP)),
			want:  [][]byte{arpFrame(hostMAC, routerMAC, header.ARPReply, routerMAC, routerIP, hostMAC, hostIP)},
			entry: stack.NeighborStale,
			check: func(t *testing.T, st arp.Stats) {
				if st.RequestsReceived != 1 || st.RepliesSent != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "request for another host: no proxy ARP, nothing learned",
			in:   arpFrame(stack.BroadcastLinkAddress, hostMAC, header.ARPRequest, hostMAC, hostIP, stack.LinkAddress{}, otherIP),
			check: func(t *testing.T, st arp.Stats) {
				if st.Ignored != 1 || st.RepliesSent != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "unsolicited reply creates no entry",
			in:   arpFrame(routerMAC, hostMAC, header.ARPReply, hostMAC, hostIP, routerMAC, routerIP),
			check: func(t *testing.T, st arp.Stats) {
				if st.RepliesReceived != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "malformed (hardware type 6)",
			in: func() []byte {
				f := arpFrame(stack.BroadcastLinkAddress, hostMAC, header.ARPRequest, hostMAC, hostIP, stack.LinkAddress{}, routerIP)
				f[15] = 6
				return f
			}(),
			check: func(t *testing.T, st arp.Stats) {
				if st.Malformed != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "short",
			in:   arpFrame(stack.BroadcastLinkAddress, hostMAC, header.ARPRequest, hostMAC, hostIP, stack.LinkAddress{}, routerIP)[:40],
			check: func(t *testing.T, st arp.Stats) {
				if st.Malformed != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "sender claiming a broadcast MAC is ignored",
			in:   arpFrame(stack.BroadcastLinkAddress, hostMAC, header.ARPRequest, stack.BroadcastLinkAddress, hostIP, stack.LinkAddress{}, routerIP),
			check: func(t *testing.T, st arp.Stats) {
				if st.Ignored != 1 || st.RepliesSent != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			got := e.inject(t, tc.in)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d frames %x, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], tc.want[i]) {
					t.Errorf("frame %d:\n got %x\nwant %x", i, got[i], tc.want[i])
				}
			}
			c := e.nic.Neighbors(stack.IPv4ProtocolNumber)
			en, ok := c.Entry(netip.AddrFrom4(hostIP))
			if tc.entry == 0 && ok {
				t.Errorf("unexpected entry %+v", en)
			}
			if tc.entry != 0 && (en.State != tc.entry || en.LinkAddr != hostMAC) {
				t.Errorf("entry %+v, want %v at %v", en, tc.entry, hostMAC)
			}
			tc.check(t, e.ep().ARPStats())
		})
	}
}

// TestGratuitousARPRefreshesExistingEntry: an announcement from a known
// neighbour with a new MAC updates the entry (RFC 826 merge), and one from
// an unknown neighbour creates none.
func TestGratuitousARPRefreshesExistingEntry(t *testing.T) {
	e := newEnv(t)
	c := e.nic.Neighbors(stack.IPv4ProtocolNumber)
	e.inject(t, arpFrame(stack.BroadcastLinkAddress, hostMAC, header.ARPRequest, hostMAC, hostIP, stack.LinkAddress{}, routerIP))
	garp := arpFrame(stack.BroadcastLinkAddress, otherMAC, header.ARPRequest, otherMAC, hostIP, stack.LinkAddress{}, hostIP)
	if out := e.inject(t, garp); len(out) != 0 {
		t.Errorf("answered a gratuitous ARP: %x", out)
	}
	if en, _ := c.Entry(netip.AddrFrom4(hostIP)); en.LinkAddr != otherMAC || en.State != stack.NeighborStale {
		t.Errorf("entry %+v, want STALE at %v", en, otherMAC)
	}
	e.inject(t, arpFrame(stack.BroadcastLinkAddress, otherMAC, header.ARPRequest, otherMAC, otherIP, stack.LinkAddress{}, otherIP))
	if _, ok := c.Entry(netip.AddrFrom4(otherIP)); ok {
		t.Error("gratuitous ARP from an unknown host created an entry")
	}
}

// TestResolveStaticAddress maps broadcast and multicast without ARP.
func TestResolveStaticAddress(t *testing.T) {
	e := newEnv(t)
	if mac, ok := e.ep().ResolveStaticAddress(netip.MustParseAddr("255.255.255.255")); !ok || mac != stack.BroadcastLinkAddress {
		t.Errorf("broadcast -> %v %v", mac, ok)
	}
	if mac, ok := e.ep().ResolveStaticAddress(netip.MustParseAddr("239.129.2.3")); !ok || mac != (stack.LinkAddress{1, 0, 0x5e, 1, 2, 3}) {
		t.Errorf("multicast -> %v %v", mac, ok)
	}
	if _, ok := e.ep().ResolveStaticAddress(netip.AddrFrom4(hostIP)); ok {
		t.Error("unicast resolved statically")
	}
}
