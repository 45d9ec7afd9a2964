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
		encodeVnetHdr(b, &g)
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
	encodeVnetHdr(b, &stack.GSO{Type: stack.GSOTCPv4, NeedsCsum: true, CsumStart: 20, CsumOffset: 16, MSS: 1448, HdrLen: 52})
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
