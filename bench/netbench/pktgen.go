package netbench

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/nexthop-router/nexthop/bench/traffic"
)

// generator is the traffic generator of the throughput trials: Linux
// pktgen when the generator namespace has /proc/net/pktgen/pgctrl (after
// `modprobe pktgen`), else bench gen. Latency trials always use bench gen:
// pktgen's frames do not carry the sequence/timestamp payload bench recv
// needs. The pktgen path follows the kernel's pktgen documentation but has
// not been run against a real pktgen (this kernel lacks CONFIG_NET_PKTGEN).
type generator struct {
	pktgen bool
	// why says how the choice was made, for the progress and the notes.
	why string
}

// choosePktgen loads pktgen with modprobe (an error is only reported: the
// module may be built in, or missing) and then probes for pgctrl in the
// generator namespace; pktgen is chosen only when the probe succeeds.
func choosePktgen(modprobe, probe func() error) generator {
	var loadErr string
	if err := modprobe(); err != nil {
		loadErr = "; " + oneLine(err.Error())
	}
	if err := probe(); err != nil {
		return generator{why: "Linux pktgen not used: " + oneLine(err.Error()) + loadErr}
	}
	return generator{pktgen: true, why: "/proc/net/pktgen/pgctrl exists in the generator namespace"}
}

// useFor reports whether the throughput trials of sz use pktgen: not for
// IPv6 frames below pktgen's minimum (82 bytes: it pads its payload to its
// 16-byte header), which keep bench gen so the frame size is as reported.
func (g generator) useFor(sz sizeSpec) bool {
	return g.pktgen && sz.size >= traffic.PktgenMinFrameSize(sz.ipv == 6)
}

// describe is the generator for the progress, the placement and the notes.
func (g generator) describe() string {
	if !g.pktgen {
		return "bench gen (AF_PACKET, user space) for every trial; " + g.why
	}
	return fmt.Sprintf("Linux pktgen (kernel thread kpktgend_%d on CPU%d, via bench pktgen) for the throughput trials, except IPv6 frames below %d bytes; "+
		"bench gen for those and for the latency trials (pktgen frames carry no sequence/timestamp payload); %s. "+
		"The pktgen driver follows the kernel documentation but had not been run against a real pktgen before this run",
		hostCPU, hostCPU, traffic.PktgenMinFrameSize(true), g.why)
}

// placement is the short form for the placement line.
func (g generator) placement() string {
	if !g.pktgen {
		return "bench gen for every trial (Linux pktgen not available)"
	}
	return fmt.Sprintf("Linux pktgen (kpktgend_%d on CPU%d) for the throughput trials, bench gen for the latency trials", hostCPU, hostCPU)
}

// selectGenerator decides b.gen once the topology exists.
func (b *benchRun) selectGenerator(ctx context.Context) {
	modprobe := func() error {
		if _, err := exec.LookPath("modprobe"); err != nil {
			return fmt.Errorf("modprobe pktgen not tried: %w", err)
		}
		_, err := run(ctx, "modprobe", "pktgen")
		return err
	}
	probe := func() error {
		out, err := nsRun(ctx, b.topo.gen, b.opts.BenchBin, "pktgen", "-probe")
		if err != nil {
			// bench pktgen's own message, without the command line.
			if i := strings.LastIndex(out, "bench pktgen: "); i >= 0 {
				return errors.New(strings.TrimSpace(out[i+len("bench pktgen: "):]))
			}
		}
		return err
	}
	b.gen = choosePktgen(modprobe, probe)
}
