package netbench

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nexthop-router/nexthop/bench/traffic"
)

// pgctrlProbe is what `bench pktgen -probe` checks, on a fake proc dir.
func pgctrlProbe(dir string) func() error {
	return func() error {
		if !traffic.PktgenAvailable(dir) {
			return errors.New("not available: no " + filepath.Join(dir, "pgctrl"))
		}
		return nil
	}
}

func TestChoosePktgenOnlyWithPgctrl(t *testing.T) {
	noModule := func() error {
		return errors.New("modprobe pktgen: exit status 1: modprobe: FATAL: Module pktgen not found in directory /lib/modules/6.8.0")
	}

	dir := t.TempDir()
	g := choosePktgen(noModule, pgctrlProbe(dir))
	if g.pktgen {
		t.Fatalf("chose pktgen without pgctrl: %+v", g)
	}
	if !strings.Contains(g.why, "not available: no "+dir) || !strings.Contains(g.why, "Module pktgen not found") {
		t.Errorf("why = %q, want the probe's and modprobe's errors", g.why)
	}
	if d := g.describe(); !strings.HasPrefix(d, "bench gen") {
		t.Errorf("describe = %q, want it to name bench gen", d)
	}
	if p := g.placement(); !strings.HasPrefix(p, "bench gen for every trial") {
		t.Errorf("placement = %q", p)
	}
	for _, sz := range []sizeSpec{{4, 64}, {6, 128}} {
		if g.useFor(sz) {
			t.Errorf("useFor(%v) without pktgen", sz)
		}
	}

	// modprobe runs before the probe: the fake one "loads" the module.
	loaded := false
	modprobe := func() error {
		loaded = true
		return os.WriteFile(filepath.Join(dir, "pgctrl"), nil, 0o600)
	}
	g = choosePktgen(modprobe, pgctrlProbe(dir))
	if !loaded || !g.pktgen {
		t.Fatalf("pgctrl exists after modprobe but pktgen not chosen: %+v", g)
	}
	if d := g.describe(); !strings.HasPrefix(d, "Linux pktgen") || !strings.Contains(d, "bench gen for those and for the latency trials") {
		t.Errorf("describe = %q, want pktgen for throughput and bench gen for latency", d)
	}
	if p := g.placement(); !strings.HasPrefix(p, "Linux pktgen (kpktgend_0 on CPU0)") {
		t.Errorf("placement = %q", p)
	}
	for sz, want := range map[sizeSpec]bool{{4, 64}: true, {4, 1518}: true, {6, 78}: false, {6, 82}: true, {6, 128}: true} {
		if got := g.useFor(sz); got != want {
			t.Errorf("useFor(%v) = %v, want %v", sz, got, want)
		}
	}
}

func TestGenArgsPicksCommand(t *testing.T) {
	b := &benchRun{opts: Options{BenchBin: "/x/bench"}, topo: &topo{gen: "nb-g-1", g: "nb1g"}}
	gen := strings.Join(b.genArgs(false, sizeSpec{4, 64}, 1000, 0, 7), " ")
	if !strings.Contains(gen, "/x/bench gen -dev nb1g") || !strings.HasSuffix(gen, "-id 7") {
		t.Errorf("bench gen argv: %s", gen)
	}
	pg := strings.Join(b.genArgs(true, sizeSpec{6, 128}, 0, 0, 7), " ")
	if !strings.HasPrefix(pg, "ip netns exec nb-g-1 taskset -c 0 /x/bench pktgen -dev nb1g") ||
		!strings.Contains(pg, "-size 128 -rate 0") || strings.Contains(pg, "-id") || !strings.HasSuffix(pg, "-thread 0") {
		t.Errorf("bench pktgen argv: %s", pg)
	}
}
