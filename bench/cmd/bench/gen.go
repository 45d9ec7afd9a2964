package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nexthop-router/nexthop/bench/traffic"
)

// genOutput is the one JSON line `bench gen` prints; `bench net` parses it.
type genOutput struct {
	Sent     uint64  `json:"sent"`
	Refused  uint64  `json:"refused"`
	ElapsedS float64 `json:"elapsed_s"`
	PPS      float64 `json:"pps"`
}

// runGen sends UDP test frames on one interface (see package bench/traffic)
// and prints {"sent","refused","elapsed_s","pps"} as one JSON line.
func runGen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	ff := addFrameFlags(fs,
		"Ethernet frame size in bytes including the 4-byte FCS (RFC 2544); 0 = the minimum: 64 for IPv4, 78 for IPv6",
		"frames per second; 0 = as fast as possible")
	id := fs.Uint64("id", 0, "run id (uint32) written into every frame; the receiver counts only its own run")
	batch := fs.Int("batch", traffic.DefaultBatch, "largest number of frames per sendmmsg call")
	verbose := fs.Bool("v", false, "print progress to stderr every second")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *id > math.MaxUint32 {
		return fmt.Errorf("-id %d does not fit in 32 bits", *id)
	}
	spec, _, err := ff.spec(traffic.MinFrameSize)
	if err != nil {
		return err
	}
	spec.ID = uint32(*id)
	var progress io.Writer
	if *verbose {
		progress = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := traffic.Generate(ctx, traffic.GenConfig{
		Interface: *ff.dev, Spec: spec, Rate: *ff.rate, Duration: *ff.duration, Batch: *batch, Progress: progress,
	})
	if err != nil {
		return err
	}
	if *verbose {
		fmt.Fprintf(os.Stderr, "gen: %d-byte %s frames, %d flows, sent %d in %v (%.0f pps), %d refused by a full ring (lost)\n",
			spec.Size, family(spec.IPv6()), spec.Flows, res.Sent, res.Elapsed.Round(time.Millisecond), res.PPS(), res.Refused)
	}
	return json.NewEncoder(os.Stdout).Encode(genOutput{
		Sent: res.Sent, Refused: res.Refused, ElapsedS: res.Elapsed.Seconds(), PPS: res.PPS(),
	})
}

func parseMAC(flagName, s string) ([6]byte, error) {
	hw, err := net.ParseMAC(s)
	if err != nil {
		return [6]byte{}, fmt.Errorf("%s: %w", flagName, err)
	}
	if len(hw) != 6 {
		return [6]byte{}, fmt.Errorf("%s %q: want a 6-byte Ethernet address", flagName, s)
	}
	return [6]byte(hw), nil
}

func family(v6 bool) string {
	if v6 {
		return "IPv6"
	}
	return "IPv4"
}
