package traffic

import (
	"bytes"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	for _, p := range []Payload{{}, {ID: 1, Seq: 2, TxNs: 3}, {ID: 0xffffffff, Seq: 0xffffffff, TxNs: 0xffffffff}, {ID: Magic, Seq: 7}} {
		b := make([]byte, PayloadSize+3)
		EncodePayload(b, p)
		got, ok := DecodePayload(b)
		if !ok || got != p {
			t.Errorf("round trip of %+v gave %+v, %v", p, got, ok)
		}
	}
	b := make([]byte, PayloadSize)
	EncodePayload(b, Payload{ID: 0x01020304, Seq: 0x05060708, TxNs: 0x090a0b0c})
	want := []byte{0x4e ^ 1, 0x48 ^ 2, 0x42 ^ 3, 0x54 ^ 4, 5, 6, 7, 8, 9, 10, 11, 12}
	if !bytes.Equal(b, want) {
		t.Errorf("wire bytes %x, want %x", b, want)
	}
	if _, ok := DecodePayload(b[:PayloadSize-1]); ok {
		t.Error("11 bytes decoded")
	}
}
