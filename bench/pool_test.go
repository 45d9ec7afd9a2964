package bench

import (
	"bytes"
	"strings"
	"testing"
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
	// Gbit/s themselves are not pooled: only ratios survive a change of load.
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
