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

// TestPeerClearsSenderMetadata checks that a frame arrives at the peer as
// a link would receive it: the sender's metadata cleared, its GSO
// description kept, whether the peer polls it or drains it.
func TestPeerClearsSenderMetadata(t *testing.T) {
	a, b := memlink.NewPair(memlink.Options{}, memlink.Options{})
	gso := stack.GSO{Type: stack.GSOTCPv4, NeedsCsum: true, CsumStart: 34, CsumOffset: 16, MSS: 1400, HdrLen: 54}
	send := func() {
		t.Helper()
		pkt := a.Frames().Get()
		pkt.SetLen(60)
		pkt.NICID, pkt.Hash, pkt.TransitBytes, pkt.RXChecksumValidated = 7, 0xdead, 46, true
		pkt.NetworkProtocol, pkt.PktType, pkt.NetworkHeaderOffset = stack.IPv4ProtocolNumber, stack.PacketBroadcast, 5
		pkt.GSO = gso
		l := stack.MakePacketBufferList(1)
		l.PushBack(pkt)
		if n, err := a.WritePackets(l); n != 1 || err != nil {
			t.Fatalf("WritePackets = %d, %v; want 1, nil", n, err)
		}
	}
	check := func(how string, pkt *stack.PacketBuffer) {
		t.Helper()
		if pkt.NICID != 0 || pkt.Hash != 0 || pkt.TransitBytes != 0 || pkt.RXChecksumValidated ||
			pkt.NetworkProtocol != 0 || pkt.PktType != stack.PacketHost || pkt.NetworkHeaderOffset != -1 {
			t.Errorf("%s: sender's metadata survived: NICID %d, Hash %#x, TransitBytes %d, RXChecksumValidated %v, NetworkProtocol %#x, PktType %v, NetworkHeaderOffset %d",
				how, pkt.NICID, pkt.Hash, pkt.TransitBytes, pkt.RXChecksumValidated, pkt.NetworkProtocol, pkt.PktType, pkt.NetworkHeaderOffset)
		}
		if pkt.GSO != gso {
			t.Errorf("%s: GSO = %+v, want %+v", how, pkt.GSO, gso)
		}
	}
	send()
	for _, pkt := range b.Drain() {
		check("Drain", pkt)
		pkt.Release()
	}
	send()
	var c capturePkts
	b.Attach(&c)
	w, err := stack.New(stack.Options{}).NewWorker()
	if err != nil {
		t.Fatal(err)
	}
	if n := b.Poll(w, 0); n != 1 {
		t.Fatalf("Poll delivered %d frames, want 1", n)
	}
	for _, pkt := range c.pkts {
		check("Poll", pkt)
		pkt.Release()
	}
	if n := a.Frames().Outstanding(); n != 0 {
		t.Errorf("%d frames leaked", n)
	}
}

// capturePkts is a dispatcher that keeps the packets it is given.
type capturePkts struct{ pkts []*stack.PacketBuffer }

func (c *capturePkts) DeliverNetworkPacket(_ *stack.Worker, _ stack.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	c.pkts = append(c.pkts, pkt)
}

func (c *capturePkts) DeliverNetworkPackets(_ *stack.Worker, pkts *stack.PacketBufferList) {
	c.pkts = append(c.pkts, pkts.AsSlice()...)
	pkts.Reset()
}
