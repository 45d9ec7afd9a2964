package bench

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Pool prints, for every ratio to the baseline (the "÷ kernel" figures of
// Compare) and every TCP row's DUT core % per Gbit/s that the runs have,
// the median and min–max of all their rounds together, with each run's own
// median beside them. Both are per round and survive a change of load
// better than Gbit/s or Mpps do. On a noisy machine one
// run of a few rounds can land on either side of 1.0×; several runs of the
// same code, pooled round by round, say where the ratio really is. It warns
// when the runs come from different machines or commits (a "-dirty" tree
// counts as different: it may hold other code), mixes quick and full runs,
// or holds one run twice; a run whose ratio is one of medians (its systems
// ran different numbers of rounds) is shown but not pooled.
func Pool(w io.Writer, runs []*Run) error {
	if len(runs) < 2 {
		return errors.New("bench: Pool: want at least two runs")
	}
	for _, r := range runs {
		if r == nil {
			return errors.New("bench: Pool: nil run")
		}
	}
	m := &mdWriter{w: w}
	m.f("Pooling %d runs:\n\n", len(runs))
	for i, r := range runs {
		m.f("%d. %s\n", i+1, runName(r))
	}
	m.f("\n")
	first := runs[0]
	for i, r := range runs[1:] {
		n := i + 2
		for _, d := range machineDiffs(first.Machine, r.Machine) {
			m.f("WARNING: run %d's machine differs from run 1's: %s; figures may not be comparable.\n", n, d)
		}
		if r.Commit != first.Commit {
			m.f("WARNING: run %d measured commit %s, run 1 commit %s: pool only runs of the same code path.\n", n, orDash(r.Commit), orDash(first.Commit))
		}
		if r.Quick != first.Quick {
			m.f("WARNING: run %d is quick (BENCH_QUICK=1) and run 1 is not, or the other way round; quick figures are a smoke test.\n", n)
		}
		for j, o := range runs[:i+1] {
			if !r.Date.IsZero() && r.Date.Equal(o.Date) && r.Commit == o.Commit {
				m.f("WARNING: runs %d and %d are the same run (same date and commit); its rounds count twice.\n", j+1, n)
			}
		}
	}

	// Keys in the first run's order, then any the others add.
	type pooled struct {
		per       [][]float64
		ofMedians []bool
		bound     bool
	}
	var order []string
	by := map[string]*pooled{}
	for i, r := range runs {
		for _, f := range figures(r) {
			if !pooledFigure(f.key) {
				continue
			}
			p := by[f.key]
			if p == nil {
				p = &pooled{per: make([][]float64, len(runs)), ofMedians: make([]bool, len(runs))}
				by[f.key] = p
				order = append(order, f.key)
			}
			p.per[i], p.ofMedians[i] = f.samples, f.ofMedians
			p.bound = p.bound || f.bound
		}
	}
	if len(order) == 0 {
		return errors.New("bench: Pool: no ratio to a baseline in these runs; pool `bench net` JSON that measured the kernel and another system")
	}
	m.f("\n")
	m.header("figure", "pooled median", "min–max", "rounds", "per-run medians")
	var missing, medians, anyBound bool
	for _, k := range order {
		p := by[k]
		var all []float64
		var runMeds []string
		for i, xs := range p.per {
			s, ok := summarize(xs)
			switch {
			case !ok:
				runMeds = append(runMeds, dash)
				missing = true
			case p.ofMedians[i]:
				runMeds = append(runMeds, num(s.med)+"*")
				medians = true
			default:
				runMeds = append(runMeds, num(s.med))
				all = append(all, xs...)
			}
		}
		s, ok := summarize(all)
		if !ok {
			m.row(cellEscape(k), dash, dash, "0", strings.Join(runMeds, ", "))
			continue
		}
		med := num(s.med)
		if p.bound {
			med = "≥ " + med
			anyBound = true
		}
		m.row(cellEscape(k), med, fmt.Sprintf("%s–%s", num(s.min), num(s.max)), fmt.Sprint(s.n), strings.Join(runMeds, ", "))
	}
	m.f("\n")
	if missing {
		m.f("—: the run lacks the figure and adds no rounds to it.\n")
	}
	if medians {
		m.f("*: the run's systems ran different numbers of rounds, so its ratio is one of medians; shown, not pooled.\n")
	}
	if anyBound {
		m.f("≥: a lower bound (generator-bound or unbracketed search) in at least one run.\n")
	}
	return m.err
}

// pooledFigure says whether Pool takes the figure with this key: the
// ratios to the baseline and the DUT core's cost per Gbit/s.
func pooledFigure(key string) bool {
	return strings.Contains(key, " ÷ ") || strings.HasPrefix(key, "TCP DUT core % per Gbit/s: ")
}
