package stack

// GSOType says what kind of super-packet a PacketBuffer holds, following the
// virtio_net_hdr gso_type values the kernel hands PACKET_MMAP sockets.
type GSOType uint8

// GSO types. GSOSW marks a super-packet that the router itself must segment
// before it goes to a link that cannot take it.
const (
	GSONone GSOType = iota
	GSOTCPv4
	GSOTCPv6
	GSOUDPL4
	GSOSW
)

// String names the type for logs.
func (t GSOType) String() string {
	switch t {
	case GSONone:
		return "none"
	case GSOTCPv4:
		return "tcpv4"
	case GSOTCPv6:
		return "tcpv6"
	case GSOUDPL4:
		return "udp_l4"
	case GSOSW:
		return "software"
	}
	return "unknown"
}

// GSO is the segmentation and checksum metadata of a frame, carried from the
// link that received it to the link that sends it (virtio_net_hdr semantics:
// offsets count from the start of the network header).
type GSO struct {
	// Type is GSONone for an ordinary frame.
	Type GSOType
	// NeedsCsum means the L4 checksum is not ready: the field at
	// CsumStart+CsumOffset holds only the pseudo-header sum.
	NeedsCsum bool
	// CsumStart is where checksumming starts (the L4 header).
	CsumStart uint16
	// CsumOffset is the checksum field's offset from CsumStart.
	CsumOffset uint16
	// MSS is the gso_size: the payload bytes per segment.
	MSS uint16
	// HdrLen is the length of all headers in front of the payload.
	HdrLen uint16
}
