package traffic

import (
	"testing"
)

// FuzzParseFrame feeds arbitrary bytes to the receiver's parser: it must
// not panic, and whatever it accepts must carry the run's tag.
func FuzzParseFrame(f *testing.F) {
	for _, v6 := range []bool{false, true} {
		tm, _ := NewTemplate(spec(v6, MinFrameSize(v6), 4, 3))
		b := make([]byte, tm.FrameLen())
		tm.Fill(b)
		tm.Stamp(b, 1, 2)
		f.Add(b, uint32(3))        // a valid test frame
		f.Add(b[:40], uint32(3))   // truncated inside the IP header
		f.Add(b, uint32(4))        // another run
		f.Add([]byte{}, uint32(0)) // nothing
	}
	f.Fuzz(func(t *testing.T, b []byte, id uint32) {
		p, ok := ParseFrame(b, id)
		if !ok {
			return
		}
		if p.ID != id || len(b) < 14+20+8+PayloadSize {
			t.Fatalf("accepted %x for id %d as %+v", b, id, p)
		}
	})
}

// FuzzFrameRoundTrip builds frames from arbitrary parameters: the template
// either rejects the spec or yields a frame with valid checksums that
// parses back to the stamped fields.
func FuzzFrameRoundTrip(f *testing.F) {
	f.Add(false, 64, 64, uint32(1), uint32(0), uint32(0))
	f.Add(true, 78, 1, uint32(0xffffffff), uint32(0xffffffff), uint32(0xffffffff))
	f.Add(true, 77, 1, uint32(0), uint32(0), uint32(0))
	f.Fuzz(func(t *testing.T, v6 bool, size, flows int, id, seq, tx uint32) {
		if size > 2000 {
			size = 2000 + size%2000 // keep the frames small; large sizes add nothing
		}
		s := spec(v6, size, flows, id)
		tm, err := NewTemplate(s)
		if err != nil {
			if s.Validate() == nil {
				t.Fatalf("NewTemplate failed for a valid spec: %v", err)
			}
			return
		}
		b := make([]byte, tm.FrameLen())
		tm.Fill(b)
		tm.Stamp(b, seq, tx)
		checkFrame(t, s, b, seq, tx)
	})
}
