package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/nexthop-router/nexthop/bench/traffic"
)

// frameFlags are the flags that say which frames to send, shared by the two
// generators (`bench gen` and `bench pktgen`) so `bench net` can drive
// either with the same command line.
type frameFlags struct {
	dev, srcMAC, dstMAC, src, dst *string
	flows, size                   *int
	rate                          *float64
	duration                      *time.Duration
}

// addFrameFlags registers the frame flags on fs; sizeHelp and rateHelp
// describe what 0 means for that generator.
func addFrameFlags(fs *flag.FlagSet, sizeHelp, rateHelp string) frameFlags {
	return frameFlags{
		dev:      fs.String("dev", "", "interface to send on (required)"),
		srcMAC:   fs.String("src-mac", "", "Ethernet source address (default: the interface's)"),
		dstMAC:   fs.String("dst-mac", "", "Ethernet destination address: the router's or receiver's port (required)"),
		src:      fs.String("src", "", "IPv4 or IPv6 source address (required)"),
		dst:      fs.String("dst", "", "destination address, same family as -src (required)"),
		flows:    fs.Int("flows", 64, "number of flows; flow f uses UDP source port 1024+f"),
		size:     fs.Int("size", 0, sizeHelp),
		rate:     fs.Float64("rate", 0, rateHelp),
		duration: fs.Duration("duration", 0, "how long to send, e.g. 5s (required)"),
	}
}

// spec checks the flags and returns the frames they describe; minSize
// gives the generator's smallest frame, used when -size is 0.
func (f frameFlags) spec(minSize func(ipv6 bool) int) (traffic.Spec, *net.Interface, error) {
	if *f.dev == "" || *f.dstMAC == "" || *f.src == "" || *f.dst == "" || *f.duration <= 0 {
		return traffic.Spec{}, nil, errors.New("-dev, -dst-mac, -src, -dst and a positive -duration are required")
	}
	spec := traffic.Spec{Flows: *f.flows, Size: *f.size}
	var err error
	if spec.Src, err = netip.ParseAddr(*f.src); err != nil {
		return spec, nil, fmt.Errorf("-src: %w", err)
	}
	if spec.Dst, err = netip.ParseAddr(*f.dst); err != nil {
		return spec, nil, fmt.Errorf("-dst: %w", err)
	}
	if spec.Size == 0 {
		spec.Size = minSize(spec.Src.Is6())
	}
	if spec.DstMAC, err = parseMAC("-dst-mac", *f.dstMAC); err != nil {
		return spec, nil, err
	}
	ifi, err := net.InterfaceByName(*f.dev)
	if err != nil {
		return spec, nil, fmt.Errorf("-dev %q: %w (is it run in the generator's network namespace?)", *f.dev, err)
	}
	if *f.srcMAC == "" {
		if len(ifi.HardwareAddr) != 6 {
			return spec, nil, fmt.Errorf("-dev %q has no Ethernet address; pass -src-mac", *f.dev)
		}
		spec.SrcMAC = [6]byte(ifi.HardwareAddr)
	} else if spec.SrcMAC, err = parseMAC("-src-mac", *f.srcMAC); err != nil {
		return spec, nil, err
	}
	return spec, ifi, nil
}
