package ipv4_test

import (
	"bytes"
	"testing"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/stack"
)

// TestFragment: a DF-clear packet larger than the egress MTU leaves as
// fragments (RFC 791): every fragment fits the MTU, has its own valid
// checksum and TTL-1, offsets are multiples of 8 and contiguous, MF is set
// on all but the last, the first carries every option and the others only
// the copied ones, and the payload reassembles to the original.
func TestFragment(t *testing.T) {
	// Record Route (copied flag 0) and Stream ID (type 136, copied flag 1).
	opts := []byte{header.IPv4OptionRecordRoute, 7, 4, 0, 0, 0, 0, 136, 4, 0xab, 0xcd}
	cases := []struct {
		name     string
		mtu      uint32
		pkt      pktSpec
		wantFrag int
	}{
		{"no options", 576, pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, id: 0x4242, payload: udpPayload(1400)}, 3},
		{"options copied by flag", 576, pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, id: 7, options: opts, payload: udpPayload(1400)}, 3},
		{"minimum MTU 68", 68, pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, id: 9, payload: udpPayload(100)}, 3},
		{
			// A fragment that is fragmented again keeps its offset base
			// and its MF on the last piece.
			"refragment a middle fragment", 576,
			pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, id: 11, flags: header.IPv4FlagMoreFragments, fragOff: 1480, payload: bytes.Repeat([]byte{0x5a}, 1000)}, 2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mtu [numNICs + 1]uint32
			mtu[2] = tc.mtu
			n := newNet(t, netOpts{mtu: mtu})
			orig := tc.pkt.build()
			oh := header.IPv4(orig)
			st0 := n.router[2].Stats()
			n.inject(1, fromHost(1, orig))
			got := n.out(2)
			if len(got) != tc.wantFrag {
				t.Fatalf("got %d fragments, want %d", len(got), tc.wantFrag)
			}
			st1 := n.router[2].Stats()
			if w := st1.TXFrames - st0.TXFrames; w != uint64(tc.wantFrag) {
				t.Errorf("link sent %d frames, want %d", w, tc.wantFrag)
			}
			// All fragments of one packet leave in one WritePackets.
			if c := st1.WriteCalls - st0.WriteCalls; c != 1 {
				t.Errorf("fragments left in %d WritePackets calls, want 1", c)
			}
			var reassembled []byte
			// The non-first fragments' options: only the copied ones.
			var copiedOpts []byte
			it := header.NewIPv4OptionIterator(oh.Options())
			for o, ok := it.Next(); ok; o, ok = it.Next() {
				if o.Copied() {
					copiedOpts = append(copiedOpts, o.Raw...)
				}
			}
			next := int(oh.FragmentOffset())
			for i, f := range got {
				if !bytes.Equal(f[:14], toHost(2, nil)[:14]) {
					t.Errorf("fragment %d: Ethernet header %x", i, f[:14])
				}
				h := header.IPv4(f[14:])
				if err := header.ValidateIPv4(h); err != nil {
					t.Fatalf("fragment %d: %v", i, err)
				}
				if int(h.TotalLength()) > int(tc.mtu) || int(h.TotalLength()) != len(h) {
					t.Errorf("fragment %d: total length %d (frame %d), MTU %d", i, h.TotalLength(), len(h), tc.mtu)
				}
				if !h.IsChecksumValid() {
					t.Errorf("fragment %d: bad checksum", i)
				}
				if h.TTL() != 63 || h.ID() != oh.ID() || h.Protocol() != oh.Protocol() || h.SourceAddress() != oh.SourceAddress() || h.DestinationAddress() != oh.DestinationAddress() || h.TOS() != oh.TOS() {
					t.Errorf("fragment %d: header fields differ from the original: %x", i, []byte(h[:20]))
				}
				if h.DontFragment() {
					t.Errorf("fragment %d: DF set", i)
				}
				wantMF := i < len(got)-1 || oh.MoreFragments()
				if h.MoreFragments() != wantMF {
					t.Errorf("fragment %d: MF %v, want %v", i, h.MoreFragments(), wantMF)
				}
				if int(h.FragmentOffset()) != next {
					t.Errorf("fragment %d: offset %d, want %d", i, h.FragmentOffset(), next)
				}
				if i < len(got)-1 && len(h.Payload())%8 != 0 {
					t.Errorf("fragment %d: payload %d bytes, not a multiple of 8", i, len(h.Payload()))
				}
				wantOpts := oh.Options()
				if i > 0 {
					wantOpts = make([]byte, (len(copiedOpts)+3)&^3)
					copy(wantOpts, copiedOpts)
				}
				if !bytes.Equal(h.Options(), wantOpts) {
					t.Errorf("fragment %d: options %x, want %x", i, h.Options(), wantOpts)
				}
				next += len(h.Payload())
				reassembled = append(reassembled, h.Payload()...)
			}
			if !bytes.Equal(reassembled, oh.Payload()) {
				t.Errorf("reassembled payload differs from the original")
			}
			st := n.ep(1).Stats()
			wantOnlyDrop(t, st, -1, 0)
			if st.Forwarded != 1 || st.ForwardedBytes != uint64(len(orig)) {
				t.Errorf("Forwarded %d/%d bytes, want 1/%d", st.Forwarded, st.ForwardedBytes, len(orig))
			}
			if fc := n.ep(2).Stats().FragmentsCreated; fc != uint64(tc.wantFrag) {
				t.Errorf("FragmentsCreated on egress %d, want %d", fc, tc.wantFrag)
			}
		})
	}
}

// TestFragmentMTUTooSmall: an egress MTU below 68 (no room for 8 bytes of
// payload after a 60-byte header) cannot carry the packet: dropped as too
// big, nothing sent, nothing leaked.
func TestFragmentMTUTooSmall(t *testing.T) {
	var mtu [numNICs + 1]uint32
	mtu[2] = 60
	n := newNet(t, netOpts{mtu: mtu})
	opts := bytes.Repeat([]byte{header.IPv4OptionNOP}, 40)
	ip := pktSpec{src: hostIP(1), dst: remoteIP, ttl: 64, options: opts, payload: udpPayload(100)}.build()
	n.inject(1, fromHost(1, ip))
	wantFrames(t, "egress", n.out(2), nil)
	wantOnlyDrop(t, n.ep(1).Stats(), int(stack.DropPacketTooBig), 1)
}

// TestFragmentPingOfDeath: a fragment whose offset plus data passes 65535
// bytes can never be part of a valid datagram; it is dropped on receive as
// DropMalformedFragment, whether it is in transit (where fragmenting it
// again would wrap the 13-bit offset) or for the router. One that ends at
// exactly 65535 is legal and forwarded.
func TestFragmentPingOfDeath(t *testing.T) {
	cases := []struct {
		name    string
		dst     [4]byte
		fragOff uint16
		data    int
		mtu2    uint32
		// forwarded: the packet must leave on host 2 as is (TTL-1).
		forwarded bool
	}{
		{name: "transit, would be refragmented", dst: remoteIP, fragOff: 65000, data: 1000, mtu2: 576},
		{name: "transit, small enough for the MTU", dst: remoteIP, fragOff: 65528, data: 16},
		{name: "data ends at 65536, one byte over", dst: remoteIP, fragOff: 65528, data: 8},
		{name: "for the router", dst: routerIP(1), fragOff: 65528, data: 100},
		{name: "ends at exactly 65535", dst: remoteIP, fragOff: 65528, data: 7, forwarded: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mtu [numNICs + 1]uint32
			mtu[2] = tc.mtu2
			n := newNet(t, netOpts{mtu: mtu})
			ip := pktSpec{src: hostIP(1), dst: tc.dst, ttl: 64, id: 0x0bad, proto: header.IPv4ProtocolICMP, fragOff: tc.fragOff, payload: bytes.Repeat([]byte{0xa5}, tc.data)}.build()
			n.inject(1, fromHost(1, ip))
			var want [][]byte
			if tc.forwarded {
				want = [][]byte{toHost(2, forwarded(ip))}
			}
			wantFrames(t, "to host 2", n.out(2), want)
			wantFrames(t, "to host 1", n.out(1), nil)
			st := n.ep(1).Stats()
			if tc.forwarded {
				wantOnlyDrop(t, st, -1, 0)
				return
			}
			wantOnlyDrop(t, st, int(stack.DropMalformedFragment), 1)
			if st.PacketsReceived != 1 || st.ValidPacketsReceived != 0 || st.Forwarded != 0 {
				t.Errorf("received %d valid %d forwarded %d; want 1, 0, 0", st.PacketsReceived, st.ValidPacketsReceived, st.Forwarded)
			}
			if fc := n.ep(2).Stats().FragmentsCreated; fc != 0 {
				t.Errorf("FragmentsCreated %d, want 0", fc)
			}
		})
	}
}
