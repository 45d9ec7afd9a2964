package bench

import "time"

// Run is one benchmark run as written to JSON: everything a report, a chart
// or `bench compare` needs, so runs on different days can be compared
// without re-running anything.
type Run struct {
	Date    time.Time `json:"date"`
	Machine Machine   `json:"machine"`
	Command string    `json:"command"` // the command line as the user typed it
	Commit  string    `json:"commit"`  // git describe of the tree measured
	Quick   bool      `json:"quick"`   // BENCH_QUICK=1: fewer repeats, shorter trials
	Repeats int       `json:"repeats"` // alternating rounds per system
	// Placement says which CPU runs what, e.g. "device under test: CPU1
	// (router workers pinned; kernel: threaded NAPI pinned); generator and
	// receiver: CPU0".
	Placement string `json:"placement"`
	// Systems lists the systems measured, in report order; the first is
	// the baseline ratios are taken against (Linux kernel forwarding).
	Systems    []string     `json:"systems"`
	Throughput []Throughput `json:"throughput,omitempty"`
	Latency    []Latency    `json:"latency,omitempty"`
	TCP        []TCP        `json:"tcp,omitempty"`
	Usage      []Usage      `json:"usage,omitempty"`
	Micro      []Micro      `json:"micro,omitempty"`
	Notes      []string     `json:"notes,omitempty"` // caveats printed under the table
	// Charts are the chart files WriteCharts wrote, as paths relative to
	// the directory of RESULTS.md, so the Markdown section can link them.
	Charts []string `json:"charts,omitempty"`
}

// Machine identifies where a run happened, because figures from different
// machines are not comparable.
type Machine struct {
	Hostname string `json:"hostname"`
	Kernel   string `json:"kernel"` // uname -r
	CPU      string `json:"cpu"`    // model name from /proc/cpuinfo
	CPUs     int    `json:"cpus"`
	MemGiB   int    `json:"mem_gib"`
	Go       string `json:"go"`
}

// Throughput is the RFC 2544 §26.1 figure for one system, IP version and
// frame size: each repeat contributes one sample.
type Throughput struct {
	System    string `json:"system"`
	IPVersion int    `json:"ip_version"` // 4 or 6
	FrameSize int    `json:"frame_size"` // bytes on the wire including the 4-byte FCS
	// Mpps is the highest offered rate with < 0.1 % loss, per repeat.
	Mpps []float64 `json:"mpps"`
	// CPUNsPerPacket is the CPU time of the DUT's own threads (the router
	// or xdpfwd process and the DUT ports' napi kthreads, where kernel
	// forwarding and XDP run; from /proc/PID/task/TID/schedstat) divided
	// by the packets forwarded, per repeat, at the highest lossless rate.
	CPUNsPerPacket []float64 `json:"cpu_ns_per_packet"`
	// MaxFwdMpps is the rate the receiver saw while the generator offered
	// all it could (RFC 2285 §3.6.2, forwarding rate at maximum offered
	// load, FRMOL), per repeat: a steadier figure than Mpps where
	// scheduling jitter on a shared VM makes a 0.1 % loss criterion fail
	// at low rates.
	MaxFwdMpps []float64 `json:"max_fwd_mpps,omitempty"`
	// MaxOfferedMpps is what the generator offered meanwhile, so a reader
	// can tell a forwarding limit from a generator limit.
	MaxOfferedMpps []float64 `json:"max_offered_mpps,omitempty"`
	// GeneratorBound is true when the generator could not offer more than
	// the system forwarded, so Mpps is a lower bound.
	GeneratorBound bool `json:"generator_bound,omitempty"`
	// Bracketed says, per repeat, whether the search found a failing rate
	// within its resolution above Mpps; false means the search ran out of
	// trials first and that Mpps is a lower bound. Absent (older runs):
	// every repeat was bracketed.
	Bracketed []bool `json:"bracketed,omitempty"`
	// Forwarding counts the repeats in which some trial lost < 50 % and
	// delivered frames: the system forwards, whether or not a trial met
	// the 0.1 % criterion (then Mpps has no sample for that repeat). The
	// quick run's pass rule is Forwarding > 0 for every system and size.
	Forwarding int `json:"forwarding,omitempty"`
}

// Forwards reports whether the system forwarded in some repeat (see
// Forwarding); runs written before that field existed count a throughput
// sample instead.
func (t Throughput) Forwards() bool {
	return t.Forwarding > 0 || (len(t.Mpps) > 0 && t.Mpps[0] > 0)
}

// FRMOLBound reports whether MaxFwdMpps is only a lower bound: in some
// repeat the system received ≥ 99 % of what the generator offered, so the
// generator, not the system, set the rate.
func (t Throughput) FRMOLBound() bool {
	for i, f := range t.MaxFwdMpps {
		if i < len(t.MaxOfferedMpps) && f >= 0.99*t.MaxOfferedMpps[i] {
			return true
		}
	}
	return false
}

// LowerBound reports whether the figure is only a lower bound: the
// generator was the limit, or some repeat's search was not bracketed.
func (t Throughput) LowerBound() bool {
	if t.GeneratorBound {
		return true
	}
	for _, b := range t.Bracketed {
		if !b {
			return true
		}
	}
	return false
}

// Latency is one-way latency through a system at a fixed offered load.
type Latency struct {
	System    string    `json:"system"`
	IPVersion int       `json:"ip_version"`
	FrameSize int       `json:"frame_size"`
	LoadPct   int       `json:"load_pct"` // percent of the kernel's throughput
	Pps       float64   `json:"pps"`      // the offered rate that is
	P50us     []float64 `json:"p50_us"`   // per repeat
	P99us     []float64 `json:"p99_us"`
	Lost      []uint64  `json:"lost"`
	Reordered []uint64  `json:"reordered"`
	// Sent is the frames the generator sent per repeat, so Lost can be
	// read as a fraction.
	Sent []uint64 `json:"sent,omitempty"`
	// CPUNsPerPacket is the DUT's CPU time (router and napi threads) per
	// forwarded packet at this load, per repeat: unlike the figure at
	// throughput, every system is measured at the same offered rate.
	CPUNsPerPacket []float64 `json:"cpu_ns_per_packet,omitempty"`
}

// Overloaded reports whether some repeat lost ≥ 0.1 % of what was sent:
// the system could not carry this load, so the latency is that of a full
// queue, not of forwarding (RFC 2544 §26.2 measures at the throughput rate).
func (l Latency) Overloaded() bool {
	for i, lost := range l.Lost {
		if i < len(l.Sent) && l.Sent[i] > 0 && float64(lost) >= 0.001*float64(l.Sent[i]) {
			return true
		}
	}
	return false
}

// TCP is iperf3 goodput through a system.
type TCP struct {
	System  string `json:"system"`
	Streams int    `json:"streams"`
	// Offload is "" when the hosts' TX checksum offload and TSO are off,
	// which every system can take; "tso" for the hosts' default offloads
	// (TSO and checksum offload on: 64 KiB super-packets with unfinished
	// checksums reach the DUT, whose ports have TSO off, so it cuts them);
	// "tso+dut" with the DUT ports' TSO on as well (super-packets leave
	// whole). The last two are measured for the systems that accept
	// super-packets (kernel forwarding and nexthop over PACKET_MMAP);
	// "tso+dut" since 2026-11-28.
	Offload string    `json:"offload,omitempty"`
	Gbps    []float64 `json:"gbps"` // per repeat, receiver side
	Retrans []int     `json:"retransmits"`
	// DUTBusyPct is how busy the DUT core was over iperf3's measured time:
	// the share of its idle-core work rate that a spinner at SCHED_IDLE on
	// that core lost (netbench/soak.go; /proc/stat misses short softirq
	// bursts on tick-accounting kernels). One value per repeat in which it
	// was measured, so it can be shorter than Gbps. The hosts run on the
	// other core, so this is what the goodput cost the DUT. Absent in runs
	// before 2026-11-27 23:01.
	DUTBusyPct []float64 `json:"dut_core_busy_pct,omitempty"`
}

// BusyPerGbps is, round by round, the DUT core's busy % for each Gbit/s of
// goodput: what forwarding costs that core, which compares systems even
// when CPU0, not the DUT, set their rates. It is nil unless every round
// has a busy figure, since a missing one leaves the rest unaligned.
func (t TCP) BusyPerGbps() []float64 {
	if len(t.DUTBusyPct) == 0 || len(t.DUTBusyPct) != len(t.Gbps) {
		return nil
	}
	out := make([]float64, 0, len(t.Gbps))
	for i, b := range t.DUTBusyPct {
		if t.Gbps[i] > 0 {
			out = append(out, b/t.Gbps[i])
		}
	}
	return out
}

// Usage is what the router process cost while it was measured (absent for
// kernel forwarding).
type Usage struct {
	System   string  `json:"system"`
	MaxRSSMB float64 `json:"max_rss_mb"`
	// Allocs is heap allocations during the whole measurement of this
	// system (go_memstats_mallocs_total delta from its /metrics).
	Allocs uint64 `json:"allocs"`
	// Packets is how many packets it forwarded meanwhile, so Allocs can be
	// read per packet.
	Packets uint64 `json:"packets"`
}

// Micro is one `go test -bench` figure of the in-memory path.
type Micro struct {
	Name    string    `json:"name"` // package and benchmark, e.g. "ipv4 ForwardIPv4/1route"
	NsPerOp []float64 `json:"ns_per_op"`
	Unit    string    `json:"unit"` // what one op is: "packet", "lookup", ...
	// AllocsPerOp and BytesPerOp are per op (not per Unit) and the largest
	// of the -count runs, so an occasional allocation is not hidden.
	AllocsPerOp float64 `json:"allocs_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
}
