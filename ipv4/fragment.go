package ipv4

import (
	"net/netip"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/stack"
)

// fragment splits h (already TTL-decremented, DF clear) into fragments of at
// most mtu bytes and queues them all on w for e's NIC, so they leave in one
// WritePackets (RFC 791 §3.2, RFC 1812 §5.2.6): offsets in 8-byte units, MF
// on all but the last (and on the last too when h itself was a non-final
// fragment), the first fragment with every option and the others with the
// options whose copied flag is set, each with its own checksum. It takes
// ownership of pkt and reports ok false (pkt released, nothing sent) when
// the MTU leaves no room for 8 bytes of payload. sent reports whether the
// first fragment went to the link at once: the caller then counts the
// datagram forwarded; otherwise the first fragment carries the count
// (TransitBytes) until it leaves after neighbour resolution. Offsets
// cannot wrap: receive drops a fragment whose offset plus data passes
// 65535 (HandlePackets).
func (e *Endpoint) fragment(w *stack.Worker, pkt *stack.PacketBuffer, h header.IPv4, mtu int, gw netip.Addr, broadcast bool) (ok, sent bool) {
	defer pkt.Release()
	// A checksum the sender left to offload must be finished while the
	// datagram is whole: no fragment carries the whole L4 payload.
	if pkt.GSO.NeedsCsum && !stack.CompleteChecksum(pkt) {
		return false, false
	}
	hl := h.HeaderLength()
	payload := h[hl:]
	// Options for the second and later fragments.
	var opts [header.IPv4MaximumOptionsSize]byte
	n := 0
	it := header.NewIPv4OptionIterator(h.Options())
	for opt, ok := it.Next(); ok; opt, ok = it.Next() {
		if opt.Copied() {
			n += copy(opts[n:], opt.Raw)
		}
	}
	hlRest := header.IPv4MinimumSize + (n+3)&^3
	frameRoom := e.s.Frames().FrameSize() - stack.DefaultHeadroom
	if (mtu-hl)&^7 < 8 || (mtu-hlRest)&^7 < 8 || mtu > frameRoom {
		return false, false
	}
	baseOff := int(h.FragmentOffset())
	lastMF := h.MoreFragments()
	pool := e.s.Frames()
	st := &e.stats[w.ID()]
	for off := 0; off < len(payload); {
		fhl := hlRest
		if off == 0 {
			fhl = hl
		}
		chunk := (mtu - fhl) &^ 7
		last := off+chunk >= len(payload)
		if last {
			chunk = len(payload) - off
		}
		f := pool.Get()
		f.SetLen(fhl + chunk)
		b := f.Data()
		copy(b[:header.IPv4MinimumSize], h)
		if off == 0 {
			copy(b[header.IPv4MinimumSize:hl], h[header.IPv4MinimumSize:hl])
		} else {
			b[0] = header.IPv4Version<<4 | uint8(fhl/4)
			m := copy(b[header.IPv4MinimumSize:fhl], opts[:n])
			clear(b[header.IPv4MinimumSize+m : fhl])
		}
		copy(b[fhl:], payload[off:off+chunk])
		fh := header.IPv4(b)
		fh.SetTotalLength(uint16(fhl + chunk))
		var flags uint8
		if !last || lastMF {
			flags = header.IPv4FlagMoreFragments
		}
		fh.SetFlagsFragmentOffset(flags, uint16(baseOff+off))
		fh.UpdateChecksum()
		f.NetworkProtocol = stack.IPv4ProtocolNumber
		// A fragment of a transit packet is still transit: if its next
		// hop fails to resolve, its source hears about it (only locally
		// generated packets, NICID 0, never cause an ICMP error).
		f.NICID = pkt.NICID
		st.FragmentsCreated++
		now := true
		if broadcast {
			e.nic.WriteEthernet(w, f, stack.BroadcastLinkAddress, stack.IPv4ProtocolNumber)
		} else {
			if off == 0 {
				f.TransitBytes = uint32(len(h))
			}
			now = e.nic.WriteToNextHop(w, gw, f)
		}
		if now {
			st.PacketsSent++
		}
		if off == 0 {
			sent = now
		}
		off += chunk
	}
	return true, sent
}
