package netbench

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nexthop-router/nexthop/bench"
	"github.com/nexthop-router/nexthop/internal/netnstest"
)

// TestQuickEndToEnd runs `BENCH_QUICK=1 bin/bench net` as CI does and
// checks what CI asserts: exit status 0, a run JSON in which every system
// produced figures (the rule bench net's quick run applies itself), and no
// namespace or process left behind.
func TestQuickEndToEnd(t *testing.T) {
	netnstest.RequireRoot(t)
	if os.Getenv("NEXTHOP_BENCH_E2E") != "1" {
		// It measures, so it must not share the CPUs with the other
		// packages' tests: make test runs it on its own, after them.
		t.Skip("end-to-end quick benchmark (≤ 90 s): set NEXTHOP_BENCH_E2E=1 (make test does, running it alone)")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	benchBin, routerBin := filepath.Join(root, "bin/bench"), filepath.Join(root, "bin/router")
	for _, b := range []string{benchBin, routerBin} {
		if _, err := os.Stat(b); err != nil {
			t.Skipf("%s not built (run make build first): the quick benchmark runs the real binaries", b)
		}
	}
	out := t.TempDir()
	cmd := exec.Command(benchBin, "net", "-out", out, "-no-append", "-router", routerBin)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "BENCH_QUICK=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("bench net (quick): %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout)
	}
	files, _ := filepath.Glob(filepath.Join(out, "run-*.json"))
	if len(files) != 1 {
		t.Fatalf("want one run JSON in %s, got %v", out, files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var r bench.Run
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if !r.Quick || r.Repeats != 1 || r.Placement == "" || r.Machine.Kernel == "" {
		t.Errorf("run header: quick=%v repeats=%d placement=%q kernel=%q", r.Quick, r.Repeats, r.Placement, r.Machine.Kernel)
	}
	if len(r.Systems) == 0 || r.Systems[0] != SysKernel {
		t.Errorf("systems %v: want the kernel baseline first", r.Systems)
	}
	for _, sys := range r.Systems {
		for _, ipv := range []int{4, 6} {
			// The pass rule bench net applies too (Throughput.Forwards):
			// some trial lost < 50 % and delivered frames.
			found := false
			for _, th := range r.Throughput {
				if th.System != sys || th.IPVersion != ipv || !th.Forwards() {
					continue
				}
				found = true
				if len(th.Mpps) > 0 && (th.Mpps[0] <= 0 || len(th.CPUNsPerPacket) == 0 || th.CPUNsPerPacket[0] <= 0) {
					t.Errorf("%s IPv%d: throughput %v Mpps with CPU ns/packet %v, want both > 0", sys, ipv, th.Mpps, th.CPUNsPerPacket)
				}
			}
			if !found {
				t.Errorf("%s IPv%d: no figure (no trial with loss < 50 %% that delivered frames)", sys, ipv)
			}
		}
	}
	// TCP: kernel forwarding and nexthop over PACKET_MMAP come first in a
	// round, well inside the budget, and are measured with every offload
	// setting; a setting whose setup failed (ethtool, RPS) leaves no row,
	// since bench net only notes TCP failures.
	for _, name := range []string{SysKernel, SysPacketMMAP} {
		sys, err := systemByName(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, offload := range tcpOffloads(sys) {
			found := false
			for _, tc := range r.TCP {
				if tc.System == name && tc.Offload == offload && len(tc.Gbps) > 0 && tc.Gbps[0] > 0 {
					found = true
				}
			}
			if !found {
				t.Errorf("%s TCP%s: no figure (bench net's log lists why)\n%s", name, offloadLabel(offload), trunc(stderr.String(), 4000))
			}
		}
	}
	// Nothing left behind: no namespace of that run, no router.
	ns, _ := exec.Command("ip", "netns", "list").Output()
	pid := cmd.Process.Pid
	for _, tag := range []string{"g", "d", "r"} {
		if name := nsPrefix + tag + "-" + itoa(pid); strings.Contains(string(ns), name) {
			t.Errorf("namespace %s left behind", name)
		}
	}
	ps, _ := exec.Command("ps", "-eo", "ppid=,args=").Output()
	for _, l := range strings.Split(string(ps), "\n") {
		if strings.Contains(l, "nb"+itoa(pid)) {
			t.Errorf("process of the run left behind: %s", l)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
