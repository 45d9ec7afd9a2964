package memlink

import (
	"bytes"

	"github.com/nexthop-router/nexthop/stack"
)

// Captured is one frame a Capture received: its bytes and the metadata the
// link attached to it.
type Captured struct {
	Data []byte
	GSO  stack.GSO
}

// Capture is a NetworkDispatcher that copies every frame it is given and
// releases it. Link tests attach it to a real link (PACKET_MMAP, AF_XDP)
// to see exactly what the link delivers. It is not safe for concurrent use.
type Capture struct {
	Frames []Captured
}

var _ stack.NetworkDispatcher = (*Capture)(nil)

// DeliverNetworkPacket implements stack.NetworkDispatcher.
func (c *Capture) DeliverNetworkPacket(_ *stack.Worker, _ stack.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	c.Frames = append(c.Frames, Captured{Data: bytes.Clone(pkt.Data()), GSO: pkt.GSO})
	pkt.Release()
}

// DeliverNetworkPackets implements stack.NetworkDispatcher.
func (c *Capture) DeliverNetworkPackets(w *stack.Worker, pkts *stack.PacketBufferList) {
	for _, pkt := range pkts.AsSlice() {
		c.DeliverNetworkPacket(w, pkt.NetworkProtocol, pkt)
	}
	pkts.Reset()
}
