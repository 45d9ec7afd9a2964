package bench

import (
	"bytes"
	"strings"
	"testing"
)

func TestCompareGolden(t *testing.T) {
	old, cur := loadRun(t, "run-old.json"), loadRun(t, "run.json")
	var b bytes.Buffer
	if err := Compare(&b, old, cur); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"WARNING: machines differ: kernel 6.18.40 → 6.18.44",
		// 0.30 → 0.405: +35 %, beyond both spreads (0.02, 0.03).
		"| throughput Mpps: nexthop packetmmap, IPv4 64 B | 0.300 | 0.405 | +35.0 % | 0.030 | **better** |",
		// Kernel 0.495 → 0.505 is within the 0.06 spread: no verdict.
		"| throughput Mpps: kernel, IPv4 64 B | 0.495 | 0.505 | +2.0 % | 0.060 |  |",
		// Latency p50 20.5 → 30.5 µs, spreads 3: worse.
		"| latency p50 µs: nexthop packetmmap, IPv4 64 B at 50 % | 20.5 | 30.5 | +48.8 % | 3 | **worse** |",
		"| micro ns/packet: ipv4 Forward/1route | 85 | 73.4 | -13.6 % | 10.2 | **better** |",
		// Ratios to each run's kernel, round by round.
		"| throughput ÷ kernel: nexthop packetmmap, IPv4 64 B | 0.606 | 0.804 | +32.6 % | 0.089 | **better** |",
		// TCP: the DUT core's busy share (lower is better) and Gbit/s as
		// a ratio to the kernel's same row, round by round.
		"| TCP DUT core busy %: nexthop packetmmap, 1 stream(s), offloads TSO (defaults) | 95.5 | 89 | -6.8 % | 5.50 | **better** |",
		"| TCP Gbit/s ÷ kernel: nexthop packetmmap, 1 stream(s), offloads TSO (defaults) | 0.286 | 0.359 | +25.6 % | 0.021 | **better** |",
		"| max RSS MB: nexthop packetmmap | 40.1 | 38.4 | -4.2 % | unknown (1 sample) | changed? |",
		"Only in the old run:\n\n- throughput Mpps: nexthop packetmmap, IPv4 512 B\n",
		"- throughput Mpps: nexthop afxdp, IPv4 64 B\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("compare output lacks %q", want)
		}
	}
	golden(t, "compare.md", b.Bytes())
}

func TestCompareSameMachineNoWarning(t *testing.T) {
	r := loadRun(t, "run.json")
	var b bytes.Buffer
	if err := Compare(&b, r, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "WARNING") || strings.Contains(out, "better") || strings.Contains(out, "worse") ||
		strings.Contains(out, "Only in") {
		t.Errorf("a run compared with itself should show no warning, verdict or one-sided figure:\n%s", out)
	}
	// An unbracketed figure is a lower bound on both sides.
	if want := "| throughput Mpps: nexthop packetmmap, IPv4 1518 B | ≥ 0.210 | ≥ 0.210 |"; !strings.Contains(out, want) {
		t.Errorf("compare output lacks %q:\n%s", want, out)
	}
	if err := Compare(&b, nil, r); err == nil {
		t.Error("nil run: no error")
	}
}
