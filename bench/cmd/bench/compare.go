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
	old, err := readRun(fs.Arg(0))
	if err != nil {
		return err
	}
	cur, err := readRun(fs.Arg(1))
	if err != nil {
		return err
	}
	return bench.Compare(os.Stdout, old, cur)
}

func readRun(path string) (*bench.Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading run: %w", err)
	}
	var r bench.Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s is not a benchmark run (JSON from `bench net` or `bench micro -json`): %w", path, err)
	}
	return &r, nil
}
