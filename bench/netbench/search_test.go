package netbench

import (
	"errors"
	"math"
	"testing"
)

// fakeDUT models a system that forwards up to capacity pps and a
// generator that offers at most genMax pps; floorLoss is lost at any rate.
type fakeDUT struct {
	capacity, genMax, floorLoss float64
	rates                       []float64
}

func (f *fakeDUT) trial(rate float64) (Trial, error) {
	f.rates = append(f.rates, rate)
	offered := f.genMax
	if rate > 0 && rate < offered {
		offered = rate
	}
	recv := math.Min(offered, f.capacity) * (1 - f.floorLoss)
	return Trial{Rate: rate, Offered: uint64(offered), Received: uint64(recv), Seconds: 1, CPUNs: recv * 500}, nil
}

func TestSearchConverges(t *testing.T) {
	for _, capacity := range []float64{50_000, 333_333, 900_000, 1_290_000} {
		f := &fakeDUT{capacity: capacity, genMax: 1_300_000}
		res, err := Search(SearchOptions{MaxTrials: 8, Resolution: 0.01}, f.trial)
		if err != nil {
			t.Fatal(err)
		}
		if res.GeneratorBound {
			t.Errorf("capacity %.0f: reported generator-bound", capacity)
		}
		// The answer must pass (≤ capacity) and be within 2 % of it.
		// (a rate up to capacity/0.999 loses < 0.1 % and passes)
		if res.Pps > capacity/(1-MaxLoss) || res.Pps < capacity*0.98 {
			t.Errorf("capacity %.0f: found %.0f pps after rates %v", capacity, res.Pps, f.rates)
		}
		if res.Best == nil || !res.Best.Pass() {
			t.Errorf("capacity %.0f: best trial %+v does not pass", capacity, res.Best)
		}
		if got := res.Best.CPUNsPerPacket(); math.Abs(got-500) > 0.01 {
			t.Errorf("CPU ns per packet = %v, want 500 (from the best trial)", got)
		}
		if len(res.Trials) > 8 {
			t.Errorf("%d trials, limit 8", len(res.Trials))
		}
	}
}

func TestSearchLossCriterion(t *testing.T) {
	// 0.05 % loss everywhere passes (< 0.1 %): generator-bound at max.
	f := &fakeDUT{capacity: 2e6, genMax: 1e6, floorLoss: 0.0005}
	res, err := Search(SearchOptions{MaxTrials: 6}, f.trial)
	if err != nil {
		t.Fatal(err)
	}
	if !res.GeneratorBound || len(res.Trials) != 1 || res.Pps != 1e6 {
		t.Errorf("0.05%% loss: got bound=%v trials=%d pps=%.0f, want generator-bound after 1 trial at 1e6", res.GeneratorBound, len(res.Trials), res.Pps)
	}
	// 0.2 % loss everywhere never passes.
	f = &fakeDUT{capacity: 2e6, genMax: 1e6, floorLoss: 0.002}
	res, err = Search(SearchOptions{MaxTrials: 6}, f.trial)
	if err != nil {
		t.Fatal(err)
	}
	if res.Best != nil || res.Pps != 0 {
		t.Errorf("0.2%% loss: got %.0f pps, want no passing trial", res.Pps)
	}
	// Exactly at the boundary: 0.1 % is a failure (the criterion is < 0.1 %).
	if (Trial{Offered: 100000, Received: 99900, Seconds: 1}).Pass() {
		t.Error("0.1 % loss passed")
	}
	if !(Trial{Offered: 100000, Received: 99901, Seconds: 1}).Pass() {
		t.Error("0.099 % loss failed")
	}
}

func TestSearchGeneratorBound(t *testing.T) {
	f := &fakeDUT{capacity: 5e6, genMax: 1.2e6}
	res, err := Search(SearchOptions{MaxTrials: 6}, f.trial)
	if err != nil {
		t.Fatal(err)
	}
	if !res.GeneratorBound || res.Pps != 1.2e6 || len(f.rates) != 1 || f.rates[0] != 0 {
		t.Errorf("got bound=%v pps=%.0f rates=%v, want one max-rate trial, generator-bound at 1.2e6", res.GeneratorBound, res.Pps, f.rates)
	}
}

func TestSearchBoundsMonotonic(t *testing.T) {
	// A noisy DUT: passes at some rates above ones it failed would break a
	// naive search; the bounds must still only tighten.
	fails := map[int]bool{}
	var rates []float64
	trial := func(rate float64) (Trial, error) {
		rates = append(rates, rate)
		off := rate
		if rate == 0 {
			off = 1e6
		}
		recv := off
		if off > 400_000 || len(rates)%3 == 0 { // every third trial fails anyway
			recv = off * 0.9
			fails[len(rates)-1] = true
		}
		return Trial{Rate: rate, Offered: uint64(off), Received: uint64(recv), Seconds: 1}, nil
	}
	res, err := Search(SearchOptions{MaxTrials: 10}, trial)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := 0.0, 1e6
	for i, r := range rates[1:] {
		if r <= lo || r >= hi {
			t.Fatalf("probe %d at %.0f outside the bounds (%.0f, %.0f); rates %v", i+1, r, lo, hi, rates)
		}
		if fails[i+1] {
			hi = r
		} else {
			lo = r
		}
	}
	if math.Abs(res.Pps-lo) > 1 {
		t.Errorf("result %.0f, want the highest passing rate %.0f", res.Pps, lo)
	}
}

func TestSearchErrors(t *testing.T) {
	boom := errors.New("generator crashed")
	_, err := Search(SearchOptions{MaxTrials: 4}, func(float64) (Trial, error) { return Trial{}, boom })
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the trial's error", err)
	}
	_, err = Search(SearchOptions{MaxTrials: 4}, func(float64) (Trial, error) { return Trial{Seconds: 1}, nil })
	if !errors.Is(err, errNothingOffered) {
		t.Errorf("err = %v, want errNothingOffered", err)
	}
}

func TestTrialFigures(t *testing.T) {
	tr := Trial{Offered: 1000, Received: 1200, Seconds: 0.5, CPUNs: 600_000}
	if tr.Loss() != 0 || tr.OfferedPps() != 2000 || tr.ReceivedPps() != 2400 || tr.CPUNsPerPacket() != 500 {
		t.Errorf("got loss %v offered %v received %v cpu %v", tr.Loss(), tr.OfferedPps(), tr.ReceivedPps(), tr.CPUNsPerPacket())
	}
	if (Trial{}).Pass() || (Trial{}).Loss() != 1 || (Trial{}).CPUNsPerPacket() != 0 {
		t.Error("an empty trial must fail with loss 1 and no CPU figure")
	}
}

func TestSearchBracketsOrSaysLowerBound(t *testing.T) {
	// Enough trials: the result is bracketed within the resolution.
	f := &fakeDUT{capacity: 333_333, genMax: 1_300_000}
	res, err := Search(SearchOptions{MaxTrials: 12, Resolution: 0.01}, f.trial)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Bracketed || res.UpperPps <= res.Pps || (res.UpperPps-res.Pps)/res.UpperPps >= 0.01 {
		t.Errorf("12 trials: bracketed=%v pps=%.0f upper=%.0f, want a failure within 1 %% above; rates %v", res.Bracketed, res.Pps, res.UpperPps, f.rates)
	}
	// A first probe far below the answer and too few trials: the passes
	// climb but nothing above them failed, so the figure is a lower bound.
	f = &fakeDUT{capacity: 900_000, genMax: 1_300_000}
	res, err = Search(SearchOptions{MaxTrials: 4, Resolution: 0.01, Hint: 100_000}, f.trial)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bracketed || res.Best == nil || res.Pps >= 900_000 || res.UpperPps != 1_300_000 {
		t.Errorf("4 trials from 100 kpps: bracketed=%v pps=%.0f upper=%.0f, want an unbracketed lower bound under 1.3 Mpps; rates %v",
			res.Bracketed, res.Pps, res.UpperPps, f.rates)
	}
}

func TestSearchHintIsFirstProbe(t *testing.T) {
	f := &fakeDUT{capacity: 500_000, genMax: 1_300_000}
	if _, err := Search(SearchOptions{MaxTrials: 12, Resolution: 0.01, Hint: 495_000}, f.trial); err != nil {
		t.Fatal(err)
	}
	if len(f.rates) < 2 || f.rates[1] != 495_000 {
		t.Errorf("rates %v: want the hint 495000 probed right after the maximum-rate trial", f.rates)
	}
	if len(f.rates) > 5 {
		t.Errorf("%d trials from a good hint, want ≤ 5: %v", len(f.rates), f.rates)
	}
}

func TestSearchRerunsInvalidTrials(t *testing.T) {
	// The generator falls 10 % short on the first try at every rate (its
	// core was busy), then offers the rate: every such trial is re-run
	// once and the search still finds the capacity.
	tries := map[float64]int{}
	var rates []float64
	trial := func(rate float64) (Trial, error) {
		rates = append(rates, rate)
		off := rate
		if rate == 0 {
			off = 1e6
		}
		tries[rate]++
		if rate > 0 && tries[rate] == 1 {
			off *= 0.9
		}
		recv := math.Min(off, 400_000)
		return Trial{Rate: rate, Offered: uint64(off), Received: uint64(recv), Seconds: 1}, nil
	}
	res, err := Search(SearchOptions{MaxTrials: 30, Resolution: 0.01, MaxReruns: 2}, trial)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pps < 390_000 || res.Pps > 400_400 || !res.Bracketed {
		t.Errorf("pps %.0f bracketed %v, want ≈ 400000; rates %v", res.Pps, res.Bracketed, rates)
	}
	for r, n := range tries {
		if r > 0 && n > 2 {
			t.Errorf("rate %.0f tried %d times, want ≤ 2 (one re-run cleared it)", r, n)
		}
	}

	// A generator that always falls 10 % short of its target: every
	// trial is invalid, re-run MaxReruns times, then counted as failed.
	rates = nil
	short := func(rate float64) (Trial, error) {
		rates = append(rates, rate)
		off := 1e6
		if rate > 0 {
			off = rate * 0.9
		}
		recv := math.Min(off, 400_000)
		return Trial{Rate: rate, Offered: uint64(off), Received: uint64(recv), Seconds: 1}, nil
	}
	res, err = Search(SearchOptions{MaxTrials: 7, Resolution: 0.01, MaxReruns: 2}, short)
	if err != nil {
		t.Fatal(err)
	}
	if res.Best != nil {
		t.Errorf("a generator that never reaches its target produced a figure %.0f; rates %v", res.Pps, rates)
	}
	if len(rates) != 7 || rates[1] != rates[2] || rates[2] != rates[3] || rates[4] == rates[3] {
		t.Errorf("rates %v: want the first probe run 3 times (2 re-runs), then the next probe", rates)
	}
	if res.Trials[3].Rejected == "" {
		t.Errorf("trial after its re-runs not marked rejected: %+v", res.Trials[3])
	}
}

func TestTrialProblem(t *testing.T) {
	ok := Trial{Rate: 100_000, Offered: 96_000, Received: 96_000, Seconds: 1}
	if p := ok.Problem(); p != "" || !ok.Pass() {
		t.Errorf("4 %% under the target: problem %q, want a valid passing trial", p)
	}
	under := Trial{Rate: 100_000, Offered: 94_000, Received: 94_000, Seconds: 1}
	if under.Problem() == "" || under.Pass() {
		t.Error("6 % under the target passed")
	}
	over := Trial{Rate: 100_000, Offered: 106_000, Received: 106_000, Seconds: 1}
	if over.Problem() == "" || over.Pass() {
		t.Error("6 % over the target passed")
	}
	// Frames the DUT's full ring refused are lost: a valid trial that
	// fails on loss.
	refused := Trial{Rate: 100_000, Offered: 100_000, Refused: 200, Received: 99_800, Seconds: 1}
	if refused.Problem() != "" || refused.Pass() {
		t.Errorf("0.2 %% refused: problem %q pass %v, want a valid failing trial", refused.Problem(), refused.Pass())
	}
	maxRate := Trial{Offered: 700_000, Received: 700_000, Seconds: 1}
	if !maxRate.Pass() {
		t.Errorf("a clean maximum-rate trial failed: %q", maxRate.Problem())
	}
}
