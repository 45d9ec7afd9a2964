package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"syscall"

	"github.com/nexthop-router/nexthop/bench/traffic"
)

// recvOutput is the one JSON line `bench recv` prints; `bench net` parses it.
type recvOutput struct {
	Received   uint64  `json:"received"`
	Duplicates uint64  `json:"duplicates"`
	Reordered  uint64  `json:"reordered"`
	MaxSeq     uint32  `json:"max_seq"`
	P50US      float64 `json:"p50_us"`
	P99US      float64 `json:"p99_us"`
	MaxUS      float64 `json:"max_us"`
}

// runRecv counts the test frames of one run arriving on an interface (see
// package bench/traffic) until -duration or SIGTERM/SIGINT, and prints the
// counters and latency percentiles as one JSON line.
func runRecv(args []string) error {
	fs := flag.NewFlagSet("recv", flag.ContinueOnError)
	dev := fs.String("dev", "", "interface to read (required)")
	duration := fs.Duration("duration", 0, "how long to receive, e.g. 7s; SIGTERM/SIGINT stop earlier (required)")
	id := fs.Uint64("id", 0, "run id (uint32) of the generator run to count")
	verbose := fs.Bool("v", false, "print progress and ring drops to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *dev == "" || *duration <= 0 {
		return errors.New("-dev and a positive -duration are required")
	}
	if *id > math.MaxUint32 {
		return fmt.Errorf("-id %d does not fit in 32 bits", *id)
	}
	var progress io.Writer
	if *verbose {
		progress = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := traffic.Receive(ctx, traffic.RecvConfig{Interface: *dev, ID: uint32(*id), Duration: *duration, Progress: progress})
	if err != nil {
		return err
	}
	s := res.Stats
	if *verbose {
		fmt.Fprintf(os.Stderr, "recv: %d frames in %v, ring drops %d, clock anomalies %d\n",
			s.Received, res.Elapsed, res.RingDrops, s.ClockAnomalies)
	}
	maxSeq, _ := s.MaxSeq()
	return json.NewEncoder(os.Stdout).Encode(recvOutput{
		Received:   s.Received,
		Duplicates: s.Duplicates,
		Reordered:  s.Reordered,
		MaxSeq:     maxSeq,
		P50US:      s.Latency.Quantile(0.50) / 1e3,
		P99US:      s.Latency.Quantile(0.99) / 1e3,
		MaxUS:      float64(s.Latency.Max()) / 1e3,
	})
}
