package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/nexthop-router/nexthop/bench"
)

// runCompare prints what changed between two runs written as JSON by
// `bench net` or `bench micro -json`.
func runCompare(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: bench compare old.json new.json")
		fmt.Fprintln(fs.Output(), "Changes beyond the larger min–max spread of the two runs are flagged better/worse.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return fmt.Errorf("want two JSON files (old, new), got %d arguments", fs.NArg())
	}
	old, err := readRun("old run", fs.Arg(0))
	if err != nil {
		return err
	}
	cur, err := readRun("new run", fs.Arg(1))
	if err != nil {
		return err
	}
	return bench.Compare(os.Stdout, old, cur)
}

// runPool prints the ratios to the kernel and the DUT core's cost per
// Gbit/s of several runs of the same code (`bench net` JSON), pooled round
// by round, since one run of a few rounds is too noisy to read alone.
func runPool(args []string) error {
	fs := flag.NewFlagSet("pool", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: bench pool run1.json run2.json [more.json ...]")
		fmt.Fprintln(fs.Output(), "Pools every ratio to the kernel (÷ linux-kernel) and every TCP row's DUT core % per Gbit/s over the rounds of all the runs: the median and spread of all rounds, and each run's median.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return fmt.Errorf("want two or more JSON files, got %d", fs.NArg())
	}
	var runs []*bench.Run
	for i, path := range fs.Args() {
		r, err := readRun(fmt.Sprintf("run %d", i+1), path)
		if err != nil {
			return err
		}
		runs = append(runs, r)
	}
	return bench.Pool(os.Stdout, runs)
}

// readRun reads a run's JSON; the error names the file and its role.
func readRun(role, path string) (*bench.Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", role, err)
	}
	var r bench.Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %s is not a benchmark run (JSON from `bench net` or `bench micro -json`): %w", role, path, err)
	}
	return &r, nil
}
