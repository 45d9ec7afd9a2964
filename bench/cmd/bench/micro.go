package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nexthop-router/nexthop/bench"
)

// runMicro echoes `go test -bench` output from stdin (so progress stays
// visible), then prints a summary: one line per benchmark with the median
// (min–max) of its -count samples. It fails when go test reported a failure,
// because in a pipe go test's own exit status is lost.
func runMicro(args []string) error {
	fs := flag.NewFlagSet("micro", flag.ContinueOnError)
	jsonOut := fs.String("json", "", "also write the figures to `file` as a bench.Run (input for `bench compare`)")
	md := fs.Bool("md", false, "print the summary as a Markdown table (for RESULTS.md)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: go test -run '^$' -bench . -benchmem -count=5 ./... | bench micro [-json out.json] [-md]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q: the benchmark output is read from stdin", fs.Args())
	}
	in, err := io.ReadAll(io.TeeReader(os.Stdin, os.Stdout))
	if err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	micros, err := bench.ParseGoBench(bytes.NewReader(in))
	if err != nil {
		return err
	}
	fmt.Println()
	if len(micros) == 0 {
		fmt.Println("bench micro: no benchmark results in the input")
	} else if *md {
		if err := bench.WriteMicroMarkdown(os.Stdout, micros); err != nil {
			return err
		}
	} else if err := microTable(os.Stdout, micros); err != nil {
		return err
	}
	if *jsonOut != "" && len(micros) > 0 {
		r := &bench.Run{
			Date:    time.Now(),
			Machine: microMachine(in),
			Command: "… | bench " + strings.Join(os.Args[1:], " "),
			Repeats: maxSamples(micros),
			Micro:   micros,
		}
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("writing the figures: %w", err)
		}
		fmt.Printf("wrote %s\n", *jsonOut)
	}
	if failed := failLines(in); len(failed) > 0 {
		return fmt.Errorf("go test reported failures: %s", strings.Join(failed, "; "))
	}
	if len(micros) == 0 {
		return errors.New("no benchmark results: pipe `go test -run '^$' -bench . -benchmem` into it")
	}
	return nil
}

func microTable(w io.Writer, micros []bench.Micro) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "benchmark\tns/unit: median (min–max)\tunit\tallocs/op (max)\tB/op (max)\tsamples")
	for _, m := range micros {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%g\t%g\t%d\n", m.Name, bench.FormatSamples(m.NsPerOp), m.Unit, m.AllocsPerOp, m.BytesPerOp, len(m.NsPerOp))
	}
	return tw.Flush()
}

func maxSamples(micros []bench.Micro) int {
	n := 0
	for _, m := range micros {
		n = max(n, len(m.NsPerOp))
	}
	return n
}

// failLines returns go test's failure lines ("--- FAIL", "FAIL pkg").
func failLines(in []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(in))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "--- FAIL") || strings.HasPrefix(l, "FAIL") {
			out = append(out, l)
		}
	}
	return out
}

// microMachine describes this machine for the JSON file, so `bench compare`
// can warn when two micro runs come from different machines.
func microMachine(goTestOutput []byte) bench.Machine {
	m := bench.Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	m.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if m.CPU == "" {
		for l := range strings.Lines(string(goTestOutput)) {
			if v, ok := strings.CutPrefix(l, "cpu: "); ok {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for l := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				if f := strings.Fields(v); len(f) > 0 {
					if kb, err := strconv.ParseFloat(f[0], 64); err == nil {
						m.MemGiB = int(kb/(1<<20) + 0.5)
					}
				}
				break
			}
		}
	}
	return m
}
