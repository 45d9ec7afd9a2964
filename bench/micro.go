package bench

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
)

// ParseGoBench reads `go test -bench -benchmem [-count=N]` output and returns
// one Micro per (package, benchmark) in order of first appearance, holding
// every -count sample. The time per unit comes from a custom metric when the
// benchmark reports one (ns/packet, then ns/lookup, then any other ns/…),
// else from ns/op; each further ns/packet-X metric adds a row named
// "… [X]"; AllocsPerOp and BytesPerOp are the largest seen, so an
// occasional allocation is not hidden. Lines that are not results are
// ignored; only a read error is returned.
func ParseGoBench(r io.Reader) ([]Micro, error) {
	type acc struct {
		name    string
		metrics map[string][]float64 // unit -> samples
		allocs  float64
		bytes   float64
	}
	var (
		order   []*acc
		byName  = map[string]*acc{}
		pkg     string
		pending string // a benchmark name whose results come on a later line
	)
	record := func(name string, fields []string) bool {
		// fields: iterations, then value/unit pairs.
		if len(fields) < 3 {
			return false
		}
		if _, err := strconv.ParseUint(fields[0], 10, 64); err != nil {
			return false
		}
		vals := map[string]float64{}
		for i := 1; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return false
			}
			vals[fields[i+1]] = v
		}
		if len(vals) == 0 {
			return false
		}
		key := name
		if pkg != "" {
			key = path.Base(pkg) + " " + name
		}
		a := byName[key]
		if a == nil {
			a = &acc{name: key, metrics: map[string][]float64{}}
			byName[key] = a
			order = append(order, a)
		}
		for u, v := range vals {
			switch u {
			case "allocs/op":
				a.allocs = max(a.allocs, v)
			case "B/op":
				a.bytes = max(a.bytes, v)
			default:
				a.metrics[u] = append(a.metrics[u], v)
			}
		}
		return true
	}

	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("bench: reading go test output: %w", err)
	}
	procs := procsSuffix(lines)
	for _, line := range lines {
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if strings.HasPrefix(fields[0], "Benchmark") {
			name := strings.TrimSuffix(strings.TrimPrefix(fields[0], "Benchmark"), procs)
			if len(fields) == 1 {
				pending = name
				continue
			}
			pending = ""
			record(name, fields[1:])
			continue
		}
		if pending != "" && record(pending, fields) {
			pending = ""
		}
	}

	out := make([]Micro, 0, len(order))
	for _, a := range order {
		unit, samples := pickUnit(a.metrics)
		out = append(out, Micro{
			Name:        a.name,
			NsPerOp:     samples,
			Unit:        unit,
			AllocsPerOp: a.allocs,
			BytesPerOp:  a.bytes,
		})
		// A benchmark that times a packet two ways (ns/packet and, say,
		// ns/packet-router) gets a row for each, so neither is hidden.
		var also []string
		for u := range a.metrics {
			if strings.HasPrefix(u, "ns/packet-") {
				also = append(also, u)
			}
		}
		slices.Sort(also)
		for _, u := range also {
			out = append(out, Micro{
				Name:        a.name + " [" + strings.TrimPrefix(u, "ns/packet-") + "]",
				NsPerOp:     a.metrics[u],
				Unit:        "packet",
				AllocsPerOp: a.allocs,
				BytesPerOp:  a.bytes,
			})
		}
	}
	return out, nil
}

// procsSuffix returns the "-N" suffix go test appends to every benchmark
// name when GOMAXPROCS is N > 1, or "" when the names do not all share one
// (GOMAXPROCS=1 appends none, and -cpu=1,2 makes the suffix part of what
// distinguishes the figures). Looking at all names keeps a sub-benchmark
// called "size-1500" intact.
func procsSuffix(lines []string) string {
	suffix := ""
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		i := strings.LastIndexByte(f[0], '-')
		if i < 0 {
			return ""
		}
		if _, err := strconv.Atoi(f[0][i+1:]); err != nil {
			return ""
		}
		switch s := f[0][i:]; {
		case suffix == "":
			suffix = s
		case s != suffix:
			return ""
		}
	}
	return suffix
}

// pickUnit chooses the time metric that says most about the benchmark:
// ns/packet, then ns/lookup, then another custom ns/… metric, then ns/op.
func pickUnit(metrics map[string][]float64) (unit string, samples []float64) {
	for _, u := range []string{"ns/packet", "ns/lookup"} {
		if s, ok := metrics[u]; ok {
			return strings.TrimPrefix(u, "ns/"), s
		}
	}
	var custom []string
	for u := range metrics {
		if strings.HasPrefix(u, "ns/") && u != "ns/op" {
			custom = append(custom, u)
		}
	}
	if len(custom) > 0 {
		slices.Sort(custom)
		return strings.TrimPrefix(custom[0], "ns/"), metrics[custom[0]]
	}
	if s, ok := metrics["ns/op"]; ok {
		return "op", s
	}
	return "op", nil
}
