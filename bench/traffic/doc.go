// Package traffic is the benchmark's traffic generator and receiver: it
// builds RFC 2544-style UDP test frames, sends them at a paced or maximal
// rate through an AF_PACKET socket, and on the far side counts what arrived,
// duplicates, reordering and one-way latency. `bench gen` and `bench recv`
// (bench/cmd/bench) are thin shells around Generate and Receive; `bench net`
// runs them as separate processes inside network namespaces.
//
// # Frames
//
// Every frame is Ethernet II + IPv4 (20-byte header, DF set, TTL 64) or IPv6
// (40-byte header, hop limit 64, flow label 0) + UDP to port 9 (DstPort) +
// the test payload, zero-padded to the requested size. Sizes count the
// 4-byte FCS as RFC 2544 does, so a 64-byte frame is 60 bytes on the wire
// of a veth. The smallest size is 64 for IPv4 (the Ethernet minimum) and 78
// for IPv6 (14 + 40 + 8 + 12 + 4); MinFrameSize says so and a smaller size
// is an error naming the minimum. Both checksums are always correct (the UDP
// checksum is mandatory over IPv6).
//
// Flows differ only in the UDP source port: packet number seq belongs to
// flow seq % flows and has source port SrcPortBase + flow (1024, 1025, ...).
// A router's RSS, XPS, fanout or worker hash sees distinct 5-tuples and
// spreads them; AF_PACKET's own transmit-queue pick (skb_tx_hash) spreads
// them over a multi-queue veth too.
//
// # Payload
//
// The first PayloadSize (12) bytes of the UDP payload, all big-endian:
//
//	offset 0  uint32  tag  = Magic ^ run id   (Magic = 0x4e484254, "NHBT")
//	offset 4  uint32  seq  = 0, 1, 2, ... in send order, across all flows
//	offset 8  uint32  tx   = low 32 bits of CLOCK_REALTIME in nanoseconds
//
// 12 bytes is what makes a 78-byte IPv6 frame possible (a 64-byte IPv4
// frame has 18 bytes of room; the rest is zero). The tag carries the whole
// 32-bit run id and serves as the magic: a frame from another run, or any
// other UDP frame to port 9, has the right tag with probability 2^-32. The
// timestamp wraps every 4.29 s, so latencies are computed modulo 2^32 ns
// and are meaningful below about 2.1 s (larger ones are treated as a clock
// step and not recorded). seq wraps after 2^32 packets (55 min at 1.3 Mpps).
//
// # Generator
//
// Generate prebuilds a batch of frames and, per packet, patches only the
// source port, seq, timestamp and UDP checksum (summed incrementally from a
// precomputed base: RFC 1071 over 8 bytes, no allocation). One sendmmsg(2)
// per batch on an AF_PACKET socket with PACKET_QDISC_BYPASS and a 4 MiB
// send buffer. The transmit timestamp is read once per batch just before
// sendmmsg, so a frame late in a 64-frame batch at full rate carries a
// stamp up to one batch's kernel send time (tens of µs) early. A frame the
// driver refuses with ENOBUFS (a veth whose peer's receive ring is full) is
// counted in Refused and not retried, as a wire would lose it; EAGAIN and
// EINTR are retried. Sent counts frames the kernel accepted; the offered
// load is Sent + Refused, which is what the pacer keeps on its rate, and
// the delivered load is read at the receiver.
//
// A non-zero rate is paced on the monotonic clock: by elapsed time t the
// generator has sent floor(t*rate)+1 frames, in batches of whatever is due
// (at most the batch size), sleeping with nanosleep(2) on a locked thread
// with 1 µs timer slack in between (Go's time.Sleep rounds up to about 1 ms
// here). The mean rate is therefore exact up to the last batch; bursts are
// at most one batch long.
//
// # Receiver
//
// Receive reads a TPACKET_V3 RX ring on an ETH_P_ALL packet socket
// (PACKET_IGNORE_OUTGOING set). ETH_P_ALL taps run before tc ingress, so the
// receiver sees frames that a tc/TCX ingress rule then drops (which is how
// `bench net` keeps the receiving kernel from answering with ICMP port
// unreachable). Frames whose tag does not match the run id are ignored.
//
// Latency is the frame's receive timestamp in the ring (the kernel's
// CLOCK_REALTIME stamp taken when the packet reached the packet socket, in
// softirq context) minus the transmit stamp. It therefore includes the
// generator's sendmmsg (see above), every queue and forwarding step between,
// and the receiving kernel's delivery to the tap, but not the receiver's own
// scheduling, nor the TPACKET_V3 block-retire delay (up to a few ms at low
// rates, LINUX-NOTES.md). Generator and receiver must share a clock: the
// same machine (network namespaces share CLOCK_REALTIME).
//
// Counting (Stats): Received counts every matching frame, duplicates
// included; Duplicates counts frames whose seq was already seen within the
// last 2^22 sequence numbers; Reordered counts frames whose seq is lower than
// the highest seq already seen in the same flow (same source port), so the
// legitimate interleaving of flows handled by different router workers is
// not counted; MaxSeq is the highest seq seen. Loss is sent minus
// (Received - Duplicates). Latency percentiles come from a fixed
// log-linear histogram with 128 sub-buckets per power of two (relative
// error below 0.8%); the maximum is exact.
package traffic
