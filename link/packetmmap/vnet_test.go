//go:build linux

package packetmmap

import (
	"bytes"
	"testing"

	"github.com/nexthop-router/nexthop/stack"
)

// TestVnetHdrRoundTrip: the virtio_net_hdr written for a frame decodes back
// to the same GSO metadata, with offsets moved between the Ethernet header
// (virtio) and the network header (stack).
func TestVnetHdrRoundTrip(t *testing.T) {
	for _, g := range []stack.GSO{
		{},
		{NeedsCsum: true, CsumStart: 20, CsumOffset: 16},
		{Type: stack.GSOTCPv4, NeedsCsum: true, CsumStart: 20, CsumOffset: 16, MSS: 1448, HdrLen: 52},
		{Type: stack.GSOTCPv6, NeedsCsum: true, CsumStart: 40, CsumOffset: 16, MSS: 1428, HdrLen: 72},
		{Type: stack.GSOUDPL4, NeedsCsum: true, CsumStart: 20, CsumOffset: 6, MSS: 1472, HdrLen: 28},
	} {
		b := make([]byte, vnetHdrLen)
		encodeVnetHdr(b, &g, 1000, linearMax)
		var got stack.GSO
		decodeVnetHdr(b, &got)
		if got != g {
			t.Errorf("round trip of %+v gave %+v (header % x)", g, got, b)
		}
	}
}

// TestVnetHdrWire pins the bytes for one TCPv4 super-packet: flags
// NEEDS_CSUM, gso_type TCPV4, hdr_len/csum_start counted from the Ethernet
// header, little-endian (host order on amd64/arm64).
func TestVnetHdrWire(t *testing.T) {
	b := make([]byte, vnetHdrLen)
	encodeVnetHdr(b, &stack.GSO{Type: stack.GSOTCPv4, NeedsCsum: true, CsumStart: 20, CsumOffset: 16, MSS: 1448, HdrLen: 52}, 9000, linearMax)
	want := []byte{
		0x01,  // flags: VIRTIO_NET_HDR_F_NEEDS_CSUM
		0x01,  // gso_type: VIRTIO_NET_HDR_GSO_TCPV4
		66, 0, // hdr_len: 14 + 52
		0xa8, 0x05, // gso_size: 1448
		34, 0, // csum_start: 14 + 20
		16, 0, // csum_offset
	}
	if !bytes.Equal(b, want) {
		t.Errorf("vnet header % x, want % x", b, want)
	}
}

// TestVnetHdrLinearSmallFrames: a frame without GSO of at most linearMax
// bytes says its whole length in hdr_len, so the kernel copies it into the
// skb's linear data instead of attaching the ring's page; a larger one
// leaves hdr_len 0 (zero-copy), and a super-packet keeps its headers'
// length, which segmentation needs.
func TestVnetHdrLinearSmallFrames(t *testing.T) {
	for _, c := range []struct {
		g    stack.GSO
		n    int
		want uint16
	}{
		{stack.GSO{}, 64, 64},
		{stack.GSO{NeedsCsum: true, CsumStart: 20, CsumOffset: 6}, linearMax, linearMax},
		{stack.GSO{}, linearMax + 1, 0},
		{stack.GSO{}, 1514, 0},
		{stack.GSO{Type: stack.GSOTCPv4, NeedsCsum: true, CsumStart: 20, CsumOffset: 16, MSS: 1448, HdrLen: 52}, 300, 66},
	} {
		b := make([]byte, vnetHdrLen)
		encodeVnetHdr(b, &c.g, c.n, linearMax)
		if got := le.Uint16(b[vnetHdrLenOff:]); got != c.want {
			t.Errorf("%+v, %d bytes: hdr_len %d, want %d", c.g, c.n, got, c.want)
		}
		// On a driver that copies ring pages, every frame without GSO
		// goes linear; a super-packet still gives its headers' length.
		want := c.want
		if c.g.Type == stack.GSONone {
			want = uint16(c.n)
		}
		encodeVnetHdr(b, &c.g, c.n, linearAll)
		if got := le.Uint16(b[vnetHdrLenOff:]); got != want {
			t.Errorf("%+v, %d bytes, linearAll: hdr_len %d, want %d", c.g, c.n, got, want)
		}
	}
}

// TestVethTXGeometry: a veth's TX frames hold an MTU-sized frame with its
// headers, at least 10 KiB, and the ring at least DefaultTXFrames of them.
func TestVethTXGeometry(t *testing.T) {
	for _, c := range []struct{ mtu, size, frames int }{
		{1500, 10240, 614},
		{9000, 10240, 614},
		{12000, 12064, 521},
		{65535, 65600, DefaultTXFrames},
	} {
		size, frames := vethTXGeometry(c.mtu)
		if size != c.size || frames != c.frames || size%tpacketAlign != 0 || size < txDataOffset+vnetHdrLen+ethHdrLen+c.mtu {
			t.Errorf("MTU %d: %d frames of %d bytes, want %d of %d", c.mtu, frames, size, c.frames, c.size)
		}
	}
}
