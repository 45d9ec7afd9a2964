package netbench

import (
	"errors"
	"fmt"
	"math"
)

// MaxLoss is the RFC 2544 §26.1 pass criterion as this benchmark applies
// it: a trial passes when fewer than 0.1 % of the offered frames are lost
// (strictly zero loss is unmeasurable on a shared 2-vCPU VM).
const MaxLoss = 0.001

// RateTolerance is how far a fixed-rate trial's offered rate may stray from
// its target before the trial is invalid: a trial measures the rate asked
// for, or it measures nothing.
const RateTolerance = 0.05

// Trial is what one fixed-rate trial measured. Offered is the generator's
// own count of the frames it put to the link — accepted, or refused because
// the DUT's ingress ring was full (veth drops there, as a NIC ring would) —
// and Received the receiver port's rx_packets, so refused frames are DUT
// loss. Interface tx counters are not used: the kernel counts a refused
// frame in tx_dropped too.
type Trial struct {
	// Rate is the rate asked of the generator in frames/s; 0 means as
	// fast as it can.
	Rate float64
	// Offered is the number of frames the generator put to the DUT's
	// ingress link (its Sent + Refused).
	Offered uint64
	// Refused is how many of them the DUT's ingress ring refused (full):
	// lost, and counted in the loss.
	Refused uint64
	// Received is the number of frames that arrived at the receiver.
	Received uint64
	// Seconds is how long the generator ran.
	Seconds float64
	// CPUNs is the CPU time the DUT's own threads (router process, DUT
	// ports' napi kthreads) used during the trial.
	CPUNs float64
	// Rejected says why the trial was recorded as a failure although its
	// loss passed: it stayed invalid (see Problem) after its re-runs.
	Rejected string
}

// Loss is the fraction of the offered frames that did not arrive; 1 when
// nothing was offered, 0 when more arrived than were offered.
func (t Trial) Loss() float64 {
	if t.Offered == 0 {
		return 1
	}
	if t.Received >= t.Offered {
		return 0
	}
	return float64(t.Offered-t.Received) / float64(t.Offered)
}

// Problem says why the trial does not measure what it was asked to: the
// generator offered nothing, or a rate outside ±RateTolerance of the
// target (it fell behind, e.g. its core was busy). "" means valid. A
// maximum-rate trial (Rate 0) has no target.
func (t Trial) Problem() string {
	if t.Offered == 0 || t.Seconds <= 0 {
		return "the generator offered nothing"
	}
	if t.Rate > 0 && math.Abs(t.OfferedPps()/t.Rate-1) > RateTolerance {
		return fmt.Sprintf("offered %.1f kpps, outside ±%.0f %% of the target %.1f kpps", t.OfferedPps()/1e3, RateTolerance*100, t.Rate/1e3)
	}
	return ""
}

// Pass reports whether the trial is valid and meets the < 0.1 % loss
// criterion.
func (t Trial) Pass() bool {
	return t.Rejected == "" && t.Problem() == "" && t.Loss() < MaxLoss
}

// OfferedPps is the rate the generator really offered.
func (t Trial) OfferedPps() float64 {
	if t.Seconds <= 0 {
		return 0
	}
	return float64(t.Offered) / t.Seconds
}

// ReceivedPps is the rate that arrived at the receiver.
func (t Trial) ReceivedPps() float64 {
	if t.Seconds <= 0 {
		return 0
	}
	return float64(t.Received) / t.Seconds
}

// CPUNsPerPacket is the DUT's CPU time per forwarded frame; 0 when nothing
// was forwarded.
func (t Trial) CPUNsPerPacket() float64 {
	if t.Received == 0 {
		return 0
	}
	return t.CPUNs / float64(t.Received)
}

// SearchResult is the outcome of one throughput search.
type SearchResult struct {
	// Pps is the offered rate of the best passing trial (0 if none passed).
	Pps float64
	// Best is that trial; nil when no trial passed.
	Best *Trial
	// GeneratorBound is true when the maximum-rate trial already passed:
	// the system forwarded everything the generator could offer, so Pps is
	// a lower bound on its throughput.
	GeneratorBound bool
	// Bracketed is true when a failing rate less than Resolution above Pps
	// was found, so Pps is the throughput to that resolution. False (and
	// not generator-bound) means the trials ran out first: Pps is a lower
	// bound and UpperPps the lowest rate seen failing.
	Bracketed bool
	// UpperPps is the lowest target rate that failed (the maximum-rate
	// trial's offered rate when no other did); 0 when generator-bound.
	UpperPps float64
	// Trials are every trial run, re-runs included, in order.
	Trials []Trial
}

// SearchOptions bound a throughput search.
type SearchOptions struct {
	// MaxTrials caps the trials, the maximum-rate one and re-runs
	// included (≥ 2).
	MaxTrials int
	// Resolution stops the search once (hi-lo)/hi falls below it, e.g.
	// 0.01; 0 means run all MaxTrials.
	Resolution float64
	// MaxReruns is how often an invalid trial (Trial.Problem) that would
	// otherwise pass is re-run before it is recorded as a failure.
	MaxReruns int
	// Hint, when inside the bracket the maximum-rate trial leaves, is
	// the first rate probed (e.g. the previous round's result); 0 means
	// just under the rate received at maximum load.
	Hint float64
}

// errNothingOffered means the generator put no frame on the link, so no
// search is possible.
var errNothingOffered = errors.New("the generator offered no frames (check `bench gen` on this kernel)")

// Search finds the highest offered rate with < 0.1 % loss (RFC 2544 §26.1)
// by running trial at chosen rates. It starts with a maximum-rate trial; if
// that passes the system is generator-bound and the search ends. Otherwise
// the first probe is o.Hint or just under the rate the receiver saw at
// maximum load; from there it steps away in growing steps until the answer
// is bracketed, then halves the interval between the highest passing and
// the lowest failing target rate, until (hi-lo)/hi < o.Resolution or the
// trials run out (then the result is marked unbracketed: a lower bound).
//
// Bounds only ever tighten (lo rises on a pass, hi falls on a failure), so
// a loss curve that is not monotonic — receive livelock forwards less at
// overload than just above its throughput — cannot make the search report
// a rate above one that failed: each probe lies strictly between them.
func Search(o SearchOptions, trial func(rate float64) (Trial, error)) (SearchResult, error) {
	var res SearchResult
	if o.MaxTrials < 2 {
		o.MaxTrials = 2
	}
	t0, err := trial(0)
	if err != nil {
		return res, err
	}
	res.Trials = append(res.Trials, t0)
	if t0.Offered == 0 || t0.Seconds <= 0 {
		return res, errNothingOffered
	}
	if t0.Pass() {
		res.GeneratorBound = true
		res.Bracketed = true
		res.Best = &res.Trials[0]
		res.Pps = t0.OfferedPps()
		return res, nil
	}
	hi := t0.OfferedPps()
	lo := 0.0
	next := t0.ReceivedPps() * 0.98
	if o.Hint > 0 && o.Hint < hi {
		next = o.Hint
	}
	if next >= hi || next <= 0 {
		next = hi * 0.9
	}
	best := -1
	probeFailed := false
	// The answer is usually close to the first probe, so the search walks
	// away from it in growing steps (up 3 %, 6 %, 12 %, … while no probe
	// has failed; down 10 %, 20 %, 40 %, 50 % while none has passed) until
	// it has a bracket no wider than a bisection would, then bisects.
	step, down := 0.03, 0.1
	if o.Hint > 0 {
		step = 0.02 // a previous result is a good guess
	}
	for len(res.Trials) < o.MaxTrials {
		if next <= lo || next >= hi {
			return res, fmt.Errorf("search: internal error: probe %.0f outside (%.0f, %.0f)", next, lo, hi)
		}
		t, err := trial(next)
		if err != nil {
			return res, err
		}
		// An invalid trial whose loss passed is re-run: a generator that
		// strayed from its target says nothing certain about the DUT. A
		// trial that lost too much fails whatever else went wrong.
		for rerun := 0; t.Problem() != "" && t.Loss() < MaxLoss; rerun++ {
			if rerun >= o.MaxReruns || len(res.Trials)+1 >= o.MaxTrials {
				t.Rejected = t.Problem()
				break
			}
			res.Trials = append(res.Trials, t)
			if t, err = trial(next); err != nil {
				return res, err
			}
		}
		res.Trials = append(res.Trials, t)
		pass := t.Pass()
		if pass {
			lo = next
			best = len(res.Trials) - 1
		} else {
			hi = next
			probeFailed = true
		}
		if o.Resolution > 0 && lo > 0 && (hi-lo)/hi < o.Resolution {
			res.Bracketed = true
			break
		}
		switch {
		case lo == 0:
			// Nothing passed yet: step down 10 %, 20 %, 40 %, 50 %…, or
			// straight to just under what arrived when that is lower
			// (an overloaded DUT forwards about its capacity), but never
			// below half the failed rate.
			next = max(min(hi*(1-down), t.ReceivedPps()*0.98), hi*0.5)
			down = min(2*down, 0.5)
		case pass && !probeFailed && lo*(1+step) < (lo+hi)/2: // passed far below the maximum-rate bound: step up
			next = lo * (1 + step)
			step *= 2
		default:
			next = (lo + hi) / 2
		}
	}
	res.UpperPps = hi
	if best >= 0 {
		res.Best = &res.Trials[best]
		res.Pps = res.Best.OfferedPps()
		// A generator that undershoots its target must not report more
		// than was asked, nor a passing rate above a failed one.
		if res.Pps > lo && lo > 0 {
			res.Pps = lo
		}
	}
	return res, nil
}
