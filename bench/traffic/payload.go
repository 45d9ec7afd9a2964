package traffic

import "encoding/binary"

// Wire constants of the test traffic; see the package documentation.
const (
	// Magic is XORed with the run id to form the payload tag ("NHBT").
	Magic uint32 = 0x4e484254
	// PayloadSize is the number of payload bytes the test fields occupy.
	PayloadSize = 12
	// DstPort is the UDP destination port of every test frame (discard).
	DstPort uint16 = 9
	// SrcPortBase is the UDP source port of flow 0; flow f uses SrcPortBase+f.
	SrcPortBase uint16 = 1024
	// MaxFlows is the largest number of flows: source ports 1024..65535.
	MaxFlows = 65536 - int(SrcPortBase)
)

// Payload offsets.
const (
	plTag = 0
	plSeq = 4
	plTx  = 8
)

// Payload holds the decoded test fields of one frame.
type Payload struct {
	// ID is the run id (the tag with Magic removed).
	ID uint32
	// Seq is the frame's sequence number in send order.
	Seq uint32
	// TxNs is the low 32 bits of the CLOCK_REALTIME send time in ns.
	TxNs uint32
}

// EncodePayload writes p into b[:PayloadSize].
// Precondition: len(b) >= PayloadSize.
func EncodePayload(b []byte, p Payload) {
	_ = b[PayloadSize-1]
	binary.BigEndian.PutUint32(b[plTag:], p.ID^Magic)
	binary.BigEndian.PutUint32(b[plSeq:], p.Seq)
	binary.BigEndian.PutUint32(b[plTx:], p.TxNs)
}

// DecodePayload reads the test fields from b; ok is false when b is too
// short to hold them. It does not check the tag: compare ID with the run id.
func DecodePayload(b []byte) (p Payload, ok bool) {
	if len(b) < PayloadSize {
		return Payload{}, false
	}
	return Payload{
		ID:   binary.BigEndian.Uint32(b[plTag:]) ^ Magic,
		Seq:  binary.BigEndian.Uint32(b[plSeq:]),
		TxNs: binary.BigEndian.Uint32(b[plTx:]),
	}, true
}
