package traffic

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/nexthop-router/nexthop/header"
)

// FCSSize is the Ethernet frame check sequence that RFC 2544 frame sizes
// include but that a packet socket neither writes nor sees.
const FCSSize = 4

// Smallest frame sizes (FCS included): the Ethernet minimum of 64 for IPv4;
// 14 + 40 + 8 + PayloadSize + 4 = 78 for IPv6.
const (
	MinFrameSizeIPv4 = 64
	MinFrameSizeIPv6 = header.EthernetMinimumSize + header.IPv6MinimumSize + header.UDPMinimumSize + PayloadSize + FCSSize
)

// MaxFrameSize is the largest frame (FCS included) a Spec may ask for: the
// IPv4 total length limit. The interface MTU usually limits it further.
const MaxFrameSize = header.EthernetMinimumSize + header.IPv4MaximumTotalSize + FCSSize

// MinFrameSize returns the smallest RFC 2544 frame size that holds the
// headers and the test payload for the address family (v6 or not).
func MinFrameSize(v6 bool) int {
	if v6 {
		return MinFrameSizeIPv6
	}
	return MinFrameSizeIPv4
}

// Spec describes the test frames of one run.
type Spec struct {
	// SrcMAC and DstMAC are the Ethernet addresses; DstMAC is the router's
	// (or the receiver's) port.
	SrcMAC, DstMAC [6]byte
	// Src and Dst are both IPv4 or both IPv6; the family picks the frame type.
	Src, Dst netip.Addr
	// Size is the frame size including the 4-byte FCS (RFC 2544).
	Size int
	// Flows is the number of distinct UDP source ports, 1..MaxFlows.
	Flows int
	// ID is the run id written into every payload's tag.
	ID uint32
}

// IPv6 reports whether the spec makes IPv6 frames.
func (s Spec) IPv6() bool { return s.Src.Is6() && !s.Src.Is4In6() }

// Validate checks the spec and says what to change.
func (s Spec) Validate() error {
	if !s.Src.IsValid() || !s.Dst.IsValid() {
		return errors.New("source and destination addresses are required")
	}
	if s.Src.Is4In6() || s.Dst.Is4In6() {
		return errors.New("use plain IPv4 addresses, not IPv4-mapped IPv6")
	}
	if s.Src.Is4() != s.Dst.Is4() {
		return fmt.Errorf("source %v and destination %v are of different families; use two IPv4 or two IPv6 addresses", s.Src, s.Dst)
	}
	min := MinFrameSize(s.IPv6())
	if s.Size < min {
		fam := "IPv4"
		if s.IPv6() {
			fam = "IPv6"
		}
		return fmt.Errorf("frame size %d is too small: %s+UDP test frames need at least %d bytes (FCS included)", s.Size, fam, min)
	}
	if s.Size > MaxFrameSize {
		return fmt.Errorf("frame size %d is too large: at most %d", s.Size, MaxFrameSize)
	}
	if s.Flows < 1 || s.Flows > MaxFlows {
		return fmt.Errorf("flows %d out of range: 1..%d (UDP source ports %d..65535)", s.Flows, MaxFlows, SrcPortBase)
	}
	return nil
}

// Template is a prebuilt test frame plus what Stamp needs to patch a copy
// of it per packet. It is immutable after NewTemplate and may be shared.
type Template struct {
	frame    []byte // Size-FCSSize bytes with port, seq and tx zero
	udpOff   int    // offset of the UDP header in the frame
	base     uint16 // UDP checksum sum (not complemented) with port/seq/tx zero
	flows    uint32
	frameLen int
}

// NewTemplate validates s and builds its frame with correct IP and UDP
// checksums; the per-packet fields are left for Stamp.
func NewTemplate(s Spec) (*Template, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	n := s.Size - FCSSize
	f := make([]byte, n)
	var udpOff int
	var pseudo uint16
	udpLen := 0
	if s.IPv6() {
		header.EncodeEthernet(f, s.DstMAC, s.SrcMAC, header.EtherTypeIPv6)
		udpOff = header.EthernetMinimumSize + header.IPv6MinimumSize
		udpLen = n - udpOff
		header.EncodeIPv6(f[header.EthernetMinimumSize:], header.IPv6Fields{
			PayloadLength: uint16(udpLen),
			NextHeader:    header.IPv6ProtocolUDP,
			HopLimit:      64,
			Src:           s.Src.As16(),
			Dst:           s.Dst.As16(),
		})
		pseudo = header.PseudoHeaderChecksumV6(header.IPv6ProtocolUDP, s.Src.As16(), s.Dst.As16(), uint32(udpLen))
	} else {
		header.EncodeEthernet(f, s.DstMAC, s.SrcMAC, header.EtherTypeIPv4)
		udpOff = header.EthernetMinimumSize + header.IPv4MinimumSize
		udpLen = n - udpOff
		header.EncodeIPv4(f[header.EthernetMinimumSize:], header.IPv4Fields{
			TotalLength: uint16(n - header.EthernetMinimumSize),
			Flags:       header.IPv4FlagDontFragment,
			TTL:         64,
			Protocol:    header.IPv4ProtocolUDP,
			Src:         s.Src.As4(),
			Dst:         s.Dst.As4(),
		})
		pseudo = header.PseudoHeaderChecksumV4(header.IPv4ProtocolUDP, s.Src.As4(), s.Dst.As4(), uint16(udpLen))
	}
	udp := f[udpOff:]
	header.EncodeUDP(udp, header.UDPFields{SrcPort: 0, DstPort: DstPort, Length: uint16(udpLen)})
	EncodePayload(udp[header.UDPMinimumSize:], Payload{ID: s.ID})
	return &Template{
		frame:    f,
		udpOff:   udpOff,
		base:     header.Checksum(udp, pseudo),
		flows:    uint32(s.Flows),
		frameLen: n,
	}, nil
}

// FrameLen is the number of bytes a packet socket sends per frame (Size - 4).
func (t *Template) FrameLen() int { return t.frameLen }

// Fill copies the template into dst, which must be FrameLen bytes long;
// call it once per buffer, then Stamp per packet.
func (t *Template) Fill(dst []byte) { copy(dst, t.frame) }

// Stamp turns a buffer prepared by Fill into packet seq sent at txNs: it
// writes the flow's source port, seq and timestamp and the UDP checksum,
// updated from the template's base sum (no pass over the payload, no
// allocation). Precondition: len(dst) == FrameLen() and Fill was applied.
func (t *Template) Stamp(dst []byte, seq, txNs uint32) {
	udp := dst[t.udpOff : t.udpOff+header.UDPMinimumSize+PayloadSize]
	port := SrcPortBase + uint16(seq%t.flows)
	binary.BigEndian.PutUint16(udp[0:], port)
	pl := udp[header.UDPMinimumSize:]
	binary.BigEndian.PutUint32(pl[plSeq:], seq)
	binary.BigEndian.PutUint32(pl[plTx:], txNs)
	sum := header.Checksum(pl[plSeq:PayloadSize], header.ChecksumCombine(t.base, port))
	x := ^sum
	if x == 0 {
		x = 0xffff // RFC 768: zero means "no checksum"
	}
	binary.BigEndian.PutUint16(udp[6:], x)
}

// Probe is what the receiver learns from one test frame.
type Probe struct {
	Payload
	// SrcPort is the UDP source port, which names the flow.
	SrcPort uint16
}

// ParseFrame reports whether frame (starting at the Ethernet header) is a
// test frame of run id and returns its fields. It never panics and never
// allocates, whatever the input; it checks structure (EtherType, IP version
// and lengths, no fragment, UDP to DstPort, room for the payload, the tag)
// but not checksums, which a router may legitimately have offloaded.
func ParseFrame(frame []byte, id uint32) (Probe, bool) {
	if header.ValidateEthernet(frame) != nil {
		return Probe{}, false
	}
	var udp []byte
	switch header.Ethernet(frame).EtherType() {
	case header.EtherTypeIPv4:
		ip := frame[header.EthernetMinimumSize:]
		if header.ValidateIPv4(ip) != nil {
			return Probe{}, false
		}
		h := header.IPv4(ip)
		if h.Protocol() != header.IPv4ProtocolUDP || h.IsFragment() {
			return Probe{}, false
		}
		udp = h.Payload()
	case header.EtherTypeIPv6:
		ip := frame[header.EthernetMinimumSize:]
		if header.ValidateIPv6(ip) != nil {
			return Probe{}, false
		}
		h := header.IPv6(ip)
		if h.NextHeader() != header.IPv6ProtocolUDP {
			return Probe{}, false
		}
		udp = h.Payload()
	default:
		return Probe{}, false
	}
	if header.ValidateUDP(udp) != nil {
		return Probe{}, false
	}
	u := header.UDP(udp)
	if u.DestinationPort() != DstPort {
		return Probe{}, false
	}
	p, ok := DecodePayload(u.Payload())
	if !ok || p.ID != id {
		return Probe{}, false
	}
	return Probe{Payload: p, SrcPort: u.SourcePort()}, true
}
