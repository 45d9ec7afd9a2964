package stack_test

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/stack"
)

func TestPacketBufferWindow(t *testing.T) {
	pool := stack.NewFramePool(256, 32)
	pkt := pool.Get()
	defer pkt.Release()
	if pkt.Headroom() != 32 || pkt.Len() != 0 || pkt.Tailroom() != 224 {
		t.Fatalf("fresh frame: headroom %d len %d tailroom %d", pkt.Headroom(), pkt.Len(), pkt.Tailroom())
	}
	if !pkt.SetLen(100) {
		t.Fatal("SetLen(100) failed")
	}
	if pkt.SetLen(225) {
		t.Error("SetLen past the frame succeeded")
	}
	h := pkt.Prepend(14)
	if len(h) != 14 || pkt.Len() != 114 || pkt.Headroom() != 18 {
		t.Errorf("Prepend(14): len(h)=%d Len=%d Headroom=%d", len(h), pkt.Len(), pkt.Headroom())
	}
	if pkt.Prepend(19) != nil {
		t.Error("Prepend beyond the headroom succeeded")
	}
	if !pkt.TrimFront(14) || pkt.Len() != 100 {
		t.Errorf("TrimFront(14): Len=%d", pkt.Len())
	}
	if pkt.TrimFront(101) {
		t.Error("TrimFront beyond the data succeeded")
	}
	if pkt.NetworkHeader() != nil || pkt.LinkHeader() != nil {
		t.Error("unmarked headers are not nil")
	}
	pkt.NetworkHeaderOffset = pkt.Start()
	if len(pkt.NetworkHeader()) != 100 {
		t.Errorf("NetworkHeader len %d, want 100", len(pkt.NetworkHeader()))
	}
}

func TestDoubleReleasePanicsInLeakCheckMode(t *testing.T) {
	pool := stack.NewFramePool(256, 32)
	pkt := pool.Get()
	pkt.Release()
	defer func() {
		if recover() == nil {
			t.Error("double release did not panic with leak checking on")
		}
	}()
	pkt.Release()
}

func TestFramePoolCountsOutstanding(t *testing.T) {
	pool := stack.NewFramePool(256, 32)
	a, b := pool.Get(), pool.Get()
	if pool.Outstanding() != 2 {
		t.Errorf("Outstanding = %d, want 2", pool.Outstanding())
	}
	a.Release()
	b.Release()
	if pool.Outstanding() != 0 {
		t.Errorf("Outstanding = %d after release, want 0", pool.Outstanding())
	}
}

func TestFramePoolSteadyStateAllocatesNothing(t *testing.T) {
	pool := stack.NewFramePool(2048, 128)
	// In leak-check mode released frames wait in a quarantine first.
	for range stack.LeakCheckQuarantine + 1 {
		pool.Get().Release()
	}
	if allocs := testing.AllocsPerRun(1000, func() { pool.Get().Release() }); allocs != 0 {
		t.Errorf("Get+Release: %v allocs, want 0", allocs)
	}
}

func TestPerWorkerStatsSum(t *testing.T) {
	var p stack.PerWorkerIPStats
	p[0].PacketsReceived = 3
	p[5].PacketsReceived = 4
	p[5].Drop(stack.DropExhaustedTTL)
	p[9].Drop(stack.DropExhaustedTTL)
	s := p.Sum()
	if s.PacketsReceived != 7 || s.Drops[stack.DropExhaustedTTL] != 2 || s.TotalDrops() != 2 {
		t.Errorf("Sum = %+v", s)
	}
	for r := stack.DropReason(0); r < stack.NumDropReasons; r++ {
		if r.String() == "unknown" || r.String() == "" {
			t.Errorf("drop reason %d has no label", r)
		}
	}
}

// TestStaleReleaseAfterReusePanics: the previous holder of a frame releases
// it again after the pool handed it out anew. The quarantine keeps the
// struct from being reused at once, so the stale Release hits a released
// frame and panics instead of freeing the new holder's frame.
func TestStaleReleaseAfterReusePanics(t *testing.T) {
	pool := stack.NewFramePool(256, 32)
	a := pool.Get()
	a.Release()
	b := pool.Get()
	defer b.Release()
	if a == b {
		t.Fatal("the pool handed the released struct out again at once")
	}
	defer func() {
		if recover() == nil {
			t.Error("stale release did not panic")
		}
		if !b.InUse() || pool.Outstanding() != 1 {
			t.Errorf("stale release freed the new holder's frame")
		}
	}()
	a.Release()
}

func TestLiveFramesCountsLeaks(t *testing.T) {
	before := stack.LiveFrames()
	pool := stack.NewFramePool(256, 32)
	pkt := pool.Get()
	if stack.LiveFrames() != before+1 {
		t.Errorf("LiveFrames = %d after Get, want %d", stack.LiveFrames(), before+1)
	}
	if stack.CheckLeaks() == nil && before == 0 {
		t.Error("CheckLeaks found no leak with a frame outstanding")
	}
	pkt.Release()
	if stack.LiveFrames() != before {
		t.Errorf("LiveFrames = %d after Release, want %d", stack.LiveFrames(), before)
	}
}

// TestCompleteChecksumFindsOffsets: a "checksum not ready" packet without
// offsets (PACKET_MMAP without a virtio_net_hdr) gets them from its own
// headers, and the finished checksum verifies.
func TestCompleteChecksumFindsOffsets(t *testing.T) {
	src4, dst4 := [4]byte{198, 18, 1, 2}, [4]byte{198, 18, 2, 2}
	var src6, dst6 [16]byte
	copy(src6[:], netip.MustParseAddr("2001:db8:1::2").AsSlice())
	copy(dst6[:], netip.MustParseAddr("2001:db8:2::2").AsSlice())
	payload := []byte("nexthop completes this checksum!")
	for _, c := range []struct {
		name string
		v6   bool
		tcp  bool
	}{{"udp4", false, false}, {"tcp4", false, true}, {"udp6", true, false}, {"tcp6", true, true}} {
		t.Run(c.name, func(t *testing.T) {
			l4len := 8 + len(payload)
			proto := uint8(header.IPv4ProtocolUDP)
			if c.tcp {
				l4len, proto = 20+len(payload), header.IPv4ProtocolTCP
			}
			b := make([]byte, 0, 128)
			var pseudo uint16
			if c.v6 {
				b = b[:header.IPv6MinimumSize+l4len]
				header.EncodeIPv6(b, header.IPv6Fields{PayloadLength: uint16(l4len), NextHeader: proto, HopLimit: 64, Src: src6, Dst: dst6})
				pseudo = header.PseudoHeaderChecksumV6(proto, src6, dst6, uint32(l4len))
			} else {
				b = b[:header.IPv4MinimumSize+l4len]
				header.EncodeIPv4(b, header.IPv4Fields{TotalLength: uint16(len(b)), TTL: 64, Protocol: proto, Src: src4, Dst: dst4})
				pseudo = header.PseudoHeaderChecksumV4(proto, src4, dst4, uint16(l4len))
			}
			l4 := b[len(b)-l4len:]
			field := 6
			if c.tcp {
				l4[12] = 5 << 4
				field = 16
				copy(l4[20:], payload)
			} else {
				binary.BigEndian.PutUint16(l4[4:], uint16(l4len))
				copy(l4[8:], payload)
			}
			binary.BigEndian.PutUint16(l4[field:], pseudo) // CHECKSUM_PARTIAL
			pool := stack.NewFramePool(256, 32)
			pkt := pool.Get()
			defer pkt.Release()
			pkt.SetLen(len(b))
			copy(pkt.Data(), b)
			pkt.GSO.NeedsCsum = true
			if !stack.CompleteChecksum(pkt) {
				t.Fatal("CompleteChecksum failed")
			}
			got := pkt.Data()[len(b)-l4len:]
			if header.Checksum(got, pseudo) != 0xffff {
				t.Errorf("checksum %#04x does not verify", binary.BigEndian.Uint16(got[field:]))
			}
			if pkt.GSO.NeedsCsum {
				t.Error("NeedsCsum still set")
			}
		})
	}
}
