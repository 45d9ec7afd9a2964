package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
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
	dev := fs.String("dev", "", "interface to send on (required)")
	srcMAC := fs.String("src-mac", "", "Ethernet source address (default: the interface's)")
	dstMAC := fs.String("dst-mac", "", "Ethernet destination address: the router's or receiver's port (required)")
	src := fs.String("src", "", "IPv4 or IPv6 source address (required)")
	dst := fs.String("dst", "", "destination address, same family as -src (required)")
	flows := fs.Int("flows", 64, "number of flows; flow f uses UDP source port 1024+f")
	size := fs.Int("size", 0, "Ethernet frame size in bytes including the 4-byte FCS (RFC 2544); 0 = the minimum: 64 for IPv4, 78 for IPv6")
	rate := fs.Float64("rate", 0, "frames per second; 0 = as fast as possible")
	duration := fs.Duration("duration", 0, "how long to send, e.g. 5s (required)")
	id := fs.Uint64("id", 0, "run id (uint32) written into every frame; the receiver counts only its own run")
	batch := fs.Int("batch", traffic.DefaultBatch, "largest number of frames per sendmmsg call")
	verbose := fs.Bool("v", false, "print progress to stderr every second")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *dev == "" || *dstMAC == "" || *src == "" || *dst == "" || *duration <= 0 {
		return errors.New("-dev, -dst-mac, -src, -dst and a positive -duration are required")
	}
	if *id > math.MaxUint32 {
		return fmt.Errorf("-id %d does not fit in 32 bits", *id)
	}
	spec := traffic.Spec{Flows: *flows, Size: *size, ID: uint32(*id)}
	var err error
	if spec.Src, err = netip.ParseAddr(*src); err != nil {
		return fmt.Errorf("-src: %w", err)
	}
	if spec.Dst, err = netip.ParseAddr(*dst); err != nil {
		return fmt.Errorf("-dst: %w", err)
	}
	if spec.Size == 0 {
		spec.Size = traffic.MinFrameSize(spec.Src.Is6())
	}
	if spec.DstMAC, err = parseMAC("-dst-mac", *dstMAC); err != nil {
		return err
	}
	if *srcMAC == "" {
		ifi, err := net.InterfaceByName(*dev)
		if err != nil {
			return fmt.Errorf("-dev %q: %w", *dev, err)
		}
		if len(ifi.HardwareAddr) != 6 {
			return fmt.Errorf("-dev %q has no Ethernet address; pass -src-mac", *dev)
		}
		spec.SrcMAC = [6]byte(ifi.HardwareAddr)
	} else if spec.SrcMAC, err = parseMAC("-src-mac", *srcMAC); err != nil {
		return err
	}
	var progress io.Writer
	if *verbose {
		progress = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := traffic.Generate(ctx, traffic.GenConfig{
		Interface: *dev, Spec: spec, Rate: *rate, Duration: *duration, Batch: *batch, Progress: progress,
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
