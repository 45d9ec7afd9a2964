package stack

import "net/netip"

// Worker is the context of one data-path goroutine: it runs received batches
// to completion and collects what they send into one batch per egress NIC,
// flushed with a single WritePackets call each. It also selects the worker's
// own counter blocks, so counting needs neither atomics nor locks.
//
// A Worker is used by one goroutine at a time.
type Worker struct {
	id    int
	stack *Stack

	// tx is the pending batch per egress NIC, indexed by NICID.
	tx    [MaxNICs]PacketBufferList
	dirty []NICID
	// txSlot holds the protocol slot of each frame of the batch being
	// flushed, read before WritePackets takes the frames, when the batch
	// mixes protocols.
	txSlot [BatchSize]int8
	// txProto is, per NIC, the protocol slot of every frame pending in tx,
	// or mixedSlots when they differ; so a one-protocol batch (the usual
	// case) needs no pass over its frames to count refusals.
	txProto [MaxNICs]int8

	// rx groups one received batch by protocol slot before dispatch.
	rx [numProtoSlots][]*PacketBuffer

	now int64

	// nh caches the last neighbour lookup (see NeighborCache.lookupLink).
	nh struct {
		table *neighborTable
		addr  netip.Addr
		link  *neighborLink
	}
}

// ID is the worker's index into per-worker counter blocks (0…MaxWorkers-1).
func (w *Worker) ID() int { return w.id }

// Stack is the stack the worker runs for.
func (w *Worker) Stack() *Stack { return w.stack }

// Now is the time read once at the start of the current batch, so packets
// never read the clock themselves.
func (w *Worker) Now() int64 { return w.now }

// StartBatch reads the clock once for the batch that follows.
func (w *Worker) StartBatch() { w.now = w.stack.clock.NowNanos() }

// Send queues a complete Ethernet frame for transmission on nic. It takes
// ownership of pkt. The frame leaves at the next Flush, or at once when the
// NIC's batch is full.
func (w *Worker) Send(nic *NIC, pkt *PacketBuffer) {
	w.send(nic, pkt, int8(protoSlot(pkt.NetworkProtocol)))
}

// send is Send with the protocol slot of pkt.NetworkProtocol known.
func (w *Worker) send(nic *NIC, pkt *PacketBuffer, slot int8) {
	id := nic.id
	l := &w.tx[id]
	if len(l.pkts) == 0 {
		if l.pkts == nil {
			*l = MakePacketBufferList(BatchSize)
			l.Queue = w.id
		}
		w.dirty = append(w.dirty, id)
		w.txProto[id] = slot
	} else if w.txProto[id] != slot {
		w.txProto[id] = mixedSlots
	}
	l.PushBack(pkt)
	if l.Len() >= BatchSize {
		w.flushNIC(id)
	}
}

// mixedSlots marks a pending batch whose frames are of several protocols.
const mixedSlots = -2

// Flush hands every pending batch to its link: one WritePackets per NIC.
func (w *Worker) Flush() {
	for _, id := range w.dirty {
		w.flushNIC(id)
	}
	w.dirty = w.dirty[:0]
}

func (w *Worker) flushNIC(id NICID) {
	l := &w.tx[id]
	n := l.Len()
	if n == 0 {
		return
	}
	nic := w.stack.NIC(id)
	if nic == nil {
		l.Release()
		return
	}
	st := &nic.stats[w.id]
	// The link owns the frames once WritePackets is called, sent or not,
	// so what is needed to count a refusal per protocol is read first: one
	// byte per frame, no call.
	// Send flushes at BatchSize, so n fits txSlot.
	proto := w.txProto[id]
	var slots []int8
	if proto == mixedSlots {
		slots = w.txSlot[:n]
		for i, pkt := range l.AsSlice() {
			slots[i] = int8(protoSlot(pkt.NetworkProtocol))
		}
	}
	sent, _ := nic.link.WritePackets(*l)
	sent = max(0, min(sent, n))
	st.TXFrames += uint64(sent)
	st.TXDropped += uint64(n - sent)
	// Links send a batch in order and refuse its tail when the ring or
	// queue fills, so the refused frames are the last n-sent. (memlink
	// also refuses an oversized frame mid-batch, and packetmmap, on a veth
	// or a port without TSO, has a ring and a super-packet socket that
	// fill apart; the count per protocol is then exact only when the batch
	// holds one protocol.)
	if sent < n {
		if proto != mixedSlots {
			if proto >= 0 {
				st.TXRefused[proto] += uint64(n - sent)
			}
		} else {
			for _, slot := range slots[sent:] {
				if slot >= 0 {
					st.TXRefused[slot]++
				}
			}
		}
	}
	l.Reset()
}

// Pending is the number of frames queued for nic and not yet flushed.
func (w *Worker) Pending(nic *NIC) int { return w.tx[nic.id].Len() }
