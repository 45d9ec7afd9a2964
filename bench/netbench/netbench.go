package netbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nexthop-router/nexthop/bench"
)

// Options configure `bench net`.
type Options struct {
	// Quick is the CI smoke run: one round, 64-byte frames only (78 for
	// IPv6), short trials, one TCP stream; it fails when a system produced
	// no figure.
	Quick bool
	// Repeats is the number of rounds; every round measures every system
	// once, in order, so drift hits all equally. 0 means 3 (quick: 1).
	Repeats int
	// Systems to measure, in report order; nil means AllSystems.
	Systems []string
	// Sizes are the frame sizes in bytes including the FCS; IPv6 uses at
	// least 78 (the smallest frame that holds its headers and the
	// generator's payload). nil means 64,128,512,1518 (quick: 64).
	Sizes []int
	// OutDir receives the run's JSON and charts.
	OutDir string
	// ResultsPath is the RESULTS.md the Markdown section is appended to;
	// NoAppend (and Quick) skip that.
	ResultsPath string
	NoAppend    bool
	// RouterBin and BenchBin are bin/router and the bench binary that
	// provides gen, recv and xdpfwd.
	RouterBin, BenchBin string
	// Command is the command line recorded in the run.
	Command string
	// Stdout gets the Markdown summary; Stderr the progress.
	Stdout, Stderr io.Writer
}

// plan is how much measuring a run does.
type plan struct {
	trial, latTrial, tcpTime time.Duration
	maxTrials                int
	streams                  []int
	latLoads                 []int
}

func (o *Options) plan() plan {
	if o.Quick {
		return plan{trial: 200 * time.Millisecond, latTrial: 300 * time.Millisecond, tcpTime: time.Second,
			maxTrials: 6, streams: []int{1}, latLoads: []int{10, 50}}
	}
	return plan{trial: 500 * time.Millisecond, latTrial: 500 * time.Millisecond, tcpTime: 3 * time.Second,
		maxTrials: 6, streams: []int{1, 4}, latLoads: []int{10, 50}}
}

// Fixed costs measured on the 2-vCPU VM, for the estimate.
const (
	trialOverhead  = 150 * time.Millisecond // process start, counters, drain
	systemOverhead = 2 * time.Second        // start, warm-up, stop
	latOverhead    = 600 * time.Millisecond // receiver start and stop
	tcpOverhead    = 800 * time.Millisecond
	flows          = 16
)

type sizeSpec struct{ ipv, size int }

// benchRun is one `bench net` in progress.
type benchRun struct {
	opts    Options
	plan    plan
	systems []system
	sizes   []sizeSpec
	topo    *topo
	procs   procs
	tmp     string
	start   time.Time
	est     time.Duration
	trialID int

	run      *bench.Run
	thr      map[string]*bench.Throughput
	lat      map[string]*bench.Latency
	tcp      map[string]*bench.TCP
	usage    map[string]*bench.Usage
	kernel64 map[int]float64 // kernel 64-byte throughput per IP version, pps
	// forwarded marks searches where no trial passed but frames did get
	// through: the system works, its throughput is below the lowest rate
	// tried (recorded as a failure note, not as a missing figure).
	forwarded  map[string]bool
	failures   []string
	skipped    map[string]string
	placement  string
	napiPinned string
}

func (b *benchRun) logf(format string, args ...any) {
	el := time.Since(b.start).Round(time.Second)
	fmt.Fprintf(b.opts.Stderr, "[%4.0fs/%4.0fs] %s\n", el.Seconds(), b.est.Seconds(), fmt.Sprintf(format, args...))
}

// Run runs the benchmark and writes its outputs. It returns the run even
// with an error when figures were produced.
func Run(ctx context.Context, o Options) (*bench.Run, error) {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Repeats <= 0 {
		o.Repeats = 3
		if o.Quick {
			o.Repeats = 1
		}
	}
	if len(o.Systems) == 0 {
		o.Systems = AllSystems
	}
	if len(o.Sizes) == 0 {
		o.Sizes = []int{64, 128, 512, 1518}
		if o.Quick {
			o.Sizes = []int{64}
		}
	}
	b := &benchRun{opts: o, plan: o.plan(), thr: map[string]*bench.Throughput{}, lat: map[string]*bench.Latency{},
		tcp: map[string]*bench.TCP{}, usage: map[string]*bench.Usage{}, kernel64: map[int]float64{}, skipped: map[string]string{}, forwarded: map[string]bool{}}
	for _, name := range o.Systems {
		s, err := systemByName(name)
		if err != nil {
			return nil, err
		}
		b.systems = append(b.systems, s)
	}
	for _, ipv := range []int{4, 6} {
		for _, s := range o.Sizes {
			if s < 64 || s > 1518 {
				return nil, fmt.Errorf("frame size %d: want 64..1518 bytes (including the FCS)", s)
			}
			if ipv == 6 && s < 78 {
				s = 78
			}
			if !containsSize(b.sizes, sizeSpec{ipv, s}) {
				b.sizes = append(b.sizes, sizeSpec{ipv, s})
			}
		}
	}
	if err := Preflight(o); err != nil {
		return nil, err
	}
	b.start = time.Now()
	b.est = b.estimate()
	b.run = &bench.Run{Date: b.start.UTC(), Machine: machine(), Command: o.Command, Commit: gitDescribe(), Quick: o.Quick, Repeats: o.Repeats}
	fmt.Fprintf(o.Stderr, "bench net: %d systems × %d rounds × %d sizes, %v trials (≤ %d per search); estimate ≤ %v (sizes where the generator is the limit take 1 trial, so usually less)\n",
		len(b.systems), o.Repeats, len(b.sizes), b.plan.trial, b.plan.maxTrials, b.est.Round(time.Second))

	err := b.measureAll(ctx)
	b.finishRun()
	if werr := b.writeOutputs(); werr != nil {
		err = errors.Join(err, werr)
	}
	if o.Quick {
		if missing := b.missingFigures(); len(missing) > 0 {
			err = errors.Join(err, fmt.Errorf("no figure for: %s", strings.Join(missing, "; ")))
		}
	}
	fmt.Fprintf(o.Stderr, "bench net: done in %v\n", time.Since(b.start).Round(time.Second))
	return b.run, err
}

func containsSize(s []sizeSpec, x sizeSpec) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// estimate is the worst case: every search uses all its trials.
func (b *benchRun) estimate() time.Duration {
	p := b.plan
	perSys := systemOverhead +
		time.Duration(len(b.sizes)*p.maxTrials)*(p.trial+trialOverhead) +
		time.Duration(2*len(p.latLoads))*(p.latTrial+latOverhead) +
		time.Duration(len(p.streams))*(p.tcpTime+tcpOverhead)
	return 5*time.Second + time.Duration(len(b.systems)*b.opts.Repeats)*perSys
}

// measureAll builds the topology and measures every system, round-robin.
func (b *benchRun) measureAll(ctx context.Context) (err error) {
	if removed := removeStaleNamespaces(ctx); len(removed) > 0 {
		fmt.Fprintf(b.opts.Stderr, "bench net: removed namespaces left by dead runs: %s\n", strings.Join(removed, " "))
	}
	b.tmp, err = os.MkdirTemp("", "nexthop-bench-net-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(b.tmp)
	b.topo, err = newTopo(ctx, os.Getpid())
	if err != nil {
		return fmt.Errorf("build the topology: %w", err)
	}
	defer b.cleanup()
	pinned, err := b.topo.pinNAPI()
	if err != nil {
		return err
	}
	b.placement = fmt.Sprintf("device under test: CPU%d (router started with taskset -c %d; xdpfwd likewise; the DUT ports' "+
		"napi instances threaded and their kthreads pinned to CPU%d at SCHED_FIFO 10 (they preempt like a NIC's softirq), so the DUT's receive path, XDP programs and kernel forwarding run there too); "+
		"generator, receiver, iperf3 and the host ports' napi kthreads (SCHED_FIFO 10): CPU%d",
		dutCPU, dutCPU, dutCPU, hostCPU)
	b.logf("topology: %s — %s — %s; placement: %s; napi kthreads %s", b.topo.gen, b.topo.dut, b.topo.recv, b.placement, pinned)
	for round := 1; round <= b.opts.Repeats; round++ {
		for _, sys := range b.systems {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if _, skip := b.skipped[sys.name]; skip {
				continue
			}
			if err := b.measureSystem(ctx, sys, round); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if errors.Is(err, errUnavailable) {
					b.skipped[sys.name] = err.Error()
					b.logf("%s: skipped: %v", sys.name, err)
					continue
				}
				b.failures = append(b.failures, fmt.Sprintf("%s round %d: %v", sys.name, round, err))
				b.logf("%s round %d: FAILED: %v", sys.name, round, err)
			}
		}
	}
	return nil
}

// cleanup stops every process and removes the topology, then checks that
// nothing is left.
func (b *benchRun) cleanup() {
	b.procs.stopAll()
	if b.topo != nil {
		b.topo.close()
	}
	if left := b.procs.left(); len(left) > 0 {
		fmt.Fprintf(b.opts.Stderr, "bench net: WARNING: processes still running: %v\n", left)
	}
	out, _ := run(context.Background(), "ip", "netns", "list")
	for _, ns := range []string{b.topo.gen, b.topo.dut, b.topo.recv} {
		if strings.Contains(out, ns) {
			fmt.Fprintf(b.opts.Stderr, "bench net: WARNING: namespace %s still exists\n", ns)
		}
	}
}

// measureSystem is one round of one system.
func (b *benchRun) measureSystem(ctx context.Context, sys system, round int) error {
	b.logf("%s round %d: starting", sys.name, round)
	rs, err := b.startSystem(ctx, sys)
	if err != nil {
		return err
	}
	defer b.stopSystem(rs)
	if pinned, err := b.topo.pinNAPI(); err != nil {
		return err
	} else if pinned != b.napiPinned {
		b.napiPinned = pinned
		b.logf("%s: napi kthreads %s", sys.name, pinned)
	}
	var m0 routerMetrics
	if rs.router != nil {
		if m0, err = b.scrape(ctx); err != nil {
			return fmt.Errorf("router /metrics: %w", err)
		}
	}
	var errs []error
	for _, sz := range b.sizes {
		if err := b.throughput(ctx, sys, round, sz); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, fmt.Errorf("IPv%d %d B: %w", sz.ipv, sz.size, err))
			b.logf("%s IPv%d %dB: %v", sys.name, sz.ipv, sz.size, err)
		}
	}
	for _, ipv := range []int{4, 6} {
		for _, load := range b.plan.latLoads {
			if err := b.latency(ctx, sys, ipv, load); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				errs = append(errs, fmt.Errorf("latency IPv%d %d%%: %w", ipv, load, err))
				b.logf("%s latency IPv%d %d%%: %v", sys.name, ipv, load, err)
			}
		}
	}
	for _, n := range b.plan.streams {
		if err := b.tcpTest(ctx, sys, n); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, fmt.Errorf("TCP %d streams: %w", n, err))
			b.logf("%s TCP %d streams: %v", sys.name, n, err)
		}
	}
	if rs.router != nil {
		m1, err := b.scrape(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("router /metrics: %w", err))
		} else {
			u := b.usage[sys.name]
			if u == nil {
				u = &bench.Usage{System: sys.name}
				b.usage[sys.name] = u
			}
			u.Allocs += uint64(max(0, m1.Mallocs-m0.Mallocs))
			u.Packets += uint64(max(0, m1.Forwarded-m0.Forwarded))
			if rss, err := vmHWM(rs.router.pid()); err == nil {
				u.MaxRSSMB = max(u.MaxRSSMB, rss)
			} else {
				errs = append(errs, fmt.Errorf("router RSS: %w", err))
			}
			b.logf("%s: router allocs %d over %d forwarded packets, max RSS %.1f MiB", sys.name, u.Allocs, u.Packets, u.MaxRSSMB)
		}
		if rs.router.exited() {
			errs = append(errs, fmt.Errorf("router exited during the measurement: %v\n%s", rs.router.err, trunc(rs.router.stderr.String(), 2000)))
		}
	}
	return errors.Join(errs...)
}

func key(parts ...any) string { return fmt.Sprint(parts...) }

// throughput runs one RFC 2544 search and records it.
func (b *benchRun) throughput(ctx context.Context, sys system, round int, sz sizeSpec) error {
	res, err := Search(SearchOptions{MaxTrials: b.plan.maxTrials, Resolution: 0.01}, func(rate float64) (Trial, error) {
		t, err := b.trial(ctx, sz, rate, b.plan.trial)
		if err != nil {
			return t, err
		}
		verdict := "pass"
		if !t.Pass() {
			verdict = "FAIL"
		}
		target := "max"
		if rate > 0 {
			target = fmt.Sprintf("%.0f kpps", rate/1e3)
		}
		b.logf("%-22s r%d IPv%d %4dB: rate %-10s offered %7.0f kpps, received %7.0f kpps, loss %7.3f%% %s",
			sys.name, round, sz.ipv, sz.size, target, t.OfferedPps()/1e3, t.ReceivedPps()/1e3, 100*t.Loss(), verdict)
		return t, nil
	})
	if err != nil {
		return err
	}
	k := key(sys.name, sz.ipv, sz.size)
	if res.Best == nil {
		for _, t := range res.Trials {
			if t.Received > 0 {
				// It forwarded, only never within 0.1 % loss: a figure
				// (below the lowest rate tried), not a broken system.
				b.forwarded[k] = true
			}
		}
		return fmt.Errorf("no trial passed (lowest tried %.0f kpps)", res.Trials[len(res.Trials)-1].Rate/1e3)
	}
	th := b.thr[k]
	if th == nil {
		th = &bench.Throughput{System: sys.name, IPVersion: sz.ipv, FrameSize: sz.size}
		b.thr[k] = th
	}
	th.Mpps = append(th.Mpps, res.Pps/1e6)
	th.CPUNsPerPacket = append(th.CPUNsPerPacket, res.Best.CPUNsPerPacket())
	th.GeneratorBound = th.GeneratorBound || res.GeneratorBound
	gb := ""
	if res.GeneratorBound {
		gb = " (generator-bound: lower bound)"
	}
	b.logf("%-22s r%d IPv%d %4dB: throughput %.3f Mpps, %.0f ns CPU/packet%s", sys.name, round, sz.ipv, sz.size, res.Pps/1e6, res.Best.CPUNsPerPacket(), gb)
	if sys.kind == "kernel" && sz.size == minSize(sz.ipv) && b.kernel64[sz.ipv] == 0 {
		b.kernel64[sz.ipv] = res.Pps
	}
	return nil
}

func minSize(ipv int) int {
	if ipv == 6 {
		return 78
	}
	return 64
}

// genArgs is the bench gen command line for one IP version and size.
func (b *benchRun) genArgs(sz sizeSpec, rate float64, d time.Duration, id int) []string {
	src, dst := genV4, recvV4
	if sz.ipv == 6 {
		src, dst = genV6, recvV6
	}
	return nsArgv(b.topo.gen, hostCPU, b.opts.BenchBin, "gen", "-dev", b.topo.g, "-src-mac", macG, "-dst-mac", macA,
		"-src", src, "-dst", dst, "-flows", strconv.Itoa(flows), "-size", strconv.Itoa(sz.size),
		"-rate", strconv.FormatFloat(rate, 'f', 0, 64), "-duration", d.String(), "-id", strconv.Itoa(id))
}

// genReport is bench gen's JSON line.
type genReport struct {
	Sent     uint64  `json:"sent"`
	Errors   uint64  `json:"errors"`
	ElapsedS float64 `json:"elapsed_s"`
	Pps      float64 `json:"pps"`
}

// runGen runs the generator to completion.
func (b *benchRun) runGen(ctx context.Context, sz sizeSpec, rate float64, d time.Duration, id int) (genReport, error) {
	pr, err := b.procs.start("bench gen", b.genArgs(sz, rate, d, id))
	if err != nil {
		return genReport{}, err
	}
	if err := pr.wait(ctx, d+10*time.Second); err != nil {
		return genReport{}, fmt.Errorf("bench gen: %v: %s", err, trunc(strings.TrimSpace(pr.stderr.String()), 500))
	}
	line, err := lastJSONLine(pr.stdout.String())
	if err != nil {
		return genReport{}, fmt.Errorf("bench gen: %w", err)
	}
	var g genReport
	if err := json.Unmarshal(line, &g); err != nil {
		return genReport{}, fmt.Errorf("bench gen output %q: %w", line, err)
	}
	return g, nil
}

// drain is how long after the generator stops the counters are read, so
// frames still in the DUT's rings and queues are counted as received.
const drain = 30 * time.Millisecond

// trial offers one rate for d and measures it from the counters.
func (b *benchRun) trial(ctx context.Context, sz sizeSpec, rate float64, d time.Duration) (Trial, error) {
	t := b.topo
	b.trialID++
	tx0, err := t.stats(t.gen, t.g)
	if err != nil {
		return Trial{}, err
	}
	rx0, err := t.stats(t.recv, t.r)
	if err != nil {
		return Trial{}, err
	}
	cpu0, err := readCPU(dutCPU)
	if err != nil {
		return Trial{}, err
	}
	g, err := b.runGen(ctx, sz, rate, d, b.trialID)
	if err != nil {
		return Trial{}, err
	}
	if err := sleepCtx(ctx, drain); err != nil {
		return Trial{}, err
	}
	cpu1, err := readCPU(dutCPU)
	if err != nil {
		return Trial{}, err
	}
	tx1, err := t.stats(t.gen, t.g)
	if err != nil {
		return Trial{}, err
	}
	rx1, err := t.stats(t.recv, t.r)
	if err != nil {
		return Trial{}, err
	}
	secs := g.ElapsedS
	if secs <= 0 {
		secs = d.Seconds()
	}
	return Trial{
		Rate:     rate,
		Offered:  (tx1.txPackets + tx1.txDropped) - (tx0.txPackets + tx0.txDropped),
		Received: rx1.rxPackets - rx0.rxPackets,
		Seconds:  secs,
		BusyNs:   cpu1.BusyNsSince(cpu0),
	}, nil
}

func readCPU(cpu int) (CPUTimes, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUTimes{}, err
	}
	return ParseProcStat(data, cpu)
}

// recvReport is bench recv's JSON line.
type recvReport struct {
	Received   uint64  `json:"received"`
	Duplicates uint64  `json:"duplicates"`
	Reordered  uint64  `json:"reordered"`
	MaxSeq     uint64  `json:"max_seq"`
	P50us      float64 `json:"p50_us"`
	P99us      float64 `json:"p99_us"`
	Maxus      float64 `json:"max_us"`
}

// latency offers load % of the kernel's 64-byte throughput and measures
// one-way latency with bench recv.
func (b *benchRun) latency(ctx context.Context, sys system, ipv, load int) error {
	base := b.kernel64[ipv]
	if base == 0 {
		base = 1e6
		b.note(fmt.Sprintf("latency IPv%d: no kernel 64-byte throughput measured, loads are percentages of 1 Mpps", ipv))
	}
	rate := base * float64(load) / 100
	sz := sizeSpec{ipv, minSize(ipv)}
	b.trialID++
	id := b.trialID
	d := b.plan.latTrial
	rp, err := b.procs.start("bench recv", nsArgv(b.topo.recv, hostCPU, b.opts.BenchBin, "recv", "-dev", b.topo.r, "-duration", (d+5*time.Second).String(), "-id", strconv.Itoa(id)))
	if err != nil {
		return err
	}
	defer rp.stop(2 * time.Second)
	// bench recv says nothing until it ends: wait until its packet socket
	// is bound to the port.
	if err := waitPacketSocket(ctx, rp, 10*time.Second); err != nil {
		return err
	}
	g, err := b.runGen(ctx, sz, rate, d, id)
	if err != nil {
		return err
	}
	if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
		return err
	}
	_ = rp.cmd.Process.Signal(syscall.SIGTERM)
	if err := rp.wait(ctx, 5*time.Second); err != nil && !isSignalExit(err) {
		return fmt.Errorf("bench recv: %v: %s", err, trunc(rp.stderr.String(), 500))
	}
	line, err := lastJSONLine(rp.stdout.String())
	if err != nil {
		return fmt.Errorf("bench recv: %w (stderr: %s)", err, trunc(rp.stderr.String(), 300))
	}
	var r recvReport
	if err := json.Unmarshal(line, &r); err != nil {
		return fmt.Errorf("bench recv output %q: %w", line, err)
	}
	lost := uint64(0)
	if g.Sent > r.Received {
		lost = g.Sent - r.Received
	}
	k := key(sys.name, ipv, load)
	l := b.lat[k]
	if l == nil {
		l = &bench.Latency{System: sys.name, IPVersion: ipv, FrameSize: sz.size, LoadPct: load, Pps: rate}
		b.lat[k] = l
	}
	l.P50us = append(l.P50us, r.P50us)
	l.P99us = append(l.P99us, r.P99us)
	l.Lost = append(l.Lost, lost)
	l.Reordered = append(l.Reordered, r.Reordered)
	b.logf("%-22s latency IPv%d %dB at %d%% (%.0f kpps): p50 %.1f µs, p99 %.1f µs, lost %d of %d, reordered %d",
		sys.name, ipv, sz.size, load, rate/1e3, r.P50us, r.P99us, lost, g.Sent, r.Reordered)
	return nil
}

func isSignalExit(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && !ee.Exited()
}

// tcpTest runs iperf3 (cubic) from the generator to the receiver.
func (b *benchRun) tcpTest(ctx context.Context, sys system, streams int) (err error) {
	t := b.topo
	if sys.hostsTXOff {
		for _, nd := range [][2]string{{t.gen, t.g}, {t.recv, t.r}} {
			if _, err := nsRun(ctx, nd[0], "ethtool", "-K", nd[1], "tx", "off"); err != nil {
				return err
			}
		}
		defer func() {
			for _, nd := range [][2]string{{t.gen, t.g}, {t.recv, t.r}} {
				_, _ = nsRun(context.Background(), nd[0], "ethtool", "-K", nd[1], "tx", "on", "tso", "off")
			}
		}()
	}
	if sys.groOffForTCP {
		for _, dev := range []string{t.a, t.b} {
			if _, err := nsRun(ctx, t.dut, "ethtool", "-K", dev, "gro", "off"); err != nil {
				return err
			}
		}
		defer func() {
			for _, dev := range []string{t.a, t.b} {
				_, _ = nsRun(context.Background(), t.dut, "ethtool", "-K", dev, "gro", "on")
			}
			_, _ = t.pinNAPI()
		}()
	}
	srv, err := b.procs.start("iperf3 server", nsArgv(t.recv, hostCPU, "iperf3", "-s", "-1", "-B", recvV4, "-p", "5201"))
	if err != nil {
		return err
	}
	defer srv.stop(2 * time.Second)
	var out string
	for attempt := 0; attempt < 20; attempt++ {
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
		args := []string{"iperf3", "-c", recvV4, "-p", "5201", "-C", "cubic", "-J", "-t", strconv.FormatFloat(b.plan.tcpTime.Seconds(), 'f', -1, 64)}
		if streams > 1 {
			args = append(args, "-P", strconv.Itoa(streams))
		}
		cl, err := b.procs.start("iperf3 client", nsArgv(t.gen, hostCPU, args...))
		if err != nil {
			return err
		}
		werr := cl.wait(ctx, b.plan.tcpTime+15*time.Second)
		out = cl.stdout.String()
		if werr == nil || !strings.Contains(out, "connect") {
			break
		}
	}
	res, err := ParseIperf3([]byte(out))
	if err != nil {
		return err
	}
	k := key(sys.name, streams)
	tc := b.tcp[k]
	if tc == nil {
		tc = &bench.TCP{System: sys.name, Streams: streams}
		b.tcp[k] = tc
	}
	tc.Gbps = append(tc.Gbps, res.Gbps)
	tc.Retrans = append(tc.Retrans, res.Retransmits)
	b.logf("%-22s TCP %d stream(s): %.2f Gbit/s, %d retransmits", sys.name, streams, res.Gbps, res.Retransmits)
	return nil
}

func (b *benchRun) note(s string) {
	for _, n := range b.run.Notes {
		if n == s {
			return
		}
	}
	b.run.Notes = append(b.run.Notes, s)
}

// finishRun moves the collected figures into the run, in report order.
func (b *benchRun) finishRun() {
	r := b.run
	r.Placement = b.placement
	for _, sys := range b.systems {
		if _, skip := b.skipped[sys.name]; skip {
			continue
		}
		r.Systems = append(r.Systems, sys.name)
		for _, sz := range b.sizes {
			if th := b.thr[key(sys.name, sz.ipv, sz.size)]; th != nil {
				r.Throughput = append(r.Throughput, *th)
			}
		}
		for _, ipv := range []int{4, 6} {
			for _, load := range b.plan.latLoads {
				if l := b.lat[key(sys.name, ipv, load)]; l != nil {
					r.Latency = append(r.Latency, *l)
				}
			}
		}
		for _, n := range b.plan.streams {
			if tc := b.tcp[key(sys.name, n)]; tc != nil {
				r.TCP = append(r.TCP, *tc)
			}
		}
		if u := b.usage[sys.name]; u != nil {
			r.Usage = append(r.Usage, *u)
		}
	}
	b.note(fmt.Sprintf("Throughput: highest offered rate with < %.1f %% loss (RFC 2544 §26.1), binary search over %v trials (≤ %d per figure), loss from interface counters (generator tx_packets + tx_dropped vs receiver rx_packets); UDP, %d flows. Generator-bound figures are lower bounds.",
		MaxLoss*100, b.plan.trial, b.plan.maxTrials, flows))
	b.note("CPU per packet: busy time of the DUT core (user + nice + system + irq + softirq from /proc/stat; steal excluded) during the best passing trial, divided by the packets received; other load on that core (this VM is shared) counts too.")
	b.note("TCP: iperf3 -C cubic (the VM's default bbr paces itself down through user-space buffers) between the hosts; hosts keep TX checksum offload on, except for the afxdp and xdp-redirect systems, which cannot finish CHECKSUM_PARTIAL frames, so there it is off; all ports run with TSO off (needed to put receive work on the pinned napi threads). For the nexthop systems the DUT ports' GRO is off during TCP: with GRO on, TCP through nexthop packetmmap stalled (0 bytes) in this topology, and generic XDP runs after GRO, where an aggregated frame does not fit an AF_XDP frame.")
	for name, why := range b.skipped {
		b.note(fmt.Sprintf("%s not measured: %s", name, why))
	}
	for _, f := range b.failures {
		b.note("failed: " + f)
	}
}

// missingFigures lists the systems and sizes without a throughput figure.
func (b *benchRun) missingFigures() []string {
	var missing []string
	for _, sys := range b.systems {
		if _, skip := b.skipped[sys.name]; skip {
			continue
		}
		for _, sz := range b.sizes {
			k := key(sys.name, sz.ipv, sz.size)
			th := b.thr[k]
			if (th == nil || len(th.Mpps) == 0 || th.Mpps[0] <= 0) && !b.forwarded[k] {
				missing = append(missing, fmt.Sprintf("%s IPv%d %d B", sys.name, sz.ipv, sz.size))
			}
		}
	}
	return missing
}

// writeOutputs writes the JSON, the charts, the Markdown and RESULTS.md.
func (b *benchRun) writeOutputs() error {
	o := b.opts
	appendRun := !o.Quick && !o.NoAppend
	dir := o.OutDir
	if appendRun {
		// A run recorded in RESULTS.md keeps its JSON and charts beside
		// it (bench/runs/), so the links work and `bench compare` has
		// the raw figures of every recorded run.
		dir = filepath.Join(filepath.Dir(o.ResultsPath), "runs")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	base := filepath.Join(dir, "run-"+b.start.Format("20060102-150405"))
	if files, err := bench.WriteCharts(b.run, base); err != nil {
		fmt.Fprintf(o.Stderr, "bench net: charts not written: %v\n", err)
	} else {
		fmt.Fprintf(o.Stderr, "bench net: wrote %s\n", strings.Join(files, " "))
		for _, f := range files {
			if rel, err := filepath.Rel(filepath.Dir(o.ResultsPath), f); err == nil && appendRun {
				b.run.Charts = append(b.run.Charts, filepath.ToSlash(rel))
			}
		}
	}
	data, err := json.MarshalIndent(b.run, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".json", append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write the run: %w", err)
	}
	fmt.Fprintf(o.Stderr, "bench net: wrote %s.json\n", base)
	var md bytes.Buffer
	if err := bench.WriteMarkdown(&md, b.run); err != nil {
		fmt.Fprintf(o.Stderr, "bench net: Markdown summary not written: %v\n", err)
		return nil
	}
	_, _ = o.Stdout.Write(md.Bytes())
	if o.Quick || o.NoAppend {
		return nil
	}
	if err := bench.AppendResults(o.ResultsPath, md.Bytes()); err != nil {
		return fmt.Errorf("append to %s: %w", o.ResultsPath, err)
	}
	fmt.Fprintf(o.Stderr, "bench net: appended the summary to %s\n", o.ResultsPath)
	return nil
}

// Preflight checks what the benchmark needs and says how to get it.
func Preflight(o Options) error {
	if os.Geteuid() != 0 {
		return errors.New("bench net needs root (network namespaces, veths, XDP); run it with sudo")
	}
	if runtime.NumCPU() < 2 {
		return fmt.Errorf("bench net needs 2 CPUs (the DUT on CPU%d, the generator on CPU%d); this machine has %d", dutCPU, hostCPU, runtime.NumCPU())
	}
	var missing []string
	for _, c := range []string{"ip", "ethtool", "taskset", "iperf3", "curl", "ping", "sysctl"} {
		if _, err := exec.LookPath(c); err != nil {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s: run make deps", strings.Join(missing, ", "))
	}
	for _, bin := range []string{o.RouterBin, o.BenchBin} {
		st, err := os.Stat(bin)
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return fmt.Errorf("%s not found or not executable: run make build", bin)
		}
	}
	return nil
}

// machine describes where the run happens.
func machine() bench.Machine {
	m := bench.Machine{Go: runtime.Version(), CPUs: runtime.NumCPU()}
	m.Hostname, _ = os.Hostname()
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPU, m.CPUs = parseCPUInfo(string(data), m.CPUs)
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				f := strings.Fields(rest)
				if len(f) > 0 {
					kb, _ := strconv.ParseFloat(f[0], 64)
					m.MemGiB = int(kb/(1<<20) + 0.5)
				}
			}
		}
	}
	return m
}

// parseCPUInfo returns the first model name and the processor count.
func parseCPUInfo(s string, fallback int) (model string, cpus int) {
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "model name":
			if model == "" {
				model = strings.TrimSpace(v)
			}
		case "processor":
			cpus++
		}
	}
	if cpus == 0 {
		cpus = fallback
	}
	return model, cpus
}

func gitDescribe() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
