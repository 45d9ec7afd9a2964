package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/nexthop-router/nexthop/bench/xdpfwd"
)

// runXDPFwd attaches the in-kernel XDP forwarder (package xdpfwd) to -in,
// prints "ready", and on SIGTERM or SIGINT detaches it and prints its
// counters as one JSON line.
func runXDPFwd(args []string) error {
	fs := flag.NewFlagSet("xdpfwd", flag.ContinueOnError)
	in := fs.String("in", "", "interface to attach the XDP program to (required)")
	out := fs.String("out", "", "interface to redirect frames out of; its MAC becomes the source MAC (required)")
	dst := fs.String("dst-mac", "", "next hop's MAC, written as the destination MAC (required)")
	mode := fs.String("mode", "native", "XDP mode: native (driver) or generic (skb)")
	both := fs.Bool("both", false, "also attach an XDP_PASS program to -out (not needed on veth; see package xdpfwd)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *out == "" || *dst == "" {
		return errors.New("-in, -out and -dst-mac are required, e.g. -in veth0 -out veth1 -dst-mac 02:00:00:00:00:02")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	mac, err := net.ParseMAC(*dst)
	if err != nil || len(mac) != 6 {
		return fmt.Errorf("-dst-mac %q is not an Ethernet address like 02:00:00:00:00:02", *dst)
	}
	m, err := xdpfwd.ParseMode(*mode)
	if err != nil {
		return err
	}

	// Catch signals before attaching, so a SIGTERM sent right after "ready"
	// detaches cleanly instead of killing the process.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	f, err := xdpfwd.Start(xdpfwd.Options{In: *in, Out: *out, DstMAC: mac, Mode: m, Both: *both})
	if err != nil {
		return err
	}
	for _, n := range f.Notes() {
		fmt.Fprintln(os.Stderr, "bench xdpfwd: note:", n)
	}
	fmt.Println("ready")
	<-sigs

	c, cerr := f.Counters()
	if err := f.Close(); err != nil {
		return err
	}
	if cerr != nil {
		return cerr
	}
	line, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode counters: %w", err)
	}
	fmt.Println(string(line))
	return nil
}
