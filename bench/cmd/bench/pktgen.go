package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
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
	ff := addFrameFlags(fs,
		"Ethernet frame size in bytes including the 4-byte FCS; 0 = pktgen's minimum: 64 for IPv4, 82 for IPv6",
		"frames per second (pktgen ratep); 0 = as fast as possible")
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
	spec, ifi, err := ff.spec(traffic.PktgenMinFrameSize)
	if err != nil {
		return err
	}
	if l3 := spec.Size - traffic.FCSSize - 14; ifi.MTU > 0 && l3 > ifi.MTU {
		return fmt.Errorf("%d-byte frames carry %d-byte IP packets but %s has MTU %d; use -size <= %d or raise the MTU",
			spec.Size, l3, *ff.dev, ifi.MTU, ifi.MTU+14+traffic.FCSSize)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := traffic.RunPktgen(ctx, traffic.PktgenConfig{
		Dir: *dir, Thread: *thread, Interface: *ff.dev, Spec: spec, Rate: *ff.rate, Duration: *ff.duration,
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
