package bench

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// ChartBase is the suggested base name for a run's charts, relative to the
// directory of RESULTS.md: one file set per run, named by its date so
// several runs never overwrite each other.
func ChartBase(r *Run) string {
	return filepath.Join("charts", r.Date.UTC().Format("20060102-150405"))
}

// point is one median with its min–max spread, for a chart.
type point struct{ x, med, lo, hi float64 }

type points []point

func (p points) Len() int                         { return len(p) }
func (p points) XY(i int) (x, y float64)          { return p[i].x, p[i].med }
func (p points) YError(i int) (low, high float64) { return p[i].med - p[i].lo, p[i].hi - p[i].med }

type series struct {
	name   string
	system string
	dashed bool
	bound  bool // some figure is generator-bound: a lower bound
	pts    points
}

// WriteCharts draws the run as base+"-mpps.svg/.png" (throughput against
// frame size, one line per system and IP version, median with min–max error
// bars) and base+"-latency-ipv4.svg/.png" and "-latency-ipv6" (p50 and p99
// per system against load, one chart per IP version so the lines stay
// readable), skipping series and whole charts without data; legends sit to
// the right of the data. It returns the files it wrote, so a run without
// latency figures yields only the throughput chart.
func WriteCharts(r *Run, base string) (files []string, err error) {
	if r == nil {
		return nil, errors.New("bench: WriteCharts: nil run")
	}
	if dir := filepath.Dir(base); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("bench: creating chart directory: %w", err)
		}
	}
	systems := systemsOf(r)
	color := func(system string) int { return slices.Index(systems, system) }

	if p, ok, err := mppsChart(r, color); err != nil {
		return files, err
	} else if ok {
		fs, err := save(p, base+"-mpps")
		files = append(files, fs...)
		if err != nil {
			return files, err
		}
	}
	for _, ipv := range []int{4, 6} {
		if p, ok, err := latencyChart(r, ipv, color); err != nil {
			return files, err
		} else if ok {
			fs, err := save(p, base+"-latency-ipv"+strconv.Itoa(ipv))
			files = append(files, fs...)
			if err != nil {
				return files, err
			}
		}
	}
	return files, nil
}

// save writes p as SVG and PNG with its legend drawn to the right of the
// plot, where it cannot cover data.
func save(p *plot.Plot, base string) ([]string, error) {
	leg := p.Legend
	p.Legend = plot.NewLegend()
	defer func() { p.Legend = leg }()
	leg.Top, leg.Left = true, true
	const w, h = 12 * vg.Inch, 5.5 * vg.Inch
	var files []string
	for _, ext := range []string{".svg", ".png"} {
		var c vg.CanvasWriterTo
		if ext == ".svg" {
			c = vgsvg.New(w, h)
		} else {
			c = vgimg.PngCanvas{Canvas: vgimg.New(w, h)}
		}
		dc := draw.New(c)
		r := leg.Rectangle(dc)
		legW := r.Max.X - r.Min.X + vg.Points(12)
		p.Draw(draw.Crop(dc, 0, -legW, 0, 0))
		leg.Draw(draw.Crop(dc, w-legW+vg.Points(6), 0, 0, -vg.Points(30)))
		f := base + ext
		if err := writeCanvas(c, f); err != nil {
			return files, fmt.Errorf("bench: writing chart %s: %w", f, err)
		}
		files = append(files, f)
	}
	return files, nil
}

func writeCanvas(c vg.CanvasWriterTo, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func chartTitle(r *Run, what string) string {
	var parts []string
	if !r.Date.IsZero() {
		parts = append(parts, r.Date.Format("2006-01-02 15:04"))
	}
	mc := r.Machine
	var m []string
	if mc.Hostname != "" {
		m = append(m, mc.Hostname)
	}
	if mc.CPUs > 0 {
		m = append(m, strconv.Itoa(mc.CPUs)+" CPUs")
	}
	if mc.Kernel != "" {
		m = append(m, "Linux "+mc.Kernel)
	}
	if len(m) > 0 {
		parts = append(parts, strings.Join(m, ", "))
	}
	if r.Quick {
		parts = append(parts, "QUICK run")
	}
	if len(parts) == 0 {
		return what
	}
	return what + "\n" + strings.Join(parts, " — ")
}

func summaryPoint(x float64, xs []float64, positive bool) (point, bool) {
	s, ok := summarize(xs)
	if !ok || (positive && s.min <= 0) {
		return point{}, false
	}
	return point{x, s.med, s.min, s.max}, true
}

func mppsChart(r *Run, color func(string) int) (*plot.Plot, bool, error) {
	var ss []*series
	find := map[string]*series{}
	var frames []float64
	for _, t := range r.Throughput {
		if t.FrameSize <= 0 {
			continue
		}
		pt, ok := summaryPoint(float64(t.FrameSize), t.Mpps, false)
		if !ok {
			continue
		}
		name := t.System + ", " + ipName(t.IPVersion)
		s := find[name]
		if s == nil {
			s = &series{name: name, system: t.System, dashed: t.IPVersion == 6}
			find[name] = s
			ss = append(ss, s)
		}
		s.pts = append(s.pts, pt)
		s.bound = s.bound || t.LowerBound()
		if !slices.Contains(frames, pt.x) {
			frames = append(frames, pt.x)
		}
	}
	if len(ss) == 0 {
		return nil, false, nil
	}
	slices.Sort(frames)
	p := plot.New()
	p.Title.Text = chartTitle(r, "Throughput (RFC 2544, < 0.1 % loss): median, min–max of repeats")
	p.X.Label.Text = "frame size, bytes (log scale)"
	p.Y.Label.Text = "Mpps"
	p.X.Scale = plot.LogScale{}
	var ticks []plot.Tick
	for _, f := range frames {
		ticks = append(ticks, plot.Tick{Value: f, Label: strconv.Itoa(int(f))})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = frames[0]/1.15, frames[len(frames)-1]*1.15
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	for _, s := range ss {
		slices.SortFunc(s.pts, func(a, b point) int { return cmp.Compare(a.x, b.x) })
		if err := addSeries(p, s, color(s.system)); err != nil {
			return nil, false, err
		}
	}
	pad(p)
	return p, true, nil
}

// latencyChart draws the latency figures of one IP version.
func latencyChart(r *Run, ipv int, color func(string) int) (*plot.Plot, bool, error) {
	var ss []*series
	find := map[string]*series{}
	var loads []float64
	frames := map[int]bool{}
	over := map[string][]string{} // system → loads where it lost ≥ 0.1 %
	for _, l := range r.Latency {
		if l.IPVersion == ipv {
			frames[l.FrameSize] = true
			if l.Overloaded() {
				over[l.System] = append(over[l.System], strconv.Itoa(l.LoadPct)+" %")
			}
		}
	}
	for _, l := range r.Latency {
		if l.IPVersion != ipv {
			continue
		}
		name := l.System
		if len(frames) > 1 {
			name += ", " + frameName(l.FrameSize)
		}
		if o := over[l.System]; len(o) > 0 {
			name += " (overloaded at " + strings.Join(o, ", ") + ")"
		}
		for _, q := range []struct {
			label string
			xs    []float64
		}{{"p50", l.P50us}, {"p99", l.P99us}} {
			pt, ok := summaryPoint(float64(l.LoadPct), q.xs, true)
			if !ok {
				continue
			}
			n := name + " " + q.label
			s := find[n]
			if s == nil {
				s = &series{name: n, system: l.System, dashed: q.label == "p99"}
				find[n] = s
				ss = append(ss, s)
			}
			s.pts = append(s.pts, pt)
			if !slices.Contains(loads, pt.x) {
				loads = append(loads, pt.x)
			}
		}
	}
	if len(ss) == 0 {
		return nil, false, nil
	}
	slices.Sort(loads)
	p := plot.New()
	p.Title.Text = chartTitle(r, ipName(ipv)+" one-way latency: p50 (solid) and p99 (dashed), median, min–max of repeats")
	p.X.Label.Text = "offered load, % of the " + orDash(baseline(r)) + " throughput"
	if !hasThroughput(r, baseline(r), ipv) {
		p.X.Label.Text = "offered load, % of 1 Mpps (no " + orDash(baseline(r)) + " throughput measured)"
	}
	p.Y.Label.Text = "µs (log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	var ticks []plot.Tick
	for _, l := range loads {
		ticks = append(ticks, plot.Tick{Value: l, Label: strconv.Itoa(int(l)) + " %"})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	span := max(loads[len(loads)-1]-loads[0], 10)
	p.X.Min, p.X.Max = loads[0]-span*0.1, loads[len(loads)-1]+span*0.1
	p.Add(plotter.NewGrid())
	// Systems sit side by side around each load so their error bars do
	// not hide each other.
	nsys := 0
	sysIdx := map[string]int{}
	for _, s := range ss {
		if _, ok := sysIdx[s.system]; !ok {
			sysIdx[s.system] = nsys
			nsys++
		}
	}
	for _, s := range ss {
		off := (float64(sysIdx[s.system]) - float64(nsys-1)/2) * span * 0.02
		for i := range s.pts {
			s.pts[i].x += off
		}
		slices.SortFunc(s.pts, func(a, b point) int { return cmp.Compare(a.x, b.x) })
		if err := addSeries(p, s, color(s.system)); err != nil {
			return nil, false, err
		}
	}
	pad(p)
	return p, true, nil
}

func addSeries(p *plot.Plot, s *series, c int) error {
	line, scatter, err := plotter.NewLinePoints(s.pts)
	if err != nil {
		return fmt.Errorf("bench: chart series %s: %w", s.name, err)
	}
	col := plotutil.Color(max(c, 0))
	line.Color = col
	line.Width = vg.Points(1.5)
	if s.dashed {
		line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	}
	scatter.Color = col
	// Hollow glyphs for solid lines (IPv4, p50), the filled counterparts
	// for dashed ones, so single points are told apart too.
	shape := max(c, 0) % 3
	if s.dashed {
		shape += 5
	}
	scatter.Shape = plotutil.Shape(shape)
	scatter.Radius = vg.Points(3)
	bars, err := plotter.NewYErrorBars(s.pts)
	if err != nil {
		return fmt.Errorf("bench: chart error bars %s: %w", s.name, err)
	}
	bars.Color = col
	bars.CapWidth = vg.Points(6)
	p.Add(line, scatter, bars)
	name := s.name
	if s.bound {
		name += " (≥: lower bound)"
	}
	p.Legend.Add(name, line, scatter)
	return nil
}

// hasThroughput reports whether system has a throughput figure for ipv.
func hasThroughput(r *Run, system string, ipv int) bool {
	for _, t := range r.Throughput {
		if t.System == system && t.IPVersion == ipv && len(t.Mpps) > 0 {
			return true
		}
	}
	return false
}

// pad widens the Y range a little so points at the edge stay visible.
func pad(p *plot.Plot) {
	if _, ok := p.Y.Scale.(plot.LogScale); ok {
		if p.Y.Min > 0 && p.Y.Max > 0 {
			p.Y.Min /= 1.5
			p.Y.Max *= 1.5
		}
		return
	}
	if p.Y.Max == p.Y.Min {
		p.Y.Max = p.Y.Min + 1
	}
	p.Y.Max += (p.Y.Max - p.Y.Min) * 0.05
}
