package traffic

import (
	"math"
	"testing"
	"time"
)

func TestPacerSteps(t *testing.T) {
	p := pacer{rate: 1000}
	for _, tc := range []struct {
		el       time.Duration
		sent     uint64
		n        int
		wait     time.Duration
		maxBatch int
	}{
		{0, 0, 1, 0, 64},
		{0, 1, 0, time.Millisecond, 64},
		{500 * time.Microsecond, 1, 0, 500 * time.Microsecond, 64},
		{10 * time.Millisecond, 1, 10, 0, 64},
		{time.Second, 1, 64, 0, 64},
		{time.Second, 1, 8, 0, 8},
	} {
		n, wait := p.due(tc.el, tc.sent, tc.maxBatch)
		if n != tc.n || wait != tc.wait {
			t.Errorf("due(%v, %d, %d) = %d, %v; want %d, %v", tc.el, tc.sent, tc.maxBatch, n, wait, tc.n, tc.wait)
		}
	}
	if n, _ := (pacer{}).due(time.Hour, 1e9, 64); n != 64 {
		t.Errorf("rate 0 sends %d, want a full batch", n)
	}
}

// TestPacerRate runs the pacer against a simulated clock in which every
// sleep overshoots by 60 µs and every batch takes 1 µs per frame, and
// checks the mean rate is within 1% over one second.
func TestPacerRate(t *testing.T) {
	for _, rate := range []float64{10e3, 100e3, 500e3, 1e6} {
		p := pacer{rate: rate}
		var el time.Duration
		var sent uint64
		for el < time.Second {
			n, wait := p.due(el, sent, 64)
			if n == 0 {
				el += wait + 60*time.Microsecond
				continue
			}
			sent += uint64(n)
			el += time.Duration(n) * time.Microsecond
		}
		if math.Abs(float64(sent)-rate)/rate > 0.01 {
			t.Errorf("rate %v: sent %d in 1 s", rate, sent)
		}
	}
}
