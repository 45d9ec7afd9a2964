package bench

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Pool prints, for every ratio to the baseline (the "÷ kernel" figures of
// Compare) that runs share, the median and min–max of all their rounds
// together, with each run's own median beside it. On a noisy machine one
// run of a few rounds can land on either side of 1.0×; several runs of the
// same code, pooled round by round, say where the ratio really is. It warns
// when the runs come from different machines or commits.
func Pool(w io.Writer, runs []*Run) error {
	if len(runs) < 2 {
		return errors.New("bench: Pool: want at least two runs")
	}
	m := &mdWriter{w: w}
	names := make([]string, len(runs))
	for i, r := range runs {
		if r == nil {
			return errors.New("bench: Pool: nil run")
		}
		names[i] = runName(r)
	}
	m.f("Pooling %d runs:\n\n", len(runs))
	for i, n := range names {
		m.f("%d. %s\n", i+1, n)
	}
	m.f("\n")
	for i, r := range runs[1:] {
		for _, d := range machineDiffs(runs[0].Machine, r.Machine) {
			m.f("WARNING: run %d's machine differs from run 1's: %s; figures may not be comparable.\n", i+2, d)
		}
		if r.Commit != runs[0].Commit {
			m.f("WARNING: run %d measured commit %s, run 1 commit %s: pool only runs of the same code path.\n", i+2, orDash(r.Commit), orDash(runs[0].Commit))
		}
		if r.Quick != runs[0].Quick {
			m.f("WARNING: quick (BENCH_QUICK=1) and full runs are pooled together.\n")
		}
	}

	// Keys in the first run's order, then any the others add.
	var order []string
	per := map[string][][]float64{}
	bound := map[string]bool{}
	for i, r := range runs {
		for _, f := range figures(r) {
			if !strings.Contains(f.key, " ÷ ") {
				continue
			}
			if per[f.key] == nil {
				order = append(order, f.key)
				per[f.key] = make([][]float64, len(runs))
			}
			per[f.key][i] = f.samples
			bound[f.key] = bound[f.key] || f.bound
		}
	}
	if len(order) == 0 {
		m.f("No ratio to a baseline in these runs.\n")
		return m.err
	}
	m.header("figure", "pooled median", "min–max", "rounds", "per-run medians")
	for _, k := range order {
		var all []float64
		var runMeds []string
		for _, xs := range per[k] {
			all = append(all, xs...)
			if s, ok := summarize(xs); ok {
				runMeds = append(runMeds, num(s.med))
			} else {
				runMeds = append(runMeds, dash)
			}
		}
		s, ok := summarize(all)
		if !ok {
			continue
		}
		med := num(s.med)
		if bound[k] {
			med = "≥ " + med
		}
		m.row(cellEscape(k), med, fmt.Sprintf("%s–%s", num(s.min), num(s.max)), fmt.Sprint(s.n), strings.Join(runMeds, ", "))
	}
	m.f("\nA run that lacks a figure adds no rounds to it (— in its column).\n")
	for _, k := range order {
		if bound[k] {
			m.f("≥: a lower bound (generator-bound or unbracketed search) in at least one run.\n")
			break
		}
	}
	return m.err
}
