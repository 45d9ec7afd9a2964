package bench

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func loadRun(t *testing.T, name string) *Run {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &r
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./bench/ -update` to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test ./bench/ -update rewrites it; check the diff):\n--- got ---\n%s", path, got)
	}
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in            []float64
		med, min, max float64
		ok            bool
	}{
		{[]float64{3, 1, 2}, 2, 1, 3, true},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4, true},
		{[]float64{5}, 5, 5, 5, true},
		{[]float64{math.NaN(), 7, math.Inf(1), 9}, 8, 7, 9, true},
		{nil, 0, 0, 0, false},
		{[]float64{math.NaN()}, 0, 0, 0, false},
	} {
		s, ok := summarize(tc.in)
		if ok != tc.ok || (ok && (s.med != tc.med || s.min != tc.min || s.max != tc.max)) {
			t.Errorf("summarize(%v) = %+v, %v; want med %v min %v max %v, %v", tc.in, s, ok, tc.med, tc.min, tc.max, tc.ok)
		}
	}
	if got := cell([]float64{1, 4, 2, 3}); got != "2.50 (1–4)" {
		t.Errorf("cell = %q, want 2.50 (1–4)", got)
	}
	if got := cell(nil); got != "—" {
		t.Errorf("cell(nil) = %q, want —", got)
	}
}

func TestWriteMarkdownGolden(t *testing.T) {
	r := loadRun(t, "run.json")
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	// What a reader checks, independent of the golden file's layout.
	for _, want := range []string{
		"## 2026-11-28, 14:05 UTC — netns benchmark (commit 95f997b)",
		"fc-vm; CPU: AMD EPYC; CPUs: 2; memory: 24 GiB; kernel: 6.18.44; Go: go1.26.8",
		"`sudo make bench-net`",
		"4 alternating rounds per system",
		"device under test: CPU1",
		// IPv4 64 B: kernel median of 0.48,0.50,0.51,0.52 = 0.505; nexthop 0.405 → 0.80×.
		"| IPv4 | 64 B | kernel | 0.505 (0.480–0.520) | — | 1975 (1900–2100) | — |",
		"| IPv4 | 64 B | nexthop packetmmap | 0.405 (0.390–0.420) | 0.80× | 2475 (2400–2600) | 1.25× |",
		"| nexthop afxdp | ≥ 0.925 (0.900–0.950) | ≥ 1.83× |", // generator-bound afxdp against a measured kernel
		"| IPv6 | 64 B | kernel | ≥ 0.455 (0.440–0.470) |",
		"| 0.385 (0.370–0.400) | ≤ 0.85× |", // measured against a generator-bound kernel
		// One repeat's search was not bracketed: a lower bound, like a generator-bound figure.
		"| IPv4 | 1518 B | nexthop packetmmap | ≥ 0.210 (0.200–0.220) | ≥ 0.70× | — | — |",
		// 2–5 of 2000 lost (≥ 0.1 %): overloaded; CPU compared at the same load.
		"| 50 % | 250 kpps | nexthop packetmmap (overloaded) | 30.5 (29–32) | 122 (110–130) | 3.50 (2–5) | 0 (0–1) | 2525 (2450–2600) | 1.26× |",
		"| 50 % | 250 kpps | kernel | 12.5 (11–14) | 42.5 (38–50) | 0 (0–1) | 0 | 2000 | — |",
		"| 1 | nexthop packetmmap | 3.25 (3.10–3.50) | 0.36× | 9.50 (8–12) |",
		// With the DUT ports' TSO on too: its own rows, against the kernel's of the same setting.
		"| TSO, DUT ports too | 1 | nexthop packetmmap | 13.2 (12–14) | 0.77× | 0 (0–1) | 95.5 (95–97) |",
		"| nexthop packetmmap | 38.4 | 1200 | 12000000 | 0.0001 |",
		"| nexthop afxdp | — | — | — | — |",
		"| ipv4 Forward/1route | 73.4 (69.5–79.7) | packet | 0 | 1 |",
		"- afxdp ran in XDP generic mode | veth",
		"![20261128-140500-mpps.svg](charts/20261128-140500-mpps.svg)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	golden(t, "run.md", b.Bytes())
}

func TestWriteMarkdownMissing(t *testing.T) {
	r := &Run{
		Systems:    []string{"kernel", "nexthop"},
		Throughput: []Throughput{{System: "nexthop", IPVersion: 4, FrameSize: 64, Mpps: []float64{1}}},
		Latency:    []Latency{{System: "ghost"}},
		TCP:        []TCP{{System: "nexthop"}},
		Usage:      []Usage{{System: "nexthop"}},
		Micro:      []Micro{{Name: "x"}},
	}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "## — — netns benchmark") {
		t.Errorf("undated run heading:\n%s", out)
	}
	if !strings.Contains(out, "| IPv4 | 64 B | nexthop | 1 | — | — | — |") {
		t.Errorf("missing kernel figures should print — and no ratio:\n%s", out)
	}
	if !strings.Contains(out, "| — | — | — | — | ghost | — | — | — | — | — | — |") {
		t.Errorf("empty latency row should be all —:\n%s", out)
	}
	if err := WriteMarkdown(&b, &Run{}); err != nil {
		t.Errorf("empty run: %v", err)
	}
	if err := WriteMarkdown(&b, nil); err == nil {
		t.Error("nil run: no error")
	}
}

func TestAppendResults(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "RESULTS.md")

	// A missing file is created with an intro.
	if err := AppendResults(path, []byte("## first\n\nbody 1\n")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "# nexthop") || !strings.HasSuffix(string(b), "## first\n\nbody 1\n\n") {
		t.Fatalf("new file:\n%s", b)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}

	// Newest first: the second section goes before the first, after the intro.
	if err := AppendResults(path, []byte("## second\n\nbody 2")); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	s := string(b)
	i0, i1, i2 := strings.Index(s, "Newest runs first."), strings.Index(s, "## second"), strings.Index(s, "## first")
	if i0 < 0 || i1 < i0 || i2 < i1 {
		t.Fatalf("order wrong (intro %d, second %d, first %d):\n%s", i0, i1, i2, s)
	}
	if !strings.Contains(s, "body 2\n\n## first") {
		t.Errorf("sections not separated by a blank line:\n%s", s)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want the old file's 0600", fi.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}

	// "### " and text mentioning "## " mid-line are not section starts.
	path2 := filepath.Join(dir, "R2.md")
	os.WriteFile(path2, []byte("# T\nsee ## x\n### sub\nno newline"), 0o644)
	if err := AppendResults(path2, []byte("## new\n")); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path2)
	if want := "# T\nsee ## x\n### sub\nno newline\n\n## new\n\n"; string(b) != want {
		t.Errorf("got %q, want %q", b, want)
	}

	// A path that cannot be read fails and leaves nothing behind.
	if err := AppendResults(dir, []byte("## x\n")); err == nil {
		t.Error("appending to a directory: no error")
	}
}
