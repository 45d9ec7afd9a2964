package netbench

import (
	"errors"
	"fmt"
)

// MaxLoss is the RFC 2544 §26.1 pass criterion as this benchmark applies
// it: a trial passes when fewer than 0.1 % of the offered frames are lost
// (strictly zero loss is unmeasurable on a shared 2-vCPU VM).
const MaxLoss = 0.001

// Trial is what one fixed-rate trial measured. Offered and Received come
// from interface counters (sender tx_packets + tx_dropped, receiver
// rx_packets), not from the generator's own report.
type Trial struct {
	// Rate is the rate asked of the generator in frames/s; 0 means as
	// fast as it can.
	Rate float64
	// Offered is the number of frames put on the DUT's ingress link.
	Offered uint64
	// Received is the number of frames that arrived at the receiver.
	Received uint64
	// Seconds is how long the generator ran.
	Seconds float64
	// BusyNs is the DUT core's busy time during the trial.
	BusyNs float64
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

// Pass reports whether the trial meets the < 0.1 % loss criterion.
func (t Trial) Pass() bool { return t.Offered > 0 && t.Loss() < MaxLoss }

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

// CPUNsPerPacket is the DUT core's busy time per forwarded frame; 0 when
// nothing was forwarded.
func (t Trial) CPUNsPerPacket() float64 {
	if t.Received == 0 {
		return 0
	}
	return t.BusyNs / float64(t.Received)
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
	// Trials are every trial run, in order.
	Trials []Trial
}

// SearchOptions bound a throughput search.
type SearchOptions struct {
	// MaxTrials caps the trials, the maximum-rate one included (≥ 2).
	MaxTrials int
	// Resolution stops the search once (hi-lo)/hi falls below it, e.g.
	// 0.01; 0 means run all MaxTrials.
	Resolution float64
}

// errNothingOffered means the generator put no frame on the link, so no
// search is possible.
var errNothingOffered = errors.New("the generator offered no frames (check `bench gen` on this kernel)")

// Search finds the highest offered rate with < 0.1 % loss (RFC 2544 §26.1)
// by running trial at chosen rates. It starts with a maximum-rate trial; if
// that passes the system is generator-bound and the search ends. Otherwise
// the first probe is just under the rate the receiver saw at maximum load
// (where the answer usually is); from there it steps away in growing steps
// until the answer is bracketed, then halves the interval between the
// highest passing and the lowest failing rate. Bounds only ever tighten:
// lo rises on a pass, hi falls on a failure.
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
		res.Best = &res.Trials[0]
		res.Pps = t0.OfferedPps()
		return res, nil
	}
	hi := t0.OfferedPps()
	lo := 0.0
	next := t0.ReceivedPps() * 0.98
	if next >= hi || next <= 0 {
		next = hi * 0.9
	}
	best := -1
	// The answer is usually close to the first probe, so the search walks
	// away from it in growing steps (up 3 %, 6 %, 12 %, …; down 10 %, 20 %,
	// 40 %, 50 %) until it has a
	// bracket no wider than a bisection would, then bisects.
	step, down := 0.03, 0.1
	for len(res.Trials) < o.MaxTrials {
		if next <= lo || next >= hi {
			return res, fmt.Errorf("search: internal error: probe %.0f outside (%.0f, %.0f)", next, lo, hi)
		}
		t, err := trial(next)
		if err != nil {
			return res, err
		}
		res.Trials = append(res.Trials, t)
		pass := t.Pass()
		if pass {
			lo = next
			best = len(res.Trials) - 1
		} else {
			hi = next
		}
		if o.Resolution > 0 && lo > 0 && (hi-lo)/hi < o.Resolution {
			break
		}
		switch {
		case lo == 0: // nothing passed yet: step down 10 %, 20 %, 40 %, 50 %…
			next = hi * (1 - down)
			down = min(2*down, 0.5)
		case pass && lo*(1+step) < (lo+hi)/2: // passed far below hi: step up
			next = lo * (1 + step)
			step *= 2
		default:
			next = (lo + hi) / 2
		}
	}
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
