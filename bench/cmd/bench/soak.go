package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/nexthop-router/nexthop/bench/netbench"
)

// runSoak spins until killed, writing its work count to stdout: `bench net`
// runs it at SCHED_IDLE on the DUT core to measure how busy TCP runs keep
// that core (see netbench.Soak).
func runSoak(args []string) error {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	interval := fs.Duration("interval", 10*time.Millisecond, "how often to write \"<units> <ns since start>\"")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *interval <= 0 {
		return fmt.Errorf("-interval %v: want a positive duration", *interval)
	}
	return netbench.Soak(os.Stdout, *interval, nil)
}
