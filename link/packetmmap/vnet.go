//go:build linux

package packetmmap

import (
	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/stack"
)

// struct virtio_net_hdr: flags u8, gso_type u8, hdr_len, gso_size,
// csum_start, csum_offset u16 in host order. Its offsets count from the
// Ethernet header; stack.GSO's count from the network header.
const (
	vnetFlags      = 0
	vnetGSOType    = 1
	vnetHdrLenOff  = 2
	vnetGSOSize    = 4
	vnetCsumStart  = 6
	vnetCsumOffset = 8
)

// decodeVnetHdr fills g from a received virtio_net_hdr.
func decodeVnetHdr(b []byte, g *stack.GSO) {
	if b[vnetFlags]&unix.VIRTIO_NET_HDR_F_NEEDS_CSUM != 0 {
		g.NeedsCsum = true
		if cs := le.Uint16(b[vnetCsumStart:]); cs >= ethHdrLen {
			g.CsumStart = cs - ethHdrLen
		}
		g.CsumOffset = le.Uint16(b[vnetCsumOffset:])
	}
	switch b[vnetGSOType] &^ unix.VIRTIO_NET_HDR_GSO_ECN {
	case unix.VIRTIO_NET_HDR_GSO_TCPV4:
		g.Type = stack.GSOTCPv4
	case unix.VIRTIO_NET_HDR_GSO_TCPV6:
		g.Type = stack.GSOTCPv6
	case unix.VIRTIO_NET_HDR_GSO_UDP_L4:
		g.Type = stack.GSOUDPL4
	default:
		g.Type = stack.GSONone
	}
	if g.Type != stack.GSONone {
		g.MSS = le.Uint16(b[vnetGSOSize:])
		if hl := le.Uint16(b[vnetHdrLenOff:]); hl >= ethHdrLen {
			g.HdrLen = hl - ethHdrLen
		}
	}
}

// linearMax is the largest frame sent without GSO whose virtio_net_hdr
// hdr_len covers all of it, so the kernel copies it into the skb's linear
// data. Otherwise a TX ring frame's bytes past the Ethernet header become
// a zero-copy page fragment, which a veth (or anything that hands the skb
// to another namespace) must copy again into a freshly allocated page: for
// a small frame, a page allocation to move 50 bytes. Larger frames keep
// the zero-copy path, which a real NIC reads by DMA; on a driver that
// copies ring pages anyway (forwardingDrivers) every frame goes linear
// (linearAll). (Only the TX ring needs this: packet_snd, behind sendmsg,
// already copies a frame shorter than a page into linear data.)
const (
	linearMax = 512
	linearAll = 1<<16 - 1
)

// encodeVnetHdr writes the virtio_net_hdr for a frame of frameLen bytes to
// send, so the kernel completes its checksum and segments it if it is a
// super-packet; a frame without GSO of up to linearTo bytes is copied into
// the skb's linear data (linearMax or linearAll).
func encodeVnetHdr(b []byte, g *stack.GSO, frameLen, linearTo int) {
	clear(b[:vnetHdrLen])
	if g.NeedsCsum {
		b[vnetFlags] = unix.VIRTIO_NET_HDR_F_NEEDS_CSUM
		le.PutUint16(b[vnetCsumStart:], g.CsumStart+ethHdrLen)
		le.PutUint16(b[vnetCsumOffset:], g.CsumOffset)
	}
	switch g.Type {
	case stack.GSOTCPv4:
		b[vnetGSOType] = unix.VIRTIO_NET_HDR_GSO_TCPV4
	case stack.GSOTCPv6:
		b[vnetGSOType] = unix.VIRTIO_NET_HDR_GSO_TCPV6
	case stack.GSOUDPL4:
		b[vnetGSOType] = unix.VIRTIO_NET_HDR_GSO_UDP_L4
	default:
		if frameLen <= linearTo {
			le.PutUint16(b[vnetHdrLenOff:], uint16(frameLen))
		}
		return
	}
	le.PutUint16(b[vnetGSOSize:], g.MSS)
	le.PutUint16(b[vnetHdrLenOff:], g.HdrLen+ethHdrLen)
}
