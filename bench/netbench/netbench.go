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
	// OutDir receives the run's JSON and charts (and the partial JSON of
	// an interrupted run).
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
	// Budget bounds the whole run: when the measurements would run past
	// it, they stop and the report says what was cut. 0 means 9m30s
	// (quick: 85 s), so `make bench-net` stays within 10 minutes.
	Budget time.Duration
	// ModuleRoot is the repository the run measures; its commit is
	// recorded (git describe). "" means the current directory.
	ModuleRoot string
	// Stdout gets the Markdown summary; Stderr the progress.
	Stdout, Stderr io.Writer
}

// plan is how much measuring a run does.
type plan struct {
	trial, latTrial time.Duration
	// tcpTime is iperf3's measured time; tcpOmit (slow start) runs first
	// and is not counted.
	tcpTime, tcpOmit time.Duration
	maxTrials        int
	maxReruns        int
	streams          []int
	latLoads         []int
	budget           time.Duration
}

func (o *Options) plan() plan {
	// 300 ms trials (≥ 15,000 frames at the rates probed here, so 0.1 %
	// is ≥ 15 frames) and ≤ 10 per search let two or three alternating
	// rounds fit the 10-minute budget.
	p := plan{trial: 300 * time.Millisecond, latTrial: 500 * time.Millisecond, tcpTime: 3 * time.Second, tcpOmit: time.Second,
		maxTrials: 10, maxReruns: 2, streams: []int{1, 4}, latLoads: []int{10, 50}, budget: 9*time.Minute + 30*time.Second}
	if o.Quick {
		p = plan{trial: 200 * time.Millisecond, latTrial: 300 * time.Millisecond, tcpTime: 2 * time.Second, tcpOmit: time.Second,
			maxTrials: 10, maxReruns: 1, streams: []int{1}, latLoads: []int{10, 50}, budget: 85 * time.Second}
	}
	if o.Budget > 0 {
		p.budget = o.Budget
	}
	return p
}

// Fixed costs measured on the 2-vCPU VM, for the estimate.
const (
	trialOverhead  = 150 * time.Millisecond // process start, counters, drain
	systemOverhead = 2 * time.Second        // start, warm-up, stop
	latOverhead    = 600 * time.Millisecond // receiver start and stop
	tcpOverhead    = 800 * time.Millisecond
	flows          = 16
	// typicalTrials is what a search usually takes when the generator is
	// not the limit (seen on the 2-vCPU VM), for the typical estimate;
	// frames of 512 B and more are generator-bound there (1 trial). From
	// the second round on, a search starts at the previous round's result
	// and takes about hintedTrials.
	typicalTrials = 7
	hintedTrials  = 4
	// outputReserve is kept from the budget for writing the outputs and
	// removing the topology.
	outputReserve = 10 * time.Second
)

// errBudget means the run's time budget would be exceeded: the
// measurements stop and the report notes what was cut.
var errBudget = errors.New("time budget reached")

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

	deadline time.Time
	cur      *running // the system being measured
	cut      string   // what the time budget cut, for the notes
	rounds   int      // rounds started

	run        *bench.Run
	thr        map[string]*bench.Throughput
	prevPps    map[string]float64 // last round's result per search, its first probe
	lat        map[string]*bench.Latency
	tcp        map[string]*bench.TCP
	usage      map[string]*bench.Usage
	kernel64   map[int]float64 // kernel 64-byte throughput per IP version, pps
	failures   []string
	skipped    map[string]string
	placement  string
	napiPinned string
	gen        generator // of the throughput trials (pktgen.go)
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
		tcp: map[string]*bench.TCP{}, usage: map[string]*bench.Usage{}, kernel64: map[int]float64{}, skipped: map[string]string{},
		prevPps: map[string]float64{}}
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
	b.deadline = b.start.Add(b.plan.budget - outputReserve)
	worst, typical := b.estimate()
	b.est = min(worst, b.plan.budget)
	b.run = &bench.Run{Date: b.start.UTC(), Machine: machine(), Command: o.Command, Commit: gitDescribe(o.ModuleRoot), Quick: o.Quick, Repeats: o.Repeats}
	fmt.Fprintf(o.Stderr, "bench net: %d systems × %d rounds × %d sizes, %v trials (≤ %d per search); estimate: typically %v, at worst %v; time budget %v (measurements stop, with a note, when it would be exceeded)\n",
		len(b.systems), o.Repeats, len(b.sizes), b.plan.trial, b.plan.maxTrials, typical.Round(time.Second), worst.Round(time.Second), b.plan.budget)

	err := b.measureAll(ctx)
	b.finishRun()
	interrupted := ctx.Err() != nil
	var missing []string
	if !interrupted {
		missing = b.missingFigures()
	}
	if werr := b.writeOutputs(interrupted, missing); werr != nil {
		err = joinErrs(err, werr)
	}
	if len(missing) > 0 {
		err = joinErrs(err, fmt.Errorf("no figure for: %s", strings.Join(missing, "; ")))
	}
	fmt.Fprintf(o.Stderr, "bench net: done in %v\n", time.Since(b.start).Round(time.Second))
	return b.run, err
}

// joinErrs joins errors into one line ("a; b"), so a failure list does not
// break the progress display as errors.Join's newlines do.
func joinErrs(errs ...error) error {
	var msgs []string
	var first error
	for _, e := range errs {
		if e == nil {
			continue
		}
		if first == nil {
			first = e
		}
		msgs = append(msgs, e.Error())
	}
	switch len(msgs) {
	case 0:
		return nil
	case 1:
		return first
	}
	return &joined{msg: strings.Join(msgs, "; "), errs: errs}
}

// joined keeps the joined errors for errors.Is and errors.As.
type joined struct {
	msg  string
	errs []error
}

func (j *joined) Error() string   { return j.msg }
func (j *joined) Unwrap() []error { return j.errs }

func containsSize(s []sizeSpec, x sizeSpec) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// estimate returns the worst case (every search uses all its trials) and
// the typical case (frames of 512 B and more generator-bound, one trial;
// the other searches typicalTrials).
func (b *benchRun) estimate() (worst, typical time.Duration) {
	p := b.plan
	fixed := systemOverhead +
		time.Duration(2*len(p.latLoads))*(p.latTrial+latOverhead) +
		time.Duration(len(p.streams))*(p.tcpTime+p.tcpOmit+tcpOverhead)
	trial := p.trial + trialOverhead
	first, later := 0, 0 // trials of the first round and of each later one
	for _, sz := range b.sizes {
		if sz.size >= 512 {
			first++
			later++
		} else {
			first += min(typicalTrials, p.maxTrials)
			later += min(hintedTrials, p.maxTrials)
		}
	}
	sys, n := time.Duration(len(b.systems)), time.Duration(len(b.systems)*b.opts.Repeats)
	// TCP with the hosts' default offloads, for the systems that take it.
	var tso time.Duration
	for _, s := range b.systems {
		tso += time.Duration(len(tcpOffloads(s))-1) * time.Duration(b.opts.Repeats*len(p.streams)) * (p.tcpTime + p.tcpOmit + tcpOverhead)
	}
	worst = 5*time.Second + n*(fixed+time.Duration(len(b.sizes)*p.maxTrials)*trial) + tso
	typical = 5*time.Second + n*fixed + sys*time.Duration(first+(b.opts.Repeats-1)*later)*trial + tso
	return worst, typical
}

// checkBudget returns errBudget when a measurement of d would end after
// the run's deadline.
func (b *benchRun) checkBudget(d time.Duration) error {
	if time.Now().Add(d).After(b.deadline) {
		return errBudget
	}
	return nil
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
	b.selectGenerator(ctx)
	b.logf("traffic generator: %s", b.gen.describe())
	b.note("Traffic generator: " + b.gen.describe() + ".")
	b.placement = fmt.Sprintf("device under test: CPU%d (router started with taskset -c %d and nice %d; xdpfwd likewise; the DUT ports' "+
		"napi instances threaded and their kthreads pinned to CPU%d at SCHED_OTHER nice %d, so the DUT's receive path, XDP programs and kernel forwarding run there "+
		"and share the core fairly with a user-space router, as ksoftirqd would, while other load on the machine gets little of it); "+
		"generator, receiver, iperf3 and the host ports' napi kthreads (SCHED_FIFO %d, so the never-sleeping generator does not starve them): CPU%d; "+
		"traffic generator: %s",
		dutCPU, dutCPU, dutNice, dutCPU, dutNice, napiPriority, hostCPU, b.gen.placement())
	b.logf("topology: %s — %s — %s; placement: %s; napi kthreads %s", b.topo.gen, b.topo.dut, b.topo.recv, b.placement, pinned)
	for _, w := range preflightWarnings("napi/nb" + strconv.Itoa(os.Getpid())) {
		b.logf("WARNING: %s", w)
		b.note("Preflight warning: " + w + ".")
	}
	var last time.Duration // how long the previous round took
	for round := 1; round <= b.opts.Repeats; round++ {
		// A round that would not fit is not started, so every system
		// keeps the same number of repeats.
		if left := time.Until(b.deadline); round > 1 && last > left {
			b.cut = fmt.Sprintf("rounds %d to %d of %d were not run: the time budget (%v) had %v left and round %d took %v, so every system has %d repeat(s)",
				round, b.opts.Repeats, b.opts.Repeats, b.plan.budget, left.Round(time.Second), round-1, last.Round(time.Second), round-1)
			b.logf("time budget: %s", b.cut)
			return nil
		}
		roundStart := time.Now()
		b.rounds = round
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
				if errors.Is(err, errBudget) {
					b.cut = fmt.Sprintf("the time budget (%v) ran out during round %d of %d at %s; that system's remaining figures of the round and every later measurement were not taken, so later rounds have fewer repeats", b.plan.budget, round, b.opts.Repeats, sys.name)
					b.logf("time budget reached: %s", b.cut)
					return nil
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
		last = time.Since(roundStart)
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
	b.cur = rs
	defer func() {
		b.cur = nil
		b.stopSystem(rs)
	}()
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
			if errors.Is(err, errBudget) {
				return err
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
				if errors.Is(err, errBudget) {
					return err
				}
				errs = append(errs, fmt.Errorf("latency IPv%d %d%%: %w", ipv, load, err))
				b.logf("%s latency IPv%d %d%%: %v", sys.name, ipv, load, err)
			}
		}
	}
	for _, offload := range tcpOffloads(sys) {
		for _, n := range b.plan.streams {
			if err := b.tcpTest(ctx, sys, n, offload); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if errors.Is(err, errBudget) {
					return err
				}
				errs = append(errs, fmt.Errorf("TCP %d streams%s: %w", n, offloadLabel(offload), err))
				b.logf("%s TCP %d streams%s: %v", sys.name, n, offloadLabel(offload), err)
			}
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
			errs = append(errs, fmt.Errorf("router exited during the measurement: %v: %s", rs.router.err, oneLine(trunc(rs.router.stderr.String(), 2000))))
		}
	}
	return joinErrs(errs...)
}

// oneLine folds a multi-line text (a process's stderr) into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func key(parts ...any) string { return fmt.Sprint(parts...) }

// throughput runs one RFC 2544 search and records it.
func (b *benchRun) throughput(ctx context.Context, sys system, round int, sz sizeSpec) error {
	k := key(sys.name, sz.ipv, sz.size)
	so := SearchOptions{MaxTrials: b.plan.maxTrials, Resolution: 0.01, MaxReruns: b.plan.maxReruns, Hint: b.prevPps[k]}
	res, err := Search(so, func(rate float64) (Trial, error) {
		t, err := b.trial(ctx, sz, rate, b.plan.trial)
		if err != nil {
			return t, err
		}
		verdict := "pass"
		if p := t.Problem(); p != "" && t.Loss() < MaxLoss {
			verdict = "INVALID (re-run): " + p
		} else if !t.Pass() {
			verdict = "FAIL"
		}
		if t.Refused > 0 {
			verdict += fmt.Sprintf(" (%d refused by the full DUT ring)", t.Refused)
		}
		target := "max"
		if rate > 0 {
			target = fmt.Sprintf("%.0f kpps", rate/1e3)
		}
		b.logf("%-22s r%d IPv%d %4dB: rate %-10s offered %7.0f kpps, received %7.0f kpps, loss %7.3f%% %s",
			sys.name, round, sz.ipv, sz.size, target, t.OfferedPps()/1e3, t.ReceivedPps()/1e3, 100*t.Loss(), verdict)
		return t, nil
	})
	th := b.thr[k]
	if th == nil {
		th = &bench.Throughput{System: sys.name, IPVersion: sz.ipv, FrameSize: sz.size}
		b.thr[k] = th
	}
	if len(res.Trials) > 0 && res.Trials[0].Rate == 0 {
		t0 := res.Trials[0]
		th.MaxFwdMpps = append(th.MaxFwdMpps, t0.ReceivedPps()/1e6)
		th.MaxOfferedMpps = append(th.MaxOfferedMpps, t0.OfferedPps()/1e6)
	}
	// The smoke run's rule: the system forwards when some trial lost
	// less than half and delivered frames.
	for _, t := range res.Trials {
		if t.Received > 0 && t.Loss() < 0.5 {
			th.Forwarding++
			break
		}
	}
	if err != nil {
		return err
	}
	if res.Best == nil {
		lowest := res.Trials[len(res.Trials)-1].Rate
		return fmt.Errorf("no trial passed (lowest rate tried %.0f kpps)", lowest/1e3)
	}
	b.prevPps[k] = res.Pps
	th.Mpps = append(th.Mpps, res.Pps/1e6)
	th.CPUNsPerPacket = append(th.CPUNsPerPacket, res.Best.CPUNsPerPacket())
	th.GeneratorBound = th.GeneratorBound || res.GeneratorBound
	th.Bracketed = append(th.Bracketed, res.Bracketed)
	bound := ""
	switch {
	case res.GeneratorBound:
		bound = " (generator-bound: lower bound)"
	case !res.Bracketed:
		bound = fmt.Sprintf(" (unbracketed after %d trials: lower bound; %.0f kpps failed)", len(res.Trials), res.UpperPps/1e3)
	}
	b.logf("%-22s r%d IPv%d %4dB: throughput %.3f Mpps, %.0f ns CPU/packet%s", sys.name, round, sz.ipv, sz.size, res.Pps/1e6, res.Best.CPUNsPerPacket(), bound)
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

// genArgs is the bench gen (or, with pktgen, bench pktgen: same frames,
// no run id, sending from kpktgend_<hostCPU>) command line for one IP
// version and size.
func (b *benchRun) genArgs(pktgen bool, sz sizeSpec, rate float64, d time.Duration, id int) []string {
	src, dst := genV4, recvV4
	if sz.ipv == 6 {
		src, dst = genV6, recvV6
	}
	cmd, last := "gen", []string{"-id", strconv.Itoa(id)}
	if pktgen {
		cmd, last = "pktgen", []string{"-thread", strconv.Itoa(hostCPU)}
	}
	args := []string{b.opts.BenchBin, cmd, "-dev", b.topo.g, "-src-mac", macG, "-dst-mac", macA,
		"-src", src, "-dst", dst, "-flows", strconv.Itoa(flows), "-size", strconv.Itoa(sz.size),
		"-rate", strconv.FormatFloat(rate, 'f', 0, 64), "-duration", d.String()}
	return nsArgv(b.topo.gen, hostCPU, append(args, last...)...)
}

// genReport is bench gen's JSON line.
type genReport struct {
	Sent     uint64  `json:"sent"`
	Refused  uint64  `json:"refused"`
	ElapsedS float64 `json:"elapsed_s"`
	Pps      float64 `json:"pps"`
}

// runGen runs the generator (bench pktgen when pktgen is set, else bench
// gen) to completion.
func (b *benchRun) runGen(ctx context.Context, pktgen bool, sz sizeSpec, rate float64, d time.Duration, id int) (genReport, error) {
	name := "bench gen"
	if pktgen {
		name = "bench pktgen"
	}
	pr, err := b.procs.start(name, b.genArgs(pktgen, sz, rate, d, id))
	if err != nil {
		return genReport{}, err
	}
	if err := pr.wait(ctx, d+10*time.Second); err != nil {
		return genReport{}, fmt.Errorf("%s: %v: %s", name, err, trunc(strings.TrimSpace(pr.stderr.String()), 500))
	}
	line, err := lastJSONLine(pr.stdout.String())
	if err != nil {
		return genReport{}, fmt.Errorf("%s: %w", name, err)
	}
	var g genReport
	if err := json.Unmarshal(line, &g); err != nil {
		return genReport{}, fmt.Errorf("%s output %q: %w", name, line, err)
	}
	return g, nil
}

// drain is how long after the generator stops the counters are read, so
// frames still in the DUT's rings and queues are counted as received.
const drain = 30 * time.Millisecond

// trial offers one rate for d and measures it: offered is the generator's
// own count of frames put to the link (accepted or refused by a full DUT
// ring), received the receiver port's rx_packets counter, CPU the DUT
// tasks' run time.
func (b *benchRun) trial(ctx context.Context, sz sizeSpec, rate float64, d time.Duration) (Trial, error) {
	if err := b.checkBudget(d + trialOverhead); err != nil {
		return Trial{}, err
	}
	t := b.topo
	b.trialID++
	rx0, err := t.stats(t.recv, t.r)
	if err != nil {
		return Trial{}, err
	}
	cpu0 := b.dutCPUNs()
	g, err := b.runGen(ctx, b.gen.useFor(sz), sz, rate, d, b.trialID)
	if err != nil {
		return Trial{}, err
	}
	if err := sleepCtx(ctx, drain); err != nil {
		return Trial{}, err
	}
	cpu1 := b.dutCPUNs()
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
		Offered:  g.Sent + g.Refused,
		Refused:  g.Refused,
		Received: rx1.rxPackets - rx0.rxPackets,
		Seconds:  secs,
		CPUNs:    max(0, cpu1-cpu0),
	}, nil
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
	if err := b.checkBudget(d + latOverhead); err != nil {
		return err
	}
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
	cpu0 := b.dutCPUNs()
	g, err := b.runGen(ctx, false, sz, rate, d, id) // pktgen frames carry no seq/timestamp
	if err != nil {
		return err
	}
	if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
		return err
	}
	cpuNs := max(0, b.dutCPUNs()-cpu0)
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
	offered := g.Sent + g.Refused
	if offered == 0 || r.Received == 0 {
		// Nothing to take percentiles of: a 0 µs figure would read as
		// a measurement.
		return fmt.Errorf("measured nothing: the generator offered %d frames, the receiver got %d of them", offered, r.Received)
	}
	lost := uint64(0)
	if offered > r.Received {
		lost = offered - r.Received
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
	l.Sent = append(l.Sent, offered)
	l.Reordered = append(l.Reordered, r.Reordered)
	l.CPUNsPerPacket = append(l.CPUNsPerPacket, cpuNs/float64(r.Received))
	over := ""
	if float64(lost) >= MaxLoss*float64(offered) {
		over = " — OVERLOADED (loss ≥ 0.1 %: a full queue's latency)"
	}
	b.logf("%-22s latency IPv%d %dB at %d%% (%.0f kpps): p50 %.1f µs, p99 %.1f µs, lost %d of %d, reordered %d, %.0f ns CPU/packet%s",
		sys.name, ipv, sz.size, load, rate/1e3, r.P50us, r.P99us, lost, offered, r.Reordered, cpuNs/float64(r.Received), over)
	return nil
}

func isSignalExit(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && !ee.Exited()
}

// tcpOffloads lists the offload settings a system's TCP is measured with:
// every system without offloads (the AF_XDP and XDP systems cannot finish
// CHECKSUM_PARTIAL frames or take super-packets from a veth); and the
// systems that can also with the hosts' defaults (TSO on), which is how a
// Linux host really sends and what issue 8's GSO path is for, once with
// the DUT ports' TSO off ("tso": the DUT cuts every super-packet in
// software, as for a NIC without TSO) and once on ("tso+dut": they leave
// the DUT whole, as through a NIC with TSO).
func tcpOffloads(sys system) []string {
	if sys.kind == "kernel" || sys.mode == "packetmmap" {
		return []string{"", "tso", "tso+dut"}
	}
	return []string{""}
}

func offloadLabel(offload string) string {
	switch offload {
	case "tso":
		return " (hosts' default offloads, TSO on)"
	case "tso+dut":
		return " (TSO on, DUT ports too)"
	}
	return ""
}

// tcpTest runs iperf3 (cubic) from the generator to the receiver. With
// offload "" the hosts' TX checksum offload (and so TSO) is off, which
// every system can take; with "tso" the hosts keep their defaults; with
// "tso+dut" the DUT ports' TSO goes on too. The DUT ports' GRO is off for
// every system (generic XDP runs after GRO, where an aggregated frame does
// not fit an AF_XDP frame).
func (b *benchRun) tcpTest(ctx context.Context, sys system, streams int, offload string) (err error) {
	t := b.topo
	if err := b.checkBudget(b.plan.tcpTime + b.plan.tcpOmit + tcpOverhead); err != nil {
		return err
	}
	hostOffload := []string{"tx", "off"}
	if offload == "tso" || offload == "tso+dut" {
		hostOffload = []string{"tx", "on", "tso", "on"}
	}
	for _, nd := range [][2]string{{t.gen, t.g}, {t.recv, t.r}} {
		if _, err := nsRun(ctx, nd[0], append([]string{"ethtool", "-K", nd[1]}, hostOffload...)...); err != nil {
			return err
		}
	}
	defer func() {
		for _, nd := range [][2]string{{t.gen, t.g}, {t.recv, t.r}} {
			_, _ = nsRun(context.Background(), nd[0], "ethtool", "-K", nd[1], "tx", "on", "tso", "off")
		}
	}()
	// Registered before GRO goes off, so a failure below still puts the
	// DUT ports back for the next system's UDP runs.
	defer func() {
		for _, dev := range []string{t.a, t.b} {
			_, _ = nsRun(context.Background(), t.dut, "ethtool", "-K", dev, "gro", "on")
		}
		_, _ = t.pinNAPI()
	}()
	for _, dev := range []string{t.a, t.b} {
		if _, err := nsRun(ctx, t.dut, "ethtool", "-K", dev, "gro", "off"); err != nil {
			return err
		}
	}
	restore, err := t.steerReceive(ctx, t.dut, []string{t.a, t.b}, dutCPU)
	if err != nil {
		return err
	}
	defer restore()
	if offload == "tso+dut" {
		// A DUT port with TSO on sends to its host port outside that
		// port's napi too, so the hosts' receive (and the sender's ACK
		// clocking) would run on the DUT core: steer it home.
		defer func() {
			for _, dev := range []string{t.a, t.b} {
				_, _ = nsRun(context.Background(), t.dut, "ethtool", "-K", dev, "tso", "off")
			}
		}()
		for _, dev := range []string{t.a, t.b} {
			if _, err := nsRun(ctx, t.dut, "ethtool", "-K", dev, "tso", "on"); err != nil {
				return err
			}
		}
		for _, nd := range [][2]string{{t.gen, t.g}, {t.recv, t.r}} {
			restoreHost, err := t.steerReceive(ctx, nd[0], []string{nd[1]}, hostCPU)
			if err != nil {
				return err
			}
			defer restoreHost()
		}
	}
	// How busy the run keeps the DUT core is measured by a soaker (soak.go),
	// against its rate on the idle core, taken first.
	soaker, err := b.procs.start("DUT core soaker", soakerArgv(b.opts.BenchBin, dutCPU))
	if err != nil {
		return err
	}
	defer soaker.stop(time.Second)
	idleRate := -1.0
	if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
		return err
	}
	if from, ok := readSoaker(soaker.stdout.String(), time.Now()); ok {
		if err := sleepCtx(ctx, 300*time.Millisecond); err != nil {
			return err
		}
		if to, ok := readSoaker(soaker.stdout.String(), time.Now()); ok {
			idleRate = soakRate(from, to)
		}
	}
	srv, err := b.procs.start("iperf3 server", nsArgv(t.recv, hostCPU, "iperf3", "-s", "-1", "-B", recvV4, "-p", "5201"))
	if err != nil {
		return err
	}
	defer srv.stop(2 * time.Second)
	var out string
	busy, busyWhy, steal := -1.0, "", "" // busy -1: not measured, for the reason in busyWhy
	for attempt := 0; attempt < 20; attempt++ {
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
		args := []string{"iperf3", "-c", recvV4, "-p", "5201", "-C", "cubic", "-J",
			"-t", strconv.FormatFloat(b.plan.tcpTime.Seconds(), 'f', -1, 64), "-O", strconv.FormatFloat(b.plan.tcpOmit.Seconds(), 'f', -1, 64)}
		if streams > 1 {
			args = append(args, "-P", strconv.Itoa(streams))
		}
		cl, err := b.procs.start("iperf3 client", nsArgv(t.gen, hostCPU, args...))
		if err != nil {
			return err
		}
		busy, busyWhy, steal = b.dutBusyDuring(ctx, cl, soaker, idleRate)
		werr := cl.wait(ctx, b.plan.tcpTime+b.plan.tcpOmit+15*time.Second)
		out = cl.stdout.String()
		if werr == nil || !strings.Contains(out, "connect") {
			break
		}
	}
	res, err := ParseIperf3([]byte(out))
	if err != nil {
		return err
	}
	k := key(sys.name, streams, offload)
	tc := b.tcp[k]
	if tc == nil {
		tc = &bench.TCP{System: sys.name, Streams: streams, Offload: offload}
		b.tcp[k] = tc
	}
	tc.Gbps = append(tc.Gbps, res.Gbps)
	tc.Retrans = append(tc.Retrans, res.Retransmits)
	if busy >= 0 {
		tc.DUTBusyPct = append(tc.DUTBusyPct, 100*busy)
	}
	dut := fmt.Sprintf("DUT core %.0f %% busy", 100*busy)
	if busy < 0 {
		dut = "DUT core busy not measured: " + busyWhy
	}
	b.logf("%-22s TCP %d stream(s)%s: %.2f Gbit/s, %d retransmits, %s%s", sys.name, streams, offloadLabel(offload), res.Gbps, res.Retransmits, dut, steal)
	return nil
}

// dutBusyDuring returns the DUT core's busy share (0..1) over iperf3's
// measured time, less 100 ms at each end, read from the soaker against its
// idle-core rate — or -1 and why not. steal is ", steal …" for the log when
// /proc/stat could be read at both ends: on a shared VM it tells a slow
// round that lost its vCPUs from one the system made slow.
func (b *benchRun) dutBusyDuring(ctx context.Context, client, soaker *proc, idleRate float64) (busy float64, why, steal string) {
	start := time.Now()
	var stat [2][]byte
	defer func() {
		if stat[0] != nil && stat[1] != nil {
			steal = stealText(stat[0], stat[1])
		}
	}()
	if idleRate <= 0 {
		return -1, "no idle-core rate from the soaker (" + soakerState(soaker) + ")", ""
	}
	var marks [2]soakMark
	for i, at := range []time.Duration{b.plan.tcpOmit + 100*time.Millisecond, b.plan.tcpOmit + b.plan.tcpTime - 100*time.Millisecond} {
		timer := time.NewTimer(time.Until(start.Add(at)))
		select {
		case <-timer.C:
		case <-client.done:
			timer.Stop()
			return -1, "iperf3 ended before its measured time did", ""
		case <-ctx.Done():
			timer.Stop()
			return -1, ctx.Err().Error(), ""
		}
		m, ok := readSoaker(soaker.stdout.String(), time.Now())
		stat[i], _ = os.ReadFile("/proc/stat")
		if !ok {
			return -1, "the soaker wrote nothing readable (" + soakerState(soaker) + ")", ""
		}
		marks[i] = m
	}
	busy, ok := dutBusy(idleRate, marks[0], marks[1])
	if !ok {
		return -1, "the soaker's count went backwards", ""
	}
	return busy, "", ""
}

// stealText is ", steal H % host core / D % DUT core" between two reads of
// /proc/stat, or "" when either core's times cannot be had.
func stealText(from, to []byte) string {
	var pct [2]float64
	for i, cpu := range []int{hostCPU, dutCPU} {
		a, err1 := ParseProcStat(from, cpu)
		c, err2 := ParseProcStat(to, cpu)
		share, ok := c.StealSince(a)
		if err1 != nil || err2 != nil || !ok {
			return ""
		}
		pct[i] = 100 * share
	}
	return fmt.Sprintf(", steal %.0f %% host core / %.0f %% DUT core", pct[0], pct[1])
}

// soakerState says whether the soaker still runs, and what it wrote to
// stderr if not.
func soakerState(soaker *proc) string {
	if !soaker.exited() {
		return "it is running"
	}
	return "it exited: " + trunc(strings.TrimSpace(soaker.stderr.String()), 300)
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
	if b.rounds > 0 {
		r.Repeats = b.rounds // fewer than asked when the time budget cut the run
	}
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
		for _, offload := range tcpOffloads(sys) {
			for _, n := range b.plan.streams {
				if tc := b.tcp[key(sys.name, n, offload)]; tc != nil {
					r.TCP = append(r.TCP, *tc)
				}
			}
		}
		if u := b.usage[sys.name]; u != nil {
			r.Usage = append(r.Usage, *u)
		}
	}
	b.note(fmt.Sprintf("Throughput: highest offered rate with < %.1f %% loss (RFC 2544 §26.1), searched over %v trials (≤ %d per figure, re-runs included) until a failing rate lies within 1 %% above it; "+
		"received = the receiver port's rx_packets; UDP, %d flows; "+
		"offered = the frames the generator put to the link, including those the DUT's full ingress ring refused (lost, not retried). A trial whose offered rate strayed more than ±%.0f %% from the target is re-run (≤ %d times), then counted as failed. "+
		"≥ marks a lower bound: generator-bound (the maximum-rate trial passed) or unbracketed (the trials ran out before a failure within 1 %%).",
		MaxLoss*100, b.plan.trial, b.plan.maxTrials, flows, RateTolerance*100, b.plan.maxReruns))
	b.note("CPU per packet: run time of the DUT's own tasks — the router (or xdpfwd) process and the DUT ports' napi kthreads, where kernel forwarding, XDP and the veth receive path run — " +
		"from /proc/PID/task/TID/schedstat, divided by the packets received; at throughput (a busy-polling router costs about 1/rate there) and, for every system at the same offered rate, at the latency loads.")
	b.note("Latency: one-way, from the generator's timestamp to the receiver's packet socket, at fixed percentages of the kernel's 64-byte (IPv6: 78-byte) throughput; " +
		"rows marked overloaded lost ≥ 0.1 %, so they show a full queue's latency, not forwarding latency (RFC 2544 §26.2 measures at the throughput rate).")
	b.note(fmt.Sprintf("TCP: iperf3 -C cubic (the VM's default bbr paces itself down through user-space buffers) -t %v -O %v (the first %v, slow start, is not counted); GRO off on the DUT ports for every system "+
		"(generic XDP runs after GRO, where an aggregated frame does not fit an AF_XDP frame). Rows without a mark: the hosts' TX checksum offload (and with it TSO) off, the same for every system "+
		"(the AF_XDP and XDP systems cannot finish CHECKSUM_PARTIAL frames); rows marked \"TSO\": the hosts' default offloads, so 64 KiB super-packets with unfinished checksums reach the DUT, "+
		"measured for kernel forwarding and nexthop over PACKET_MMAP, which take them (received as super-packets; in rows marked \"TSO (defaults)\" the DUT ports have TSO off, so both segment in software at egress; "+
		"in rows marked \"TSO, DUT ports too\" they have it on, so super-packets leave the DUT whole and the receiving host takes them whole, and the host ports steer their own receive work to CPU0 by RPS, as a veth with TSO on delivers in the sender's softirq). "+
		"A veth port without a napi instance (GRO off, no native XDP), or sent frames by a device with TSO on, takes them in the sender's softirq, on CPU0, so during TCP runs the DUT ports steer their receive work to CPU1 by RPS: "+
		"the DUT's receive path, kernel forwarding and its segmentation run on the DUT core in backlog softirq (raised by an IPI, so it preempts a router there rather than sharing the core as the napi kthreads do), as with a NIC's interrupt there. "+
		"DUT core busy %%: the share of its idle-core work rate that a SCHED_IDLE spinner on the DUT core lost over the measured time (bench soak, as netperf's CPU loopers; /proc/stat misses short softirq bursts here); "+
		"the spinner also keeps that core from halting, for every system alike; a busy %% well below 100 means CPU0, not the DUT, set the rate. "+
		"DUT core %% per Gbit/s: busy %% ÷ Gbit/s, round by round: what a Gbit/s of goodput cost the DUT core, comparable across systems even where CPU0 set the rate, best at similar Gbit/s (batching spreads fixed costs thinner at higher rates).",
		b.plan.tcpTime, b.plan.tcpOmit, b.plan.tcpOmit))
	b.note("The generator shares CPU0 with the receiver and the host ports' napi kthreads: the more a system forwards, the more receive work CPU0 does and the less the generator offers, so generator-bound figures (≥) are lower for the systems that forward best.")
	if b.cut != "" {
		b.note("Cut short: " + b.cut + ".")
	}
	for name, why := range b.skipped {
		b.note(fmt.Sprintf("%s not measured: %s", name, why))
	}
	for _, f := range b.failures {
		b.note("failed: " + f)
	}
}

// missingFigures lists the systems and sizes that produced no figure: no
// search had a trial with loss < 50 % that delivered frames
// (bench.Throughput.Forwards, the rule TestQuickEndToEnd applies too).
func (b *benchRun) missingFigures() []string {
	var missing []string
	for _, sys := range b.systems {
		if _, skip := b.skipped[sys.name]; skip {
			continue
		}
		for _, sz := range b.sizes {
			if th := b.thr[key(sys.name, sz.ipv, sz.size)]; th == nil || !th.Forwards() {
				missing = append(missing, fmt.Sprintf("%s IPv%d %d B", sys.name, sz.ipv, sz.size))
			}
		}
	}
	return missing
}

// writeOutputs writes the JSON, the charts, the Markdown and RESULTS.md.
// An interrupted run writes only its JSON, as run-*.partial.json in
// OutDir; a run with missing figures is not appended to RESULTS.md.
func (b *benchRun) writeOutputs(interrupted bool, missing []string) error {
	o := b.opts
	base := filepath.Join(o.OutDir, "run-"+b.start.Format("20060102-150405"))
	if interrupted {
		b.note("INTERRUPTED: the run was stopped before it finished; figures are partial.")
		if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
			return fmt.Errorf("output directory: %w", err)
		}
		data, err := json.MarshalIndent(b.run, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(base+".partial.json", append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("write the partial run: %w", err)
		}
		fmt.Fprintf(o.Stderr, "bench net: interrupted: wrote %s.partial.json; nothing appended to %s\n", base, o.ResultsPath)
		return nil
	}
	appendRun := !o.Quick && !o.NoAppend && len(missing) == 0
	if appendRun {
		// A run recorded in RESULTS.md keeps its JSON and charts beside
		// it (bench/runs/), so the links work and `bench compare` has
		// the raw figures of every recorded run.
		base = filepath.Join(filepath.Dir(o.ResultsPath), "runs", filepath.Base(base))
	}
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
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
	if !appendRun {
		if !o.Quick && !o.NoAppend {
			fmt.Fprintf(o.Stderr, "bench net: not appended to %s: figures are missing\n", o.ResultsPath)
		}
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
		return errors.New("needs root (network namespaces, veths, XDP); run it with sudo")
	}
	if runtime.NumCPU() < 2 {
		return fmt.Errorf("needs 2 CPUs (the DUT on CPU%d, the generator on CPU%d); this machine has %d", dutCPU, hostCPU, runtime.NumCPU())
	}
	var missing []string
	for _, c := range []string{"ip", "ethtool", "taskset", "chrt", "nice", "iperf3", "curl", "ping", "sysctl"} {
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

// gitDescribe is `git describe --always --dirty` of the repository at root
// ("" = the current directory), or "unknown".
func gitDescribe(root string) string {
	if root == "" {
		root = "."
	}
	out, err := exec.Command("git", "-C", root, "describe", "--always", "--dirty").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// ModuleRoot finds the nexthop repository containing dir (or one of its
// parents): the directory whose go.mod declares this module. The outputs
// and binaries of `bench net` are resolved against it.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
			strings.Contains(string(data), "module github.com/nexthop-router/nexthop\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s is not inside the nexthop repository (no go.mod of github.com/nexthop-router/nexthop above it)", dir)
		}
	}
}
