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
	return Trial{Rate: rate, Offered: uint64(offered), Received: uint64(recv), Seconds: 1, BusyNs: recv * 500}, nil
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
	tr := Trial{Offered: 1000, Received: 1200, Seconds: 0.5, BusyNs: 600_000}
	if tr.Loss() != 0 || tr.OfferedPps() != 2000 || tr.ReceivedPps() != 2400 || tr.CPUNsPerPacket() != 500 {
		t.Errorf("got loss %v offered %v received %v cpu %v", tr.Loss(), tr.OfferedPps(), tr.ReceivedPps(), tr.CPUNsPerPacket())
	}
	if (Trial{}).Pass() || (Trial{}).Loss() != 1 || (Trial{}).CPUNsPerPacket() != 0 {
		t.Error("an empty trial must fail with loss 1 and no CPU figure")
	}
}
