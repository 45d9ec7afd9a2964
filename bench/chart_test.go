package bench

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// checkChart asserts that f is a non-empty, well-formed SVG or PNG.
func checkChart(t *testing.T, f string) {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	switch filepath.Ext(f) {
	case ".png":
		if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
			t.Fatalf("%s: no PNG signature", f)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if r := img.Bounds(); r.Dx() < 200 || r.Dy() < 200 {
			t.Errorf("%s: image only %v", f, r)
		}
	case ".svg":
		d := xml.NewDecoder(bytes.NewReader(b))
		var root string
		for root == "" {
			tok, err := d.Token()
			if err != nil {
				t.Fatalf("%s: no root element: %v", f, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				root = se.Name.Local
			}
		}
		if root != "svg" {
			t.Fatalf("%s: root element %q, want svg", f, root)
		}
		// The whole document must parse, not only its start.
		for {
			if _, err := d.Token(); err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%s: %v", f, err)
				}
				break
			}
		}
		if !bytes.Contains(b, []byte("<path")) {
			t.Errorf("%s: nothing drawn", f)
		}
	default:
		t.Fatalf("unexpected chart file %s", f)
	}
}

func TestWriteCharts(t *testing.T) {
	r := loadRun(t, "run.json")
	base := filepath.Join(t.TempDir(), "charts", "run")
	files, err := WriteCharts(r, base)
	if err != nil {
		t.Fatal(err)
	}
	// The test run has IPv4 latency only: no IPv6 latency chart.
	want := []string{base + "-mpps.svg", base + "-mpps.png", base + "-latency-ipv4.svg", base + "-latency-ipv4.png"}
	if !reflect.DeepEqual(files, want) {
		t.Fatalf("files = %q, want %q", files, want)
	}
	for _, f := range files {
		checkChart(t, f)
	}
	svg, _ := os.ReadFile(base + "-mpps.svg")
	for _, s := range []string{"nexthop packetmmap, IPv6", "kernel, IPv4", "2026-11-28 14:05"} {
		if !bytes.Contains(svg, []byte(s)) {
			t.Errorf("mpps chart lacks %q (legend or title)", s)
		}
	}
	if bytes.Contains(svg, []byte("nexthop afxdp, IPv6")) {
		t.Error("mpps chart has a legend entry for the empty afxdp IPv6 series")
	}
	lat, _ := os.ReadFile(base + "-latency-ipv4.svg")
	for _, s := range []string{"nexthop afxdp p99", "nexthop packetmmap (overloaded at 50 %) p50", "IPv4 one-way latency", "% of the kernel throughput"} {
		if !bytes.Contains(lat, []byte(s)) {
			t.Errorf("latency chart lacks %q", s)
		}
	}
}

func TestWriteChartsMissingData(t *testing.T) {
	dir := t.TempDir()
	// Throughput only, with an empty series, a NaN sample and a single
	// frame size; latency with only non-positive or missing samples.
	r := &Run{
		Systems: []string{"kernel", "nexthop"},
		Throughput: []Throughput{
			{System: "kernel", IPVersion: 4, FrameSize: 64, Mpps: []float64{0.5, math.NaN()}},
			{System: "nexthop", IPVersion: 4, FrameSize: 64},
			{System: "nexthop", IPVersion: 6, FrameSize: 0, Mpps: []float64{1}},
		},
		Latency: []Latency{{System: "kernel", LoadPct: 50, P50us: []float64{0}}},
	}
	files, err := WriteCharts(r, filepath.Join(dir, "x"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(dir, "x-mpps.svg"), filepath.Join(dir, "x-mpps.png")}; !reflect.DeepEqual(files, want) {
		t.Fatalf("files = %q, want %q", files, want)
	}
	for _, f := range files {
		checkChart(t, f)
	}
	if _, err := os.Stat(filepath.Join(dir, "x-latency-ipv4.svg")); err == nil {
		t.Error("latency chart written without latency data")
	}

	// Nothing at all: no files, no error.
	files, err = WriteCharts(&Run{}, filepath.Join(dir, "empty"))
	if err != nil || len(files) != 0 {
		t.Errorf("empty run: files %q, err %v", files, err)
	}
}
