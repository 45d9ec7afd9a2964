// Command bench measures nexthop against Linux kernel forwarding in network
// namespaces and reports the result (see package bench).
//
//	bench net      run the netns benchmark (root): BENCH_QUICK=1 for the smoke run
//	bench gen      the traffic generator (run inside a namespace by `bench net`)
//	bench pktgen   drive Linux pktgen instead, when the kernel has it (throughput trials)
//	bench recv     the receiver that measures loss, reordering and latency
//	bench micro    summarise `go test -bench` output read from stdin
//	bench compare  old.json new.json: what changed between two runs
//	bench pool     run1.json run2.json ...: ratios to the kernel and cost per Gbit/s over the rounds of several runs
//	bench xdpfwd   the in-kernel XDP redirect forwarder, the ceiling on the same topology
//	bench soak     spin at SCHED_IDLE and count (run by `bench net` to measure how busy the DUT core is)
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

var commands = map[string]func(args []string) error{
	"net":     runNet,
	"gen":     runGen,
	"pktgen":  runPktgen,
	"recv":    runRecv,
	"micro":   runMicro,
	"compare": runCompare,
	"pool":    runPool,
	"xdpfwd":  runXDPFwd,
	"soak":    runSoak,
}

func usage(status int) {
	fmt.Fprintln(os.Stderr, "usage: bench net|gen|pktgen|recv|micro|compare|pool|xdpfwd|soak [flags]  (bench CMD -h for its flags)")
	os.Exit(status)
}

func main() {
	if len(os.Args) < 2 {
		usage(2)
	}
	switch os.Args[1] {
	case "-h", "-help", "--help", "help":
		usage(0)
	}
	run, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "bench: unknown command %q\n", os.Args[1])
		usage(2)
	}
	if err := run(os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0) // CMD -h: the flags were printed
		}
		fmt.Fprintf(os.Stderr, "bench %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
