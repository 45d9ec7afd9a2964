package bench

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// figure is one comparable number of a run: what it is (key, also its
// label), its samples, and which direction is an improvement.
type figure struct {
	key          string
	samples      []float64
	higherBetter bool
	bound        bool // a lower bound (generator-bound or unbracketed): printed with ≥
	// ofMedians marks a ratio taken of the two systems' medians, not
	// round by round, because their round counts differ: one value, not
	// one per round.
	ofMedians bool
}

// figures flattens a run into comparable figures, keyed by kind, system,
// IP version and frame size / load / streams, or micro-benchmark name.
func figures(r *Run) []figure {
	var fs []figure
	add := func(key string, xs []float64, higher bool) {
		if _, ok := summarize(xs); ok {
			fs = append(fs, figure{key: key, samples: xs, higherBetter: higher})
		}
	}
	addRatio := func(key string, xs, base []float64, higher bool) {
		add(key, ratios(xs, base), higher)
		if len(fs) > 0 && fs[len(fs)-1].key == key {
			fs[len(fs)-1].ofMedians = len(xs) != len(base)
		}
	}
	base := baseline(r)
	baseTP := map[tpKey]Throughput{}
	for _, t := range r.Throughput {
		if t.System == base {
			baseTP[tpKey{t.IPVersion, t.FrameSize}] = t
		}
	}
	for _, t := range r.Throughput {
		tr := fmt.Sprintf("%s, %s %s", t.System, ipName(t.IPVersion), frameName(t.FrameSize))
		add("throughput Mpps: "+tr, t.Mpps, true)
		if len(fs) > 0 && fs[len(fs)-1].key == "throughput Mpps: "+tr {
			fs[len(fs)-1].bound = t.LowerBound()
		}
		add("CPU ns/packet: "+tr, t.CPUNsPerPacket, false)
		add("FRMOL Mpps: "+tr, t.MaxFwdMpps, true)
		if len(fs) > 0 && fs[len(fs)-1].key == "FRMOL Mpps: "+tr {
			fs[len(fs)-1].bound = t.FRMOLBound()
		}
		// Ratios to the run's baseline (the kernel) are what survive a
		// change of machine or load; per round when both have every round.
		if b, ok := baseTP[tpKey{t.IPVersion, t.FrameSize}]; ok && t.System != base {
			addRatio("throughput ÷ "+base+": "+tr, t.Mpps, b.Mpps, true)
			if len(fs) > 0 && fs[len(fs)-1].key == "throughput ÷ "+base+": "+tr {
				fs[len(fs)-1].bound = t.LowerBound() || b.LowerBound()
			}
			addRatio("CPU ns/packet ÷ "+base+": "+tr, t.CPUNsPerPacket, b.CPUNsPerPacket, false)
			addRatio("FRMOL ÷ "+base+": "+tr, t.MaxFwdMpps, b.MaxFwdMpps, true)
			if len(fs) > 0 && fs[len(fs)-1].key == "FRMOL ÷ "+base+": "+tr {
				fs[len(fs)-1].bound = t.FRMOLBound() || b.FRMOLBound()
			}
		}
	}
	for _, l := range r.Latency {
		tr := fmt.Sprintf("%s, %s %s at %d %%", l.System, ipName(l.IPVersion), frameName(l.FrameSize), l.LoadPct)
		add("latency p50 µs: "+tr, l.P50us, false)
		add("latency p99 µs: "+tr, l.P99us, false)
		add("lost packets: "+tr, floatsU64(l.Lost), false)
	}
	type tcpKey struct {
		streams int
		offload string
	}
	baseTCP := map[tcpKey]TCP{}
	for _, t := range r.TCP {
		if t.System == base {
			baseTCP[tcpKey{t.Streams, t.Offload}] = t
		}
	}
	for _, t := range r.TCP {
		tr := fmt.Sprintf("%s, %d stream(s)", t.System, t.Streams)
		if t.Offload != "" {
			tr += ", offloads " + offloadName(t.Offload)
		}
		add("TCP Gbit/s: "+tr, t.Gbps, true)
		add("TCP retransmits: "+tr, floatsInt(t.Retrans), false)
		// Busy is what the goodput cost the DUT core: a change that keeps
		// the Gbit/s but frees the core shows here first.
		add("TCP DUT core busy %: "+tr, t.DUTBusyPct, false)
		add("TCP DUT core % per Gbit/s: "+tr, t.BusyPerGbps(), false)
		if b, ok := baseTCP[tcpKey{t.Streams, t.Offload}]; ok && t.System != base {
			addRatio("TCP Gbit/s ÷ "+base+": "+tr, t.Gbps, b.Gbps, true)
		}
	}
	for _, u := range r.Usage {
		if u.MaxRSSMB > 0 {
			add("max RSS MB: "+u.System, []float64{u.MaxRSSMB}, false)
		}
		if u.Packets > 0 {
			add("allocs/packet: "+u.System, []float64{float64(u.Allocs) / float64(u.Packets)}, false)
		}
	}
	for _, m := range r.Micro {
		unit := m.Unit
		if unit == "" {
			unit = "op"
		}
		add("micro ns/"+unit+": "+m.Name, m.NsPerOp, false)
		add("micro allocs/op: "+m.Name, []float64{m.AllocsPerOp}, false)
	}
	return fs
}

// ratios divides xs by base round by round when both have the same
// number of samples, else the medians; nothing when either is missing.
func ratios(xs, base []float64) []float64 {
	if len(xs) == len(base) && len(xs) > 0 {
		out := make([]float64, 0, len(xs))
		for i := range xs {
			if base[i] != 0 {
				out = append(out, xs[i]/base[i])
			}
		}
		return out
	}
	a, ok1 := summarize(xs)
	b, ok2 := summarize(base)
	if !ok1 || !ok2 || b.med == 0 {
		return nil
	}
	return []float64{a.med / b.med}
}

// Compare prints what changed between two runs: for every figure present in
// both, old median → new median and the change in %, flagged "better" or
// "worse" only when the change exceeds the larger of the two runs' min–max
// spreads (so within-noise changes read as noise); then the figures only one
// run has. Throughput, CPU and TCP Gbit/s also appear as ratios to each
// run's baseline (the kernel), and lower bounds are marked ≥. It warns first when the runs
// come from different machines.
func Compare(w io.Writer, old, new *Run) error {
	if old == nil || new == nil {
		return errors.New("bench: Compare: nil run")
	}
	m := &mdWriter{w: w}
	m.f("Comparing %s → %s\n\n", runName(old), runName(new))
	for _, d := range machineDiffs(old.Machine, new.Machine) {
		m.f("WARNING: machines differ: %s; figures may not be comparable.\n", d)
	}
	if old.Quick != new.Quick {
		m.f("WARNING: one run is quick (BENCH_QUICK=1) and the other is not; quick figures are a smoke test.\n")
	}

	of, nf := figures(old), figures(new)
	oldBy := map[string]figure{}
	for _, f := range of {
		oldBy[f.key] = f
	}
	newBy := map[string]bool{}
	for _, f := range nf {
		newBy[f.key] = true
	}

	var onlyNew []string
	rows := 0
	anyBound := false
	for _, f := range nf {
		o, ok := oldBy[f.key]
		if !ok {
			onlyNew = append(onlyNew, f.key)
			continue
		}
		if rows == 0 {
			m.f("\n")
			m.header("figure", "old", "new", "change", "noise (larger spread)", "verdict")
		}
		rows++
		ost, _ := summarize(o.samples)
		nst, _ := summarize(f.samples)
		change := dash
		if ost.med != 0 {
			change = signedPct((nst.med - ost.med) / math.Abs(ost.med) * 100)
		} else if nst.med == 0 {
			change = "0 %"
		}
		noise := math.Max(ost.max-ost.min, nst.max-nst.min)
		noiseS, verdict := num(noise), ""
		d := nst.med - ost.med
		switch {
		case ost.n < 2 && nst.n < 2:
			noiseS = "unknown (1 sample)"
			if d != 0 {
				verdict = "changed?"
			}
		case math.Abs(d) > noise:
			if (d > 0) == f.higherBetter {
				verdict = "**better**"
			} else {
				verdict = "**worse**"
			}
		}
		oldS, newS := num(ost.med), num(nst.med)
		if o.bound {
			oldS = "≥ " + oldS
		}
		if f.bound {
			newS = "≥ " + newS
		}
		if o.bound || f.bound {
			anyBound = true
		}
		m.row(cellEscape(f.key), oldS, newS, change, noiseS, verdict)
	}
	if anyBound {
		m.f("\n≥: a lower bound (generator-bound or unbracketed search); a change there may only be the generator's.\n")
	}
	if rows == 0 {
		m.f("\nNo figure is present in both runs.\n")
	}
	var onlyOld []string
	for _, f := range of {
		if !newBy[f.key] {
			onlyOld = append(onlyOld, f.key)
		}
	}
	m.f("\n")
	listOnly(m, "Only in the old run", onlyOld)
	listOnly(m, "Only in the new run", onlyNew)
	return m.err
}

func listOnly(m *mdWriter, title string, keys []string) {
	if len(keys) == 0 {
		return
	}
	m.f("%s:\n\n", title)
	for _, k := range keys {
		m.f("- %s\n", k)
	}
	m.f("\n")
}

func signedPct(p float64) string {
	s := strconv.FormatFloat(p, 'f', 1, 64)
	if p > 0 {
		s = "+" + s
	}
	if s == "-0.0" || s == "+0.0" {
		s = "0.0"
	}
	return s + " %"
}

func runName(r *Run) string {
	var parts []string
	if !r.Date.IsZero() {
		parts = append(parts, r.Date.Format("2006-01-02 15:04 MST"))
	}
	if r.Commit != "" {
		parts = append(parts, "commit "+r.Commit)
	}
	if r.Machine.Hostname != "" {
		parts = append(parts, "on "+r.Machine.Hostname)
	}
	if len(parts) == 0 {
		return "(undated run)"
	}
	return strings.Join(parts, ", ")
}

// machineDiffs lists what differs between two machines in ways that change
// the figures (kernel, CPU model, CPU count).
func machineDiffs(a, b Machine) []string {
	var d []string
	if a.Kernel != b.Kernel {
		d = append(d, fmt.Sprintf("kernel %s → %s", orDash(a.Kernel), orDash(b.Kernel)))
	}
	if a.CPU != b.CPU {
		d = append(d, fmt.Sprintf("CPU %s → %s", orDash(a.CPU), orDash(b.CPU)))
	}
	if a.CPUs != b.CPUs {
		d = append(d, fmt.Sprintf("CPUs %d → %d", a.CPUs, b.CPUs))
	}
	return d
}
