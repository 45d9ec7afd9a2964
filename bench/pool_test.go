package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// tcpRun is a run with one TCP row per system, 1 stream, hosts' defaults.
func tcpRun(commit string, kernel, nexthop []float64) *Run {
	return &Run{
		Commit:  commit,
		Systems: []string{"kernel", "nexthop"},
		TCP: []TCP{
			{System: "kernel", Streams: 1, Offload: "tso", Gbps: kernel},
			{System: "nexthop", Streams: 1, Offload: "tso", Gbps: nexthop},
		},
	}
}

func TestPoolTakesEveryRoundsRatio(t *testing.T) {
	// Per-round ratios: run 1 0.5, 1.0, 2.0 (median 1.0); run 2 0.8, 0.9
	// (median 0.85). Pooled: 0.5 0.8 0.9 1.0 2.0, median 0.9.
	a := tcpRun("abc", []float64{10, 10, 5}, []float64{5, 10, 10})
	b := tcpRun("abc", []float64{10, 10}, []float64{8, 9})
	var out bytes.Buffer
	if err := Pool(&out, []*Run{a, b}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	want := "| TCP Gbit/s ÷ kernel: nexthop, 1 stream(s), offloads TSO (defaults) | 0.900 | 0.500–2 | 5 | 1, 0.850 |"
	if !strings.Contains(s, want) {
		t.Errorf("pool output lacks\n%s\ngot:\n%s", want, s)
	}
	// Gbit/s themselves are not pooled: only ratios and costs per Gbit/s.
	if strings.Contains(s, "| TCP Gbit/s: ") || strings.Contains(s, "WARNING") {
		t.Errorf("pool output has absolute figures or a warning:\n%s", s)
	}
}

func TestPoolWarnsOfDifferentCode(t *testing.T) {
	a := tcpRun("abc", []float64{10}, []float64{9})
	b := tcpRun("def", []float64{10}, []float64{11})
	b.Machine.Kernel = "6.18.44"
	var out bytes.Buffer
	if err := Pool(&out, []*Run{a, b}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"WARNING: run 2 measured commit def, run 1 commit abc",
		"WARNING: run 2's machine differs from run 1's: kernel — → 6.18.44",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("pool output lacks %q:\n%s", want, out.String())
		}
	}
	if err := Pool(&out, []*Run{a}); err == nil {
		t.Error("one run: no error")
	}
	if err := Pool(&out, []*Run{a, nil}); err == nil {
		t.Error("nil run: no error")
	}
}

func TestPoolMarksWhatItCannotPool(t *testing.T) {
	a := tcpRun("abc", []float64{10, 10}, []float64{5, 10})
	a.Throughput = []Throughput{
		{System: "kernel", IPVersion: 4, FrameSize: 64, Mpps: []float64{1, 1}},
		{System: "nexthop", IPVersion: 4, FrameSize: 64, Mpps: []float64{0.5, 0.6}, GeneratorBound: true},
	}
	// b: nexthop ran 3 rounds against the kernel's 2, so its ratio is one
	// of medians (12 ÷ 10); it has no throughput rows.
	b := tcpRun("abc", []float64{10, 10}, []float64{11, 12, 13})
	b.Quick = true
	var out bytes.Buffer
	if err := Pool(&out, []*Run{a, b}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		// Only a's two rounds are pooled; b's 1.2 is shown, marked, not pooled.
		"| TCP Gbit/s ÷ kernel: nexthop, 1 stream(s), offloads TSO (defaults) | 0.750 | 0.500–1 | 2 | 0.750, 1.20* |",
		"*: the run's systems ran different numbers of rounds",
		// A figure only a has: b adds no rounds; a's is a lower bound.
		"| throughput ÷ kernel: nexthop, IPv4 64 B | ≥ 0.550 | 0.500–0.600 | 2 | 0.550, — |",
		"—: the run lacks the figure",
		"≥: a lower bound",
		"WARNING: run 2 is quick (BENCH_QUICK=1)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("pool output lacks %q:\n%s", want, s)
		}
	}
}

func TestPoolRefusesRunsWithoutRatios(t *testing.T) {
	a := tcpRun("abc", []float64{10}, []float64{9})
	a.Date = time.Date(2026, 11, 28, 2, 16, 0, 0, time.UTC)
	var out bytes.Buffer
	if err := Pool(&out, []*Run{a, a}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "WARNING: runs 1 and 2 are the same run") {
		t.Errorf("one run pooled twice: no warning:\n%s", out.String())
	}
	micro := &Run{Micro: []Micro{{Name: "ipv4 Forward/1route", NsPerOp: []float64{50}}}}
	if err := Pool(&out, []*Run{micro, micro}); err == nil || !strings.Contains(err.Error(), "bench net") {
		t.Errorf("runs without ratios: err = %v, want one that asks for bench net JSON", err)
	}
}

func TestPoolTakesTheCostPerGbps(t *testing.T) {
	a := tcpRun("abc", []float64{10, 10}, []float64{5, 10})
	a.TCP[1].DUTBusyPct = []float64{50, 90} // 10 and 9 % per Gbit/s
	b := tcpRun("abc", []float64{10}, []float64{8})
	b.TCP[1].DUTBusyPct = []float64{96} // 12
	var out bytes.Buffer
	if err := Pool(&out, []*Run{a, b}); err != nil {
		t.Fatal(err)
	}
	want := "| TCP DUT core % per Gbit/s: nexthop, 1 stream(s), offloads TSO (defaults) | 10 | 9–12 | 3 | 9.50, 12 |"
	if !strings.Contains(out.String(), want) {
		t.Errorf("pool output lacks\n%s\ngot:\n%s", want, out.String())
	}
}
