package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/nexthop-router/nexthop/bench/netbench"
)

// runNet is `bench net`: the RFC 2544-style netns benchmark (root).
// BENCH_QUICK=1 makes it the ≤ 90 s smoke run that fails when a system
// produced no figure.
func runNet(args []string) error {
	fs := flag.NewFlagSet("bench net", flag.ContinueOnError)
	repeats := fs.Int("repeats", 0, "rounds; each measures every system once, in alternation (default 3, quick 1)")
	systems := fs.String("systems", strings.Join(netbench.AllSystems, ","), "systems to measure, comma-separated, in report order (the first is the baseline)")
	sizes := fs.String("sizes", "", "frame sizes in bytes incl. FCS, comma-separated (default 64,128,512,1518; quick 64); IPv6 uses at least 78")
	out := fs.String("out", "bench/out", "directory for the run's JSON and charts")
	results := fs.String("results", "bench/RESULTS.md", "RESULTS.md the Markdown summary is appended to")
	noAppend := fs.Bool("no-append", false, "do not append to -results")
	router := fs.String("router", "bin/router", "the router binary")
	self, _ := os.Executable()
	benchBin := fs.String("bench-bin", self, "the bench binary that provides gen, recv and xdpfwd")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: bench net [flags]   (root; BENCH_QUICK=1 for the smoke run)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o := netbench.Options{
		Quick:       os.Getenv("BENCH_QUICK") == "1",
		Repeats:     *repeats,
		OutDir:      *out,
		ResultsPath: *results,
		NoAppend:    *noAppend,
		RouterBin:   *router,
		BenchBin:    *benchBin,
		Command:     strings.Join(os.Args, " "),
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
	}
	if o.Quick {
		o.Command = "BENCH_QUICK=1 " + o.Command
	}
	for _, s := range strings.Split(*systems, ",") {
		if s = strings.TrimSpace(s); s != "" {
			o.Systems = append(o.Systems, s)
		}
	}
	if *sizes != "" {
		for _, s := range strings.Split(*sizes, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("-sizes: %q is not a number", s)
			}
			o.Sizes = append(o.Sizes, n)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err := netbench.Run(ctx, o)
	return err
}
