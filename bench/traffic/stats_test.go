package traffic

import (
	"math"
	"math/rand/v2"
	"testing"
)

// feed adds frames with the given seqs; flow = seq % flows like the
// generator; every frame has a latency of lat ns.
func feed(s *Stats, flows uint32, lat uint32, seqs ...uint32) {
	for _, q := range seqs {
		s.Add(Probe{Payload: Payload{Seq: q, TxNs: q * 10}, SrcPort: SrcPortBase + uint16(q%flows)}, q*10+lat)
	}
}

func seqRange(from, to uint32) []uint32 {
	var r []uint32
	for q := from; q < to; q++ {
		r = append(r, q)
	}
	return r
}

func TestStatsSequences(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		flows                uint32
		seqs                 []uint32
		recv, dup, reord, mx uint64
	}{
		{"in order", 1, seqRange(0, 1000), 1000, 0, 0, 999},
		{"loss", 1, []uint32{0, 1, 2, 5, 9}, 5, 0, 0, 9},
		{"duplicate", 1, []uint32{0, 1, 1, 2, 0}, 5, 2, 0, 2},
		{"late in own flow", 1, []uint32{0, 2, 1, 3}, 4, 0, 1, 3},
		{"late and duplicate", 1, []uint32{0, 2, 1, 1}, 4, 1, 1, 2},
		// seq 2 (flow 0) after seq 3 (flow 1): different flows, not reordered.
		{"flows interleave", 2, []uint32{0, 1, 3, 2}, 4, 0, 0, 3},
		// seq 1 after seq 3, both flow 1: reordered.
		{"reordered within flow", 2, []uint32{0, 3, 1, 2}, 4, 0, 1, 3},
		{"first frame not zero", 1, []uint32{100, 101, 99}, 3, 0, 1, 101},
		// A jump past the duplicate window forgets the old seqs: 5 again is
		// late, not a duplicate; 3 was never seen.
		{"past window", 1, []uint32{5, 5 + dupWindow, 5, 3}, 4, 0, 2, 5 + dupWindow},
		{"just inside window", 1, []uint32{5, 5 + dupWindow - 1, 5}, 3, 1, 0, 5 + dupWindow - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStats()
			feed(s, tc.flows, 1000, tc.seqs...)
			mx, ok := s.MaxSeq()
			if s.Received != tc.recv || s.Duplicates != tc.dup || s.Reordered != tc.reord || uint64(mx) != tc.mx || !ok {
				t.Errorf("received %d dup %d reordered %d max %d (%v); want %d %d %d %d",
					s.Received, s.Duplicates, s.Reordered, mx, ok, tc.recv, tc.dup, tc.reord, tc.mx)
			}
			if want := tc.recv - tc.dup; s.Latency.Count() != want {
				t.Errorf("latency samples %d, want %d (duplicates are not sampled)", s.Latency.Count(), want)
			}
		})
	}
}

func TestStatsEmpty(t *testing.T) {
	s := NewStats()
	if _, ok := s.MaxSeq(); ok || s.Latency.Quantile(0.5) != 0 || s.Latency.Max() != 0 {
		t.Error("empty stats report something")
	}
}

func TestLatencyClockStep(t *testing.T) {
	s := NewStats()
	// tx after rx: the clock stepped back; not a 4-second latency.
	s.Add(Probe{Payload: Payload{Seq: 0, TxNs: 2000}}, 1000)
	// Across the 32-bit wrap: rx 100 after tx 0xffffff00 is 356 ns.
	s.Add(Probe{Payload: Payload{Seq: 1, TxNs: 0xffffff00}}, 100)
	if s.ClockAnomalies != 1 || s.Latency.Count() != 1 || s.Latency.Max() != 356 {
		t.Errorf("anomalies %d samples %d max %d; want 1 1 356", s.ClockAnomalies, s.Latency.Count(), s.Latency.Max())
	}
}

func TestHistogramPercentiles(t *testing.T) {
	var h Histogram
	// 1..100000 µs in ns, shuffled.
	vals := make([]uint64, 100000)
	for i := range vals {
		vals[i] = uint64(i+1) * 1000
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
	for _, v := range vals {
		h.Record(v)
	}
	for _, tc := range []struct{ q, want float64 }{{0.5, 50000e3}, {0.99, 99000e3}, {0.999, 99900e3}, {0.01, 1000e3}} {
		got := h.Quantile(tc.q)
		if math.Abs(got-tc.want)/tc.want > 0.008 {
			t.Errorf("q%v = %.0f, want %.0f within 0.8%%", tc.q, got, tc.want)
		}
	}
	if h.Max() != 100000e3 || h.Quantile(1) > 100000e3 || h.Count() != 100000 {
		t.Errorf("max %d q1 %.0f count %d", h.Max(), h.Quantile(1), h.Count())
	}
	// Small values have exact buckets: the quantile is the ceil(q*n)-th
	// smallest value (nearest rank), so 0.6 of {1,2,3,4} is 3.
	var small Histogram
	for v := uint64(1); v <= 4; v++ {
		small.Record(v)
	}
	for _, tc := range []struct{ q, want float64 }{{0.25, 1}, {0.5, 2}, {0.6, 3}, {0.99, 4}, {0, 1}} {
		if got := small.Quantile(tc.q); got != tc.want {
			t.Errorf("q%v of {1,2,3,4} = %v, want %v", tc.q, got, tc.want)
		}
	}
	var one Histogram
	one.Record(7)
	if one.Quantile(0.5) != 7 || one.Quantile(0.99) != 7 {
		t.Errorf("single small value: %v %v", one.Quantile(0.5), one.Quantile(0.99))
	}
}

func TestHistogramBuckets(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	check := func(v uint64) {
		i := histIndex(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("value %d: index %d out of range", v, i)
		}
		lo, hi := histBounds(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d [%d, %d]", v, i, lo, hi)
		}
		if lo >= histSub && float64(hi-lo+1)/float64(lo) > 1.0/histSub {
			t.Fatalf("bucket %d [%d, %d] wider than 1/%d", i, lo, hi, histSub)
		}
	}
	for v := uint64(0); v < 5000; v++ {
		check(v)
	}
	for range 100000 {
		check(uint64(r.Uint32()))
	}
	check(1<<32 - 1)
	var h Histogram
	h.Record(1 << 40) // clamped, not out of range
	if h.Max() != 1<<32-1 {
		t.Errorf("clamped max %d", h.Max())
	}
}
