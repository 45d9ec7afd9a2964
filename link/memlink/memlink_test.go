package memlink_test

import (
	"testing"

	"github.com/nexthop-router/nexthop/link/memlink"
	"github.com/nexthop-router/nexthop/stack"
)

func TestWriteMovesFramesToPeer(t *testing.T) {
	a, b := memlink.NewPair(memlink.Options{MTU: 100}, memlink.Options{})
	if a.LinkAddress() == b.LinkAddress() {
		t.Fatalf("both ends got link address %v", a.LinkAddress())
	}
	if err := a.WriteFrame(make([]byte, 114)); err != nil {
		t.Fatalf("WriteFrame of MTU+14 bytes: %v", err)
	}
	if err := a.WriteFrame(make([]byte, 115)); err == nil {
		t.Error("WriteFrame of MTU+15 bytes succeeded")
	}
	got := b.DrainBytes()
	if len(got) != 1 || len(got[0]) != 114 {
		t.Fatalf("peer received %d frames, want one of 114 bytes", len(got))
	}
	if st := a.Stats(); st.TXFrames != 1 || st.TXTooBig != 1 {
		t.Errorf("stats = %+v, want 1 sent, 1 too big", st)
	}
	if n := a.Frames().Outstanding(); n != 0 {
		t.Errorf("%d frames leaked", n)
	}
}

func TestFullQueueDropsAndCounts(t *testing.T) {
	a, b := memlink.NewPair(memlink.Options{}, memlink.Options{RXQueueLen: 2})
	for i := 0; i < 3; i++ {
		err := a.WriteFrame(make([]byte, 60))
		if i < 2 && err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if i == 2 && err == nil {
			t.Error("third frame into a 2-frame queue was accepted")
		}
	}
	if b.Queued() != 2 || a.Stats().TXDropped != 1 {
		t.Errorf("queued %d, dropped %d; want 2 and 1", b.Queued(), a.Stats().TXDropped)
	}
	b.Close()
	if n := a.Frames().Outstanding(); n != 0 {
		t.Errorf("Close left %d frames outstanding", n)
	}
	if err := a.WriteFrame(make([]byte, 60)); err == nil {
		t.Error("write to a closed peer succeeded")
	}
	if a.Frames().Outstanding() != 0 {
		t.Errorf("frame leaked after write to closed peer")
	}
}

func TestSetMTU(t *testing.T) {
	a, _ := memlink.NewPair(memlink.Options{}, memlink.Options{})
	if a.MTU() != 1500 {
		t.Errorf("default MTU %d, want 1500", a.MTU())
	}
	a.SetMTU(9000)
	if a.MTU() != 9000 {
		t.Errorf("MTU after SetMTU(9000) = %d", a.MTU())
	}
	if a.Capabilities()&stack.CapabilityResolutionRequired == 0 {
		t.Error("default capabilities lack CapabilityResolutionRequired")
	}
}

// TestWriteCalls: every WritePackets call counts once, whatever the batch
// size, so stack tests can assert one doorbell per batch.
func TestWriteCalls(t *testing.T) {
	a, b := memlink.NewPair(memlink.Options{}, memlink.Options{})
	l := stack.MakePacketBufferList(stack.BatchSize)
	for range stack.BatchSize {
		pkt := a.Frames().Get()
		pkt.SetLen(60)
		l.PushBack(pkt)
	}
	if n, err := a.WritePackets(l); n != stack.BatchSize || err != nil {
		t.Fatalf("WritePackets(%d frames) = %d, %v", stack.BatchSize, n, err)
	}
	if err := a.WriteFrame(make([]byte, 60)); err != nil {
		t.Fatalf("WriteFrame: %v", err)
	}
	if st := a.Stats(); st.WriteCalls != 2 || st.TXFrames != stack.BatchSize+1 {
		t.Errorf("stats = %+v, want 2 write calls and %d frames", st, stack.BatchSize+1)
	}
	if st := b.Stats(); st.WriteCalls != 0 {
		t.Errorf("peer WriteCalls = %d, want 0", st.WriteCalls)
	}
	b.Discard()
	if n := a.Frames().Outstanding(); n != 0 {
		t.Errorf("%d frames leaked", n)
	}
}
