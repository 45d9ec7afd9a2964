package bench

import "testing"

func TestBusyPerGbpsIsPerRound(t *testing.T) {
	tc := TCP{Gbps: []float64{10, 5, 0}, DUTBusyPct: []float64{50, 50, 40}}
	got := tc.BusyPerGbps()
	if len(got) != 2 || got[0] != 5 || got[1] != 10 {
		t.Errorf("BusyPerGbps = %v, want [5 10] (a round without goodput left out)", got)
	}
	// A round without a busy figure leaves the others unaligned: none.
	tc.DUTBusyPct = tc.DUTBusyPct[:2]
	if got := tc.BusyPerGbps(); got != nil {
		t.Errorf("BusyPerGbps with a missing busy figure = %v, want nil", got)
	}
}
