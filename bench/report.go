package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// dash stands for a figure that was not measured; reports print it instead
// of a zero so a missing figure never reads as a measured one.
const dash = "—"

// stat is the summary every figure is reported with: the median of the
// repeats and their min–max spread, because the machines are noisy.
type stat struct {
	med, min, max float64
	n             int // samples that were finite numbers
}

// summarize returns the median and min–max of the finite values in xs; ok
// is false when there are none. The median of an even count is the mean of
// the two middle values.
func summarize(xs []float64) (s stat, ok bool) {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return stat{}, false
	}
	slices.Sort(v)
	n := len(v)
	s = stat{min: v[0], max: v[n-1], n: n}
	if n%2 == 1 {
		s.med = v[n/2]
	} else {
		s.med = (v[n/2-1] + v[n/2]) / 2
	}
	return s, true
}

func floatsU64(xs []uint64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

func floatsInt(xs []int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// num formats a figure with about three significant digits, which is all a
// noisy measurement supports.
func num(x float64) string {
	a := math.Abs(x)
	switch {
	case x == math.Trunc(x) && a < 1e15:
		return strconv.FormatFloat(x, 'f', 0, 64) // counts stay integers
	case a >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case a >= 0.001:
		return strconv.FormatFloat(x, 'f', 3, 64)
	default:
		return strconv.FormatFloat(x, 'g', 2, 64)
	}
}

// String formats the stat as "median (min–max)", or the bare value when
// there is a single sample or no spread.
func (s stat) String() string {
	if s.n <= 1 || s.min == s.max {
		return num(s.med)
	}
	return num(s.med) + " (" + num(s.min) + "–" + num(s.max) + ")"
}

// cell formats xs as "median (min–max)" or dash when nothing was measured.
func cell(xs []float64) string {
	s, ok := summarize(xs)
	if !ok {
		return dash
	}
	return s.String()
}

// ratio formats median(xs)/median(base) as "0.85×", or dash when either is
// missing or the base is zero.
func ratio(xs, base []float64) string {
	a, ok1 := summarize(xs)
	b, ok2 := summarize(base)
	if !ok1 || !ok2 || b.med == 0 {
		return dash
	}
	return strconv.FormatFloat(a.med/b.med, 'f', 2, 64) + "×"
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return dash
	}
	return s
}

func ipName(v int) string {
	if v == 0 {
		return dash
	}
	return "IPv" + strconv.Itoa(v)
}

// cellEscape keeps free text from breaking a Markdown table row.
func cellEscape(s string) string {
	return strings.ReplaceAll(orDash(s), "|", `\|`)
}

// systemsOf returns r.Systems followed by any system that has figures but
// is missing from r.Systems, so no figure is silently dropped.
func systemsOf(r *Run) []string {
	out := slices.Clone(r.Systems)
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, t := range r.Throughput {
		add(t.System)
	}
	for _, l := range r.Latency {
		add(l.System)
	}
	for _, t := range r.TCP {
		add(t.System)
	}
	for _, u := range r.Usage {
		add(u.System)
	}
	return out
}

// baseline is the system ratios are taken against: the first in r.Systems.
func baseline(r *Run) string {
	if len(r.Systems) > 0 {
		return r.Systems[0]
	}
	return ""
}

// mdWriter collects the first write error so the report code can stay a
// straight list of lines.
type mdWriter struct {
	w   io.Writer
	err error
}

func (m *mdWriter) f(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, args...)
	}
}

func (m *mdWriter) row(cells ...string) {
	m.f("| %s |\n", strings.Join(cells, " | "))
}

func (m *mdWriter) header(cells ...string) {
	m.row(cells...)
	seps := make([]string, len(cells))
	for i := range seps {
		seps[i] = "---"
	}
	m.f("|%s|\n", strings.Join(seps, "|"))
}

// WriteMarkdown writes the run as a section for bench/RESULTS.md: where and
// how it was measured, then one table per kind of figure, each as median
// (min–max) of the repeats with ratios to the baseline r.Systems[0].
func WriteMarkdown(w io.Writer, r *Run) error {
	if r == nil {
		return errors.New("bench: WriteMarkdown: nil run")
	}
	m := &mdWriter{w: w}
	writeHeading(m, r)
	writeThroughput(m, r)
	writeLatency(m, r)
	writeTCP(m, r)
	writeUsage(m, r)
	writeMicro(m, r)
	if len(r.Notes) > 0 {
		m.f("Notes:\n\n")
		for _, n := range r.Notes {
			m.f("- %s\n", strings.ReplaceAll(strings.TrimSpace(n), "\n", " "))
		}
		m.f("\n")
	}
	if len(r.Charts) > 0 {
		var links []string
		for _, c := range r.Charts {
			links = append(links, fmt.Sprintf("[%s](%s)", filepath.Base(c), filepath.ToSlash(c)))
		}
		m.f("Charts: %s\n\n", strings.Join(links, ", "))
		for _, c := range r.Charts {
			if strings.HasSuffix(c, ".svg") {
				m.f("![%s](%s)\n", filepath.Base(c), filepath.ToSlash(c))
			}
		}
		m.f("\n")
	}
	return m.err
}

func writeHeading(m *mdWriter, r *Run) {
	date := dash
	if !r.Date.IsZero() {
		date = r.Date.Format("2006-01-02, 15:04 MST")
	}
	title := "netns benchmark"
	if r.Quick {
		title += ", quick run"
	}
	commit := ""
	if r.Commit != "" {
		commit = " (commit " + r.Commit + ")"
	}
	m.f("## %s — %s%s\n\n", date, title, commit)

	mc := r.Machine
	cpus, mem := dash, dash
	if mc.CPUs > 0 {
		cpus = strconv.Itoa(mc.CPUs)
	}
	if mc.MemGiB > 0 {
		mem = strconv.Itoa(mc.MemGiB) + " GiB"
	}
	m.f("- Machine: %s; CPU: %s; CPUs: %s; memory: %s; kernel: %s; Go: %s\n",
		orDash(mc.Hostname), orDash(mc.CPU), cpus, mem, orDash(mc.Kernel), orDash(mc.Go))
	m.f("- Commit: %s\n", orDash(r.Commit))
	if r.Command != "" {
		m.f("- Command: `%s`\n", r.Command)
	} else {
		m.f("- Command: %s\n", dash)
	}
	reps := dash
	if r.Repeats > 0 {
		reps = strconv.Itoa(r.Repeats) + " alternating rounds per system"
	}
	quick := "no (full trials)"
	if r.Quick {
		quick = "yes (BENCH_QUICK=1: fewer repeats, shorter trials; a smoke run, not a measurement)"
	}
	m.f("- Repeats: %s; quick: %s\n", reps, quick)
	m.f("- CPU placement: %s\n", orDash(r.Placement))
	m.f("- Every figure is the median (min–max) of the repeats; ratios are system ÷ %s (medians); %s = not measured.\n\n",
		orDash(baseline(r)), dash)
}

type tpKey struct{ ip, frame int }

func writeThroughput(m *mdWriter, r *Run) {
	if len(r.Throughput) == 0 {
		return
	}
	systems := systemsOf(r)
	base := baseline(r)
	idx := map[tpKey]map[string]*Throughput{}
	var keys []tpKey
	for i := range r.Throughput {
		t := &r.Throughput[i]
		k := tpKey{t.IPVersion, t.FrameSize}
		if idx[k] == nil {
			idx[k] = map[string]*Throughput{}
			keys = append(keys, k)
		}
		idx[k][t.System] = t
	}
	slices.SortFunc(keys, func(a, b tpKey) int {
		if a.ip != b.ip {
			return a.ip - b.ip
		}
		return a.frame - b.frame
	})

	m.f("### Throughput (RFC 2544: highest rate with < 0.1 %% loss) and CPU cost\n\n")
	hasBase := base != ""
	cols := []string{"IP", "frame", "system", "Mpps"}
	if hasBase {
		cols = append(cols, "÷ "+base)
	}
	cols = append(cols, "CPU ns/packet")
	if hasBase {
		cols = append(cols, "÷ "+base)
	}
	cols = append(cols, "FRMOL Mpps (offered)")
	if hasBase {
		cols = append(cols, "÷ "+base)
	}
	m.header(cols...)
	anyBound := false
	for _, k := range keys {
		b := idx[k][base]
		for _, s := range systems {
			t := idx[k][s]
			if t == nil {
				continue
			}
			row := []string{ipName(k.ip), frameName(k.frame), cellEscape(s)}
			bound := t.LowerBound()
			c := cell(t.Mpps)
			if bound && c != dash {
				c = "≥ " + c
				anyBound = true
			}
			row = append(row, c)
			var bm, bc []float64
			bBound := false
			if b != nil {
				bm, bc, bBound = b.Mpps, b.CPUNsPerPacket, b.LowerBound()
			}
			if hasBase {
				rt := dash
				if s != base {
					rt = ratio(t.Mpps, bm)
				}
				if rt != dash {
					switch {
					case bound && bBound:
						rt = "~" + rt
					case bound:
						rt = "≥ " + rt
					case bBound:
						rt = "≤ " + rt
					}
				}
				row = append(row, rt)
			}
			row = append(row, cell(t.CPUNsPerPacket))
			if hasBase {
				rt := dash
				if s != base {
					rt = ratio(t.CPUNsPerPacket, bc)
				}
				row = append(row, rt)
			}
			mf := cell(t.MaxFwdMpps)
			fBound := t.FRMOLBound()
			if mf != dash && fBound {
				mf = "≥ " + mf
				anyBound = true
			}
			if st, ok := summarize(t.MaxOfferedMpps); ok && mf != dash {
				mf += " (" + num(st.med) + ")"
			}
			row = append(row, mf)
			if hasBase {
				rt := dash
				if s != base && b != nil {
					rt = ratio(t.MaxFwdMpps, b.MaxFwdMpps)
					if rt != dash {
						switch bb := b.FRMOLBound(); {
						case fBound && bb:
							rt = "~" + rt
						case fBound:
							rt = "≥ " + rt
						case bb:
							rt = "≤ " + rt
						}
					}
				}
				row = append(row, rt)
			}
			m.row(row...)
		}
	}
	m.f("\n")
	if anyBound {
		m.f("≥: a lower bound — the generator could not offer more than the system forwarded (generator-bound), or the search " +
			"ran out of trials before a rate failed within 1 %% above it (unbracketed); a ratio involving one is marked ≤, ≥ or ~ (both bounds) accordingly.\n")
	}
	m.f("Ratios are medians ÷ the %s median: above 1× is more throughput, but more CPU per packet. "+
		"CPU ns/packet: CPU time of the DUT's tasks per forwarded packet at that rate; lower is better. "+
		"FRMOL: the rate received while the generator offered all it could (RFC 2285 §3.6.2 forwarding rate at maximum offered load; offered median in brackets; ≥ when it received ≥ 99 %% of that, so the generator was the limit) — "+
		"steadier than the 0.1 %% criterion on a shared VM, where scheduling jitter overflows a veth's 256-slot ring at low rates too.\n\n", orDash(base))
}

func frameName(f int) string {
	if f <= 0 {
		return dash
	}
	return strconv.Itoa(f) + " B"
}

func ppsName(pps float64) string {
	switch {
	case pps <= 0 || math.IsNaN(pps):
		return dash
	case pps >= 1e6:
		return num(pps/1e6) + " Mpps"
	case pps >= 1e3:
		return num(pps/1e3) + " kpps"
	default:
		return num(pps) + " pps"
	}
}

func writeLatency(m *mdWriter, r *Run) {
	if len(r.Latency) == 0 {
		return
	}
	order := sysOrder(systemsOf(r))
	ls := slices.Clone(r.Latency)
	slices.SortStableFunc(ls, func(a, b Latency) int {
		switch {
		case a.IPVersion != b.IPVersion:
			return a.IPVersion - b.IPVersion
		case a.FrameSize != b.FrameSize:
			return a.FrameSize - b.FrameSize
		case a.LoadPct != b.LoadPct:
			return a.LoadPct - b.LoadPct
		}
		return order[a.System] - order[b.System]
	})
	base := baseline(r)
	baseCPU := map[[3]int][]float64{}
	for _, l := range ls {
		if l.System == base {
			baseCPU[[3]int{l.IPVersion, l.FrameSize, l.LoadPct}] = l.CPUNsPerPacket
		}
	}
	m.f("### Latency (one-way, µs) at fixed offered loads\n\n")
	m.header("IP", "frame", "load", "offered", "system", "p50 µs", "p99 µs", "lost", "reordered", "CPU ns/packet", "÷ "+orDash(base))
	anyOver := false
	for _, l := range ls {
		load := dash
		if l.LoadPct > 0 {
			load = strconv.Itoa(l.LoadPct) + " %"
		}
		sys := cellEscape(l.System)
		if l.Overloaded() {
			sys += " (overloaded)"
			anyOver = true
		}
		rt := dash
		if l.System != base {
			rt = ratio(l.CPUNsPerPacket, baseCPU[[3]int{l.IPVersion, l.FrameSize, l.LoadPct}])
		}
		m.row(ipName(l.IPVersion), frameName(l.FrameSize), load, ppsName(l.Pps), sys,
			cell(l.P50us), cell(l.P99us), cell(floatsU64(l.Lost)), cell(floatsU64(l.Reordered)), cell(l.CPUNsPerPacket), rt)
	}
	m.f("\nLoad is a percentage of the kernel's throughput at that frame size; lost and reordered are packets per repeat. " +
		"CPU ns/packet here compares every system at the same offered rate.\n")
	if anyOver {
		m.f("Overloaded: some repeat lost ≥ 0.1 %%, so its latency is that of a full queue, not of forwarding.\n")
	}
	m.f("\n")
}

func sysOrder(systems []string) map[string]int {
	o := make(map[string]int, len(systems))
	for i, s := range systems {
		o[s] = i
	}
	return o
}

func writeTCP(m *mdWriter, r *Run) {
	if len(r.TCP) == 0 {
		return
	}
	base := baseline(r)
	order := sysOrder(systemsOf(r))
	ts := slices.Clone(r.TCP)
	slices.SortStableFunc(ts, func(a, b TCP) int {
		if a.Offload != b.Offload {
			return strings.Compare(a.Offload, b.Offload)
		}
		if a.Streams != b.Streams {
			return a.Streams - b.Streams
		}
		return order[a.System] - order[b.System]
	})
	type tcpKey struct {
		streams int
		offload string
	}
	baseBy := map[tcpKey][]float64{}
	for _, t := range ts {
		if t.System == base {
			baseBy[tcpKey{t.Streams, t.Offload}] = t.Gbps
		}
	}
	m.f("### TCP (iperf3 goodput, receiver side)\n\n")
	m.header("offloads", "streams", "system", "Gbit/s", "÷ "+orDash(base), "retransmits", "DUT core busy %", "DUT core % per Gbit/s")
	for _, t := range ts {
		streams := dash
		if t.Streams > 0 {
			streams = strconv.Itoa(t.Streams)
		}
		rt := dash
		if t.System != base {
			rt = ratio(t.Gbps, baseBy[tcpKey{t.Streams, t.Offload}])
		}
		m.row(offloadName(t.Offload), streams, cellEscape(t.System), cell(t.Gbps), rt, cell(floatsInt(t.Retrans)), cell(t.DUTBusyPct), cell(t.BusyPerGbps()))
	}
	m.f("\n")
}

// offloadName says how the hosts (and DUT ports) sent a TCP figure's
// traffic.
func offloadName(offload string) string {
	switch offload {
	case "tso":
		return "TSO (defaults)"
	case "tso+dut":
		return "TSO, DUT ports too"
	}
	return "off"
}

func writeUsage(m *mdWriter, r *Run) {
	if len(r.Usage) == 0 {
		return
	}
	m.f("### Router usage while measured\n\n")
	m.header("system", "max RSS MB", "heap allocs", "packets forwarded", "allocs/packet")
	for _, u := range r.Usage {
		rss := dash
		if u.MaxRSSMB > 0 {
			rss = num(u.MaxRSSMB)
		}
		per := dash
		if u.Packets > 0 {
			per = strconv.FormatFloat(float64(u.Allocs)/float64(u.Packets), 'g', 3, 64)
		}
		allocs, pkts := dash, dash
		if u.Allocs > 0 || u.Packets > 0 { // both zero: not scraped
			allocs, pkts = strconv.FormatUint(u.Allocs, 10), strconv.FormatUint(u.Packets, 10)
		}
		m.row(cellEscape(u.System), rss, allocs, pkts, per)
	}
	m.f("\n")
}

// FormatSamples formats samples the way every report does: "median
// (min–max)", the bare value for one sample, "—" for none.
func FormatSamples(xs []float64) string { return cell(xs) }

// WriteMicroMarkdown writes micro-benchmark figures as the Markdown table
// WriteMarkdown uses, for `bench micro -md`.
func WriteMicroMarkdown(w io.Writer, micros []Micro) error {
	m := &mdWriter{w: w}
	writeMicro(m, &Run{Micro: micros})
	return m.err
}

func writeMicro(m *mdWriter, r *Run) {
	if len(r.Micro) == 0 {
		return
	}
	m.f("### Micro-benchmarks (`go test -bench`)\n\n")
	m.header("benchmark", "ns per unit: median (min–max)", "unit", "allocs/op (max of runs)", "B/op (max of runs)")
	for _, mb := range r.Micro {
		m.row(cellEscape(mb.Name), cell(mb.NsPerOp), orDash(mb.Unit), num(mb.AllocsPerOp), num(mb.BytesPerOp))
	}
	m.f("\n")
}

// AppendResults inserts section into the RESULTS.md at path, newest first:
// before the first line starting with "## " (after the intro), or at the end
// when there is none. A missing file is created with a short intro. The file
// is replaced atomically (temporary file + rename), so a crash never leaves
// it half-written.
func AppendResults(path string, section []byte) error {
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		old = []byte(resultsIntro)
	case err != nil:
		return fmt.Errorf("bench: reading %s: %w", path, err)
	}
	sec := bytes.TrimRight(section, "\n")
	sec = append(sec, "\n\n"...)

	at := len(old)
	off := 0
	sc := bufio.NewScanner(bytes.NewReader(old))
	sc.Buffer(nil, len(old)+1)
	sc.Split(scanLinesKeepEnd)
	for sc.Scan() {
		if bytes.HasPrefix(sc.Bytes(), []byte("## ")) {
			at = off
			break
		}
		off += len(sc.Bytes())
	}
	var out bytes.Buffer
	out.Grow(len(old) + len(sec) + 1)
	out.Write(old[:at])
	if at == len(old) && at > 0 && !bytes.HasSuffix(old, []byte("\n\n")) {
		if !bytes.HasSuffix(old, []byte("\n")) {
			out.WriteByte('\n')
		}
		out.WriteByte('\n')
	}
	out.Write(sec)
	out.Write(old[at:])
	return writeFileAtomic(path, out.Bytes())
}

// scanLinesKeepEnd is bufio.ScanLines without stripping the line ending, so
// offsets add up to byte positions in the file.
func scanLinesKeepEnd(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i+1], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

const resultsIntro = `# nexthop — measured results

Every figure here comes from a command run on the date given, on the machine given. Each
figure is a median with the min–max spread of the repeats named, because shared machines
are noisy. Newest runs first.

`

// writeFileAtomic writes data to a temporary file beside path and renames
// it over path, keeping the old file's permissions.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("bench: writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("bench: writing %s: %w", path, err)
	}
	return nil
}
