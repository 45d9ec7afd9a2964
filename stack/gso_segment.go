package stack

import "github.com/nexthop-router/nexthop/header"

// Software segmentation (GSOSW): a super-packet whose egress link cannot
// take it whole (AF_XDP, PACKET_MMAP without vnet headers: no
// CapabilitySoftwareGSO or CapabilityHardwareGSO) is cut here into the
// frames the sender's TSO or the kernel's GSO would have made, the way
// Linux's tcp_gso_segment and __udp_gso_segment do.
//
// It hooks into NIC.WriteEthernet, the one place every packet passes on its
// way to a link (forwarded, released from a neighbour queue, or made by the
// router), after the next hop's MAC is known: each segment is a frame of its
// own with its own Ethernet header, and every path that hands a NIC a
// super-packet gets segmentation for free. The protocols decide the policy
// before that (the MTU rule, counters), with GSOSegmentLen.
//
// Cutting reads the super-packet's own headers; the GSO metadata only says
// what kind of cut (TCP or UDP) and how big (gso_size). hdr_len, csum_start
// and csum_offset are hints that senders fill loosely, and the kernel also
// re-parses the headers when it segments.

// gsoLayout is where a super-packet's headers end and how it is cut.
type gsoLayout struct {
	v6      bool
	udp     bool
	l4      int // offset of the TCP or UDP header from the network header
	hdrLen  int // network header, extension headers and transport header
	payload int // bytes after hdrLen
	mss     int
	segs    int
}

// parseGSO reads the layout of a super-packet whose data starts at its
// network header. ok is false when the headers contradict the metadata (IP
// version or transport protocol, a fragment, lengths) or gso_size is zero:
// such a packet can be neither cut nor handed to a kernel to cut.
func parseGSO(pkt *PacketBuffer) (l gsoLayout, ok bool) {
	d := pkt.Data()
	l.mss = int(pkt.GSO.MSS)
	if l.mss == 0 || len(d) == 0 {
		return l, false
	}
	var proto uint8
	switch d[0] >> 4 {
	case 4:
		if header.ValidateIPv4(d) != nil {
			return l, false
		}
		h := header.IPv4(d)
		if int(h.TotalLength()) != len(d) || h.IsFragment() {
			return l, false
		}
		proto, l.l4 = h.Protocol(), h.HeaderLength()
	case 6:
		if header.ValidateIPv6(d) != nil || header.IPv6MinimumSize+int(header.IPv6(d).PayloadLength()) != len(d) {
			return l, false
		}
		l.v6 = true
		it := header.NewIPv6ExtHdrIterator(header.IPv6(d))
		for {
			eh, more := it.Next()
			if !more {
				break
			}
			if eh.Type == header.IPv6ExtFragment {
				return l, false
			}
		}
		if it.Err() != nil {
			return l, false
		}
		proto, l.l4 = it.UpperLayer()
	default:
		return l, false
	}
	switch pkt.GSO.Type {
	case GSOTCPv4:
		ok = !l.v6 && proto == header.IPv4ProtocolTCP
	case GSOTCPv6:
		ok = l.v6 && proto == header.IPv4ProtocolTCP
	case GSOUDPL4:
		ok = proto == header.IPv4ProtocolUDP
	case GSOSW:
		// Made by the router itself: the headers say what it is.
		ok = proto == header.IPv4ProtocolTCP || proto == header.IPv4ProtocolUDP
	}
	if !ok {
		return l, false
	}
	l.udp = proto == header.IPv4ProtocolUDP
	if l.udp {
		l.hdrLen = l.l4 + header.UDPMinimumSize
	} else {
		if header.ValidateTCP(d[l.l4:]) != nil {
			return l, false
		}
		l.hdrLen = l.l4 + header.TCP(d[l.l4:]).DataOffset()
	}
	if l.hdrLen > len(d) {
		return l, false
	}
	l.payload = len(d) - l.hdrLen
	l.segs = max(1, (l.payload+l.mss-1)/l.mss)
	return l, true
}

// segLen is the network-layer length of the largest segment.
func (l *gsoLayout) segLen() int { return l.hdrLen + min(l.mss, l.payload) }

// GSOSegmentLen returns, for a super-packet whose data starts at its network
// header, the length of the largest packet it leaves as (headers plus
// gso_size bytes of payload, or less when the payload is shorter): the size
// the MTU rules apply to, whether a link or the stack does the cutting. ok
// is false when the packet's headers contradict its GSO metadata; the
// caller drops it (DropGSOUnsupported).
func GSOSegmentLen(pkt *PacketBuffer) (n int, ok bool) {
	l, ok := parseGSO(pkt)
	if !ok {
		return 0, false
	}
	return l.segLen(), true
}

// writeSegments cuts super-packet pkt (data at its network header) into
// segments in frames of the stack's pool and queues each with its Ethernet
// header on w for n. It takes ownership of pkt. All segments of one
// super-packet go to the link in one WritePackets when they fit in a batch
// (BatchSize, e.g. 46 segments of a 64 KiB packet at MSS 1448): what is
// already pending for n is flushed first when it would not leave room. A
// super-packet of more than BatchSize segments (a small MSS) leaves in
// consecutive full batches. Nothing is allocated: the frames come from the
// pool and the batch list is the worker's.
//
// Each segment gets (tcp_gso_segment, __udp_gso_segment, inet_gso_segment):
// IPv4 Total Length, ID+i and a new header checksum, or IPv6 Payload Length;
// TCP sequence number + i*MSS, FIN and PSH only on the last segment and CWR
// only on the first; UDP its own Length; and a full L4 checksum computed
// from scratch, since the super-packet's field may hold only the
// pseudo-header sum (NeedsCsum) or the sum of the whole super-packet.
func (n *NIC) writeSegments(w *Worker, pkt *PacketBuffer, dst LinkAddress, proto NetworkProtocolNumber) {
	st := &n.stats[w.id]
	pool := w.stack.frames
	l, ok := parseGSO(pkt)
	if !ok || l.segLen() > pool.size-pool.headroom {
		st.TXDropped++
		pkt.Release()
		return
	}
	st.TXGSOSegmented++
	st.TXGSOSegments += uint64(l.segs)
	if b := &w.tx[n.id]; b.Len() > 0 && b.Len()+l.segs > BatchSize {
		w.flushNIC(n.id)
	}
	src := pkt.Data()
	hdr, payload := src[:l.hdrLen], src[l.hdrLen:]
	var id uint16
	if !l.v6 {
		id = header.IPv4(src).ID()
	}
	l4proto := header.IPv4ProtocolUDP
	var seq uint32
	var flags uint8
	if !l.udp {
		l4proto = header.IPv4ProtocolTCP
		t := header.TCP(src[l.l4:])
		seq, flags = t.SequenceNumber(), t.Flags()
	}
	for i := range l.segs {
		off := i * l.mss
		chunk := min(l.mss, l.payload-off)
		f := pool.Get()
		f.SetLen(l.hdrLen + chunk)
		b := f.Data()
		copy(b, hdr)
		copy(b[l.hdrLen:], payload[off:off+chunk])
		l4len := len(b) - l.l4
		var pseudo uint16
		if l.v6 {
			h := header.IPv6(b)
			h.SetPayloadLength(uint16(len(b) - header.IPv6MinimumSize))
			pseudo = header.PseudoHeaderChecksumV6(l4proto, h.SourceAddress(), h.DestinationAddress(), uint32(l4len))
		} else {
			h := header.IPv4(b)
			h.SetTotalLength(uint16(len(b)))
			h.SetID(id + uint16(i))
			h.UpdateChecksum()
			pseudo = header.PseudoHeaderChecksumV4(l4proto, h.SourceAddress(), h.DestinationAddress(), uint16(l4len))
		}
		if l.udp {
			u := header.UDP(b[l.l4:])
			u.SetLength(uint16(l4len))
			u.UpdateChecksum(pseudo)
		} else {
			t := header.TCP(b[l.l4:])
			t.SetSequenceNumber(seq + uint32(off))
			fl := flags
			if i != l.segs-1 {
				fl &^= header.TCPFlagFIN | header.TCPFlagPSH
			}
			if i != 0 {
				fl &^= header.TCPFlagCWR
			}
			t.SetFlags(fl)
			t.UpdateChecksum(pseudo)
		}
		f.NetworkHeaderOffset = f.Start()
		f.TransportHeaderOffset = f.Start() + l.l4
		f.NetworkProtocol = pkt.NetworkProtocol
		f.NICID = pkt.NICID
		f.Hash = pkt.Hash
		n.WriteEthernet(w, f, dst, proto)
	}
	pkt.Release()
}
