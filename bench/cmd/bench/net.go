package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
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
	out := fs.String("out", "bench/out", "directory for the run's JSON and charts when not appended to -results (relative: to the repository root)")
	results := fs.String("results", "bench/RESULTS.md", "RESULTS.md the Markdown summary is appended to; the JSON and charts of an appended run go to runs/ beside it (relative: to the repository root)")
	noAppend := fs.Bool("no-append", false, "do not append to -results")
	router := fs.String("router", "bin/router", "the router binary (relative: to the repository root)")
	budget := fs.Duration("budget", 0, "time budget of the whole run; measurements stop, with a note, before it is exceeded (default 9m30s, quick 85s)")
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
	// Relative paths are the repository's (bench/RESULTS.md, bin/router),
	// wherever the command is started from.
	root, err := netbench.ModuleRoot(".")
	if err != nil && self != "" {
		root, err = netbench.ModuleRoot(filepath.Dir(self))
	}
	abs := func(p string) (string, error) {
		if filepath.IsAbs(p) {
			return p, nil
		}
		if root == "" {
			return "", fmt.Errorf("relative path %q, but %v: run it from the repository or pass absolute paths", p, err)
		}
		return filepath.Join(root, p), nil
	}
	paths := []*string{out, results, router}
	for _, p := range paths {
		if *p, err = abs(*p); err != nil {
			return err
		}
	}
	o := netbench.Options{
		Quick:       os.Getenv("BENCH_QUICK") == "1",
		Repeats:     *repeats,
		OutDir:      *out,
		ResultsPath: *results,
		NoAppend:    *noAppend,
		RouterBin:   *router,
		BenchBin:    *benchBin,
		Budget:      *budget,
		ModuleRoot:  root,
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
	_, err = netbench.Run(ctx, o)
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: partial figures in %s/run-*.partial.json, nothing appended to %s", o.OutDir, o.ResultsPath)
	}
	return err
}
