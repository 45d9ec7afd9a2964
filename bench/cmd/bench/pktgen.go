package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nexthop-router/nexthop/bench/traffic"
)

// runPktgen drives Linux pktgen (CONFIG_NET_PKTGEN) through its proc files
// with the frames `bench gen` would send (same flags, no -id: pktgen
// writes its own payload) and prints the same JSON line as `bench gen`:
// {"sent","refused","elapsed_s","pps"}. It must run inside the generator's
// network namespace, since /proc/net/pktgen is per namespace. -probe only
// checks that pktgen is there. Written from the kernel documentation and
// tested against a fake proc tree; not yet run against a real pktgen.
func runPktgen(args []string) error {
	fs := flag.NewFlagSet("pktgen", flag.ContinueOnError)
	dir := fs.String("proc", traffic.DefaultPktgenDir, "pktgen's proc directory")
	probe := fs.Bool("probe", false, "only check that pktgen is available in this network namespace (exit status 0 when it is)")
	thread := fs.Int("thread", 0, "pktgen kernel thread kpktgend_N that sends (it runs on CPU N)")
	dev := fs.String("dev", "", "interface to send on (required)")
	srcMAC := fs.String("src-mac", "", "Ethernet source address (default: the interface's)")
	dstMAC := fs.String("dst-mac", "", "Ethernet destination address: the router's or receiver's port (required)")
	src := fs.String("src", "", "IPv4 or IPv6 source address (required)")
	dst := fs.String("dst", "", "destination address, same family as -src (required)")
	flows := fs.Int("flows", 64, "number of flows; flow f uses UDP source port 1024+f")
	size := fs.Int("size", 0, "Ethernet frame size in bytes including the 4-byte FCS; 0 = pktgen's minimum: 64 for IPv4, 82 for IPv6")
	rate := fs.Float64("rate", 0, "frames per second (pktgen ratep); 0 = as fast as possible")
	duration := fs.Duration("duration", 0, "how long to send, e.g. 5s (required)")
	verbose := fs.Bool("v", false, "print a summary to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *probe {
		if !traffic.PktgenAvailable(*dir) {
			return fmt.Errorf("not available: no %s in this network namespace (needs CONFIG_NET_PKTGEN and `modprobe pktgen`)", filepath.Join(*dir, "pgctrl"))
		}
		fmt.Printf("pktgen: available (%s)\n", filepath.Join(*dir, "pgctrl"))
		return nil
	}
	if *dev == "" || *dstMAC == "" || *src == "" || *dst == "" || *duration <= 0 {
		return errors.New("-dev, -dst-mac, -src, -dst and a positive -duration are required")
	}
	spec := traffic.Spec{Flows: *flows, Size: *size}
	var err error
	if spec.Src, err = netip.ParseAddr(*src); err != nil {
		return fmt.Errorf("-src: %w", err)
	}
	if spec.Dst, err = netip.ParseAddr(*dst); err != nil {
		return fmt.Errorf("-dst: %w", err)
	}
	if spec.Size == 0 {
		spec.Size = traffic.PktgenMinFrameSize(spec.IPv6())
	}
	if spec.DstMAC, err = parseMAC("-dst-mac", *dstMAC); err != nil {
		return err
	}
	ifi, err := net.InterfaceByName(*dev)
	if err != nil {
		return fmt.Errorf("-dev %q: %w (is pktgen run in the generator's network namespace?)", *dev, err)
	}
	if l3 := spec.Size - traffic.FCSSize - 14; ifi.MTU > 0 && l3 > ifi.MTU {
		return fmt.Errorf("%d-byte frames carry %d-byte IP packets but %s has MTU %d; use -size <= %d or raise the MTU",
			spec.Size, l3, *dev, ifi.MTU, ifi.MTU+14+traffic.FCSSize)
	}
	if *srcMAC == "" {
		if len(ifi.HardwareAddr) != 6 {
			return fmt.Errorf("-dev %q has no Ethernet address; pass -src-mac", *dev)
		}
		spec.SrcMAC = [6]byte(ifi.HardwareAddr)
	} else if spec.SrcMAC, err = parseMAC("-src-mac", *srcMAC); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := traffic.RunPktgen(ctx, traffic.PktgenConfig{
		Dir: *dir, Thread: *thread, Interface: *dev, Spec: spec, Rate: *rate, Duration: *duration,
	})
	if err != nil {
		return err
	}
	if *verbose {
		fmt.Fprintf(os.Stderr, "pktgen: %d-byte %s frames, %d flows, sent %d in %v (%.0f pps), %d dropped by the driver (errors)\n",
			spec.Size, family(spec.IPv6()), spec.Flows, res.Sent, res.Elapsed.Round(time.Millisecond), res.PPS(), res.Refused)
	}
	return json.NewEncoder(os.Stdout).Encode(genOutput{
		Sent: res.Sent, Refused: res.Refused, ElapsedS: res.Elapsed.Seconds(), PPS: res.PPS(),
	})
}
