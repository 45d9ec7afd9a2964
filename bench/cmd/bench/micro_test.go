package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nexthop-router/nexthop/bench"
)

// withStdio runs f with stdin read from the file in and returns what f
// wrote to stdout.
func withStdio(t *testing.T, in string, f func() error) (string, error) {
	t.Helper()
	stdin, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	out, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	oldIn, oldOut := os.Stdin, os.Stdout
	os.Stdin, os.Stdout = stdin, out
	ferr := f()
	os.Stdin, os.Stdout = oldIn, oldOut
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b), ferr
}

func TestRunMicro(t *testing.T) {
	jsonPath := filepath.Join(t.TempDir(), "micro.json")
	out, err := withStdio(t, "../../testdata/gobench-header.txt", func() error {
		return runMicro([]string{"-json", jsonPath})
	})
	if err != nil {
		t.Fatal(err)
	}
	// The input is echoed, then summarised.
	if !strings.Contains(out, "BenchmarkDecrementTTL-2            \t287522598") {
		t.Error("input not echoed")
	}
	if !strings.Contains(out, "header DecrementTTL           4.33 (4.25–4.45)           op    0                0           3") {
		t.Errorf("summary line missing:\n%s", out)
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var r bench.Run
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Micro) != 9 || r.Repeats != 3 || r.Machine.CPUs == 0 {
		t.Errorf("json run: %d micros, %d repeats, machine %+v", len(r.Micro), r.Repeats, r.Machine)
	}
}

func TestRunMicroFailure(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.txt")
	os.WriteFile(in, []byte("BenchmarkA-2 10 5 ns/op\n--- FAIL: BenchmarkB-2\nFAIL\tx/y\t0.1s\n"), 0o644)
	_, err := withStdio(t, in, func() error { return runMicro([]string{"-md"}) })
	if err == nil || !strings.Contains(err.Error(), "go test reported failures") {
		t.Errorf("err = %v, want go test failures reported", err)
	}
	os.WriteFile(in, []byte("PASS\n"), 0o644)
	if _, err := withStdio(t, in, func() error { return runMicro(nil) }); err == nil {
		t.Error("input without benchmarks: no error")
	}
}

func TestRunCompareArgs(t *testing.T) {
	if err := runCompare([]string{"only-one.json"}); err == nil {
		t.Error("one argument: no error")
	}
	if err := runCompare([]string{"../../testdata/gobench-header.txt", "../../testdata/run.json"}); err == nil ||
		!strings.Contains(err.Error(), "is not a benchmark run") {
		t.Errorf("non-JSON input: err = %v", err)
	}
}
