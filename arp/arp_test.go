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

func TestMain(m *testing.M) { os.Exit(stack.RunTestsWithLeakCheck(m)) }

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
	offLinkIP := [4]byte{203, 0, 113, 9}
	cases := []struct {
		name  string
		in    []byte
		want  [][]byte
		entry stack.NeighborState // expected state of hostIP afterwards (0: none)
		// moved is the one receive counter the packet must land in.
		moved string
		check func(t *testing.T, st arp.Stats)
	}{
		{
			name:  "request for our address is answered and teaches the sender",
			in:    padded(arpFrame(stack.BroadcastLinkAddress, hostMAC, header.ARPRequest, hostMAC, hostIP, stack.LinkAddress{}, routerIP)),
			want:  [][]byte{arpFrame(hostMAC, routerMAC, header.ARPReply, routerMAC, routerIP, hostMAC, hostIP)},
			entry: stack.NeighborStale,
			moved: "RequestsReceived",
			check: func(t *testing.T, st arp.Stats) {
				if st.RequestsReceived != 1 || st.RepliesSent != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name:  "request for another host: no proxy ARP, nothing learned",
			in:    arpFrame(stack.BroadcastLinkAddress, hostMAC, header.ARPRequest, hostMAC, hostIP, stack.LinkAddress{}, otherIP),
			moved: "Ignored",
			check: func(t *testing.T, st arp.Stats) {
				if st.Ignored != 1 || st.RepliesSent != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name:  "unsolicited reply creates no entry",
			in:    arpFrame(routerMAC, hostMAC, header.ARPReply, hostMAC, hostIP, routerMAC, routerIP),
			moved: "RepliesReceived",
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
			moved: "Malformed",
			check: func(t *testing.T, st arp.Stats) {
				if st.Malformed != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name:  "short",
			in:    arpFrame(stack.BroadcastLinkAddress, hostMAC, header.ARPRequest, hostMAC, hostIP, stack.LinkAddress{}, routerIP)[:40],
			moved: "Malformed",
			check: func(t *testing.T, st arp.Stats) {
				if st.Malformed != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name:  "sender claiming a broadcast MAC is ignored",
			in:    arpFrame(stack.BroadcastLinkAddress, hostMAC, header.ARPRequest, stack.BroadcastLinkAddress, hostIP, stack.LinkAddress{}, routerIP),
			moved: "Ignored",
			check: func(t *testing.T, st arp.Stats) {
				if st.Ignored != 1 || st.RepliesSent != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name:  "request from an off-link sender is answered, nothing learned",
			in:    arpFrame(stack.BroadcastLinkAddress, otherMAC, header.ARPRequest, otherMAC, offLinkIP, stack.LinkAddress{}, routerIP),
			want:  [][]byte{arpFrame(otherMAC, routerMAC, header.ARPReply, routerMAC, routerIP, otherMAC, offLinkIP)},
			moved: "RequestsReceived",
		},
		{
			name:  "probe from 0.0.0.0 is answered, nothing learned",
			in:    arpFrame(stack.BroadcastLinkAddress, otherMAC, header.ARPRequest, otherMAC, [4]byte{}, stack.LinkAddress{}, routerIP),
			want:  [][]byte{arpFrame(otherMAC, routerMAC, header.ARPReply, routerMAC, routerIP, otherMAC, [4]byte{})},
			moved: "RequestsReceived",
		},
		{
			name:  "request from the subnet broadcast address is ignored",
			in:    arpFrame(stack.BroadcastLinkAddress, otherMAC, header.ARPRequest, otherMAC, [4]byte{198, 18, 1, 255}, stack.LinkAddress{}, routerIP),
			moved: "Ignored",
		},
		{
			name:  "reply from an off-link sender is ignored",
			in:    arpFrame(routerMAC, otherMAC, header.ARPReply, otherMAC, offLinkIP, routerMAC, routerIP),
			moved: "Ignored",
		},
		{
			name:  "reply from a loopback sender is ignored",
			in:    arpFrame(routerMAC, otherMAC, header.ARPReply, otherMAC, [4]byte{127, 0, 0, 1}, routerMAC, routerIP),
			moved: "Ignored",
		},
		{
			name:  "unknown operation is ignored",
			in:    arpFrame(stack.BroadcastLinkAddress, hostMAC, 9, hostMAC, hostIP, stack.LinkAddress{}, routerIP),
			moved: "Ignored",
		},
		{
			// Another station announces our address: a conflict. No
			// answer, nothing learned (an entry for our own address
			// would send our traffic to it).
			name:  "gratuitous ARP for our address is a conflict",
			in:    arpFrame(stack.BroadcastLinkAddress, otherMAC, header.ARPRequest, otherMAC, routerIP, stack.LinkAddress{}, routerIP),
			moved: "Conflicts",
		},
		{
			name:  "request from our address for a neighbour is a conflict",
			in:    arpFrame(stack.BroadcastLinkAddress, otherMAC, header.ARPRequest, otherMAC, routerIP, stack.LinkAddress{}, hostIP),
			moved: "Conflicts",
		},
		{
			name:  "reply claiming our address is a conflict",
			in:    arpFrame(routerMAC, otherMAC, header.ARPReply, otherMAC, routerIP, routerMAC, routerIP),
			moved: "Conflicts",
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
			wantEntries := 0
			if tc.entry != 0 {
				wantEntries = 1
			}
			if all := c.Entries(); len(all) != wantEntries {
				t.Errorf("neighbour entries %+v, want %d", all, wantEntries)
			}
			st := e.ep().ARPStats()
			checkOneCounter(t, st, tc.moved)
			checkIPStats(t, e.ep())
			if tc.check != nil {
				tc.check(t, st)
			}
		})
	}
}

// checkOneCounter asserts that of the receive counters exactly the one
// named moved counted the one packet.
func checkOneCounter(t *testing.T, st arp.Stats, moved string) {
	t.Helper()
	counters := map[string]uint64{
		"RequestsReceived": st.RequestsReceived,
		"RepliesReceived":  st.RepliesReceived,
		"Ignored":          st.Ignored,
		"Conflicts":        st.Conflicts,
		"Malformed":        st.Malformed,
		"Disabled":         st.Disabled,
	}
	if _, ok := counters[moved]; !ok {
		t.Fatalf("no receive counter %q", moved)
	}
	for name, v := range counters {
		want := uint64(0)
		if name == moved {
			want = 1
		}
		if v != want {
			t.Errorf("%s = %d, want %d", name, v, want)
		}
	}
}

// checkIPStats asserts the endpoint's IPStats add up: every received ARP
// packet is delivered, ignored or dropped for exactly one reason.
func checkIPStats(t *testing.T, ep *arp.Endpoint) {
	t.Helper()
	s, a := ep.Stats(), ep.ARPStats()
	if s.PacketsReceived != s.PacketsDelivered+a.Ignored+s.TotalDrops() {
		t.Errorf("IPStats: received %d != delivered %d + ignored %d + dropped %d",
			s.PacketsReceived, s.PacketsDelivered, a.Ignored, s.TotalDrops())
	}
	if s.Drops[stack.DropInvalidSource] != a.Conflicts {
		t.Errorf("Drops[invalid_source] = %d, want Conflicts %d", s.Drops[stack.DropInvalidSource], a.Conflicts)
	}
}

// TestARPDisabledCounted: packets that reach a disabled endpoint are
// counted once, as Disabled, and the IPStats still add up.
func TestARPDisabledCounted(t *testing.T) {
	e := newEnv(t)
	e.ep().Disable()
	out := e.inject(t, arpFrame(stack.BroadcastLinkAddress, hostMAC, header.ARPRequest, hostMAC, hostIP, stack.LinkAddress{}, routerIP))
	if len(out) != 0 {
		t.Errorf("disabled endpoint answered: %x", out)
	}
	checkOneCounter(t, e.ep().ARPStats(), "Disabled")
	checkIPStats(t, e.ep())
}

// TestARPConflictKeepsPendingResolution: while the router resolves
// hostIP, replies from another station claiming the router's own address,
// or from an off-link sender, neither complete the entry nor create one;
// the real reply then completes it.
func TestARPConflictKeepsPendingResolution(t *testing.T) {
	e := newEnv(t)
	c := e.nic.Neighbors(stack.IPv4ProtocolNumber)
	ep := e.ep()
	pkt := e.s.Frames().Get()
	pkt.SetLen(header.IPv4MinimumSize)
	pkt.NetworkProtocol = stack.IPv4ProtocolNumber
	e.w.StartBatch()
	if _, ok := c.ResolveOrQueue(e.w, netip.AddrFrom4(hostIP), pkt); ok {
		t.Fatal("ResolveOrQueue resolved an unknown neighbour")
	}
	e.w.Flush()
	e.host.Discard() // the request
	e.inject(t, arpFrame(routerMAC, otherMAC, header.ARPReply, otherMAC, routerIP, routerMAC, routerIP))
	e.inject(t, arpFrame(routerMAC, otherMAC, header.ARPReply, otherMAC, [4]byte{203, 0, 113, 9}, routerMAC, routerIP))
	if all := c.Entries(); len(all) != 1 || all[0].State != stack.NeighborIncomplete {
		t.Fatalf("entries %+v, want only hostIP INCOMPLETE", all)
	}
	if st := ep.ARPStats(); st.Conflicts != 1 || st.Ignored != 1 || st.RepliesReceived != 0 {
		t.Errorf("stats %+v, want 1 conflict, 1 ignored", st)
	}
	out := e.inject(t, arpFrame(routerMAC, hostMAC, header.ARPReply, hostMAC, hostIP, routerMAC, routerIP))
	if len(out) != 1 {
		t.Errorf("the queued packet did not leave after the reply: %d frames", len(out))
	}
	if en, _ := c.Entry(netip.AddrFrom4(hostIP)); en.State != stack.NeighborReachable || en.LinkAddr != hostMAC {
		t.Errorf("entry %+v, want REACHABLE at %v", en, hostMAC)
	}
	checkIPStats(t, ep)
}
