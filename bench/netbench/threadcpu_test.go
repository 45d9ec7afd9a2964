package netbench

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseSchedstat(t *testing.T) {
	ns, err := parseSchedstat("201550720 11569879 643\n")
	if err != nil || ns != 201550720 {
		t.Errorf("got %v, %v; want 201550720 ns", ns, err)
	}
	for _, bad := range []string{"", "x 1 2", "-5 1 2"} {
		if _, err := parseSchedstat(bad); err == nil {
			t.Errorf("parseSchedstat(%q): no error", bad)
		}
	}
}

func TestTaskCPUNsOfSelf(t *testing.T) {
	ns, err := taskCPUNs(os.Getpid())
	if err != nil {
		t.Skipf("no schedstat on this kernel: %v", err)
	}
	if ns <= 0 {
		t.Errorf("this test process has used %v ns of CPU, want > 0", ns)
	}
	if _, err := taskCPUNs(-1); err == nil {
		t.Error("PID -1: no error")
	}
}

func TestParseTaskStat(t *testing.T) {
	// A kthread at SCHED_FIFO 10, with a comm holding a space and a ')'.
	line := "14943 (napi/nb1) x) S 2 0 0 0 -1 2129984 0 0 0 0 0 463 0 0 -11 0 1 0 1063405 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 1 10 1 0 0 0 0 0 0 0 0 0 0 0\n"
	comm, flags, prio, policy, err := parseTaskStat(line)
	if err != nil || comm != "napi/nb1) x" || flags&pfKthread == 0 || prio != 10 || policy != 1 {
		t.Errorf("got comm %q flags %#x prio %d policy %d err %v; want napi/nb1) x, a kthread, FIFO 10", comm, flags, prio, policy, err)
	}
	// A user process at SCHED_OTHER (this machine's `cat /proc/self/stat`).
	line = "4087 (cat) R 4084 4084 1933 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 1068622 3133440 409 18446744073709551615 94084994486272 94084994506153 140727496743696 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 94084994522160 94084994523776 94085269147648 140727496751801 140727496751821 140727496751821 140727496753131 0\n"
	comm, flags, prio, policy, err = parseTaskStat(line)
	if err != nil || comm != "cat" || flags&pfKthread != 0 || prio != 0 || policy != 0 {
		t.Errorf("got comm %q flags %#x prio %d policy %d err %v; want cat, SCHED_OTHER", comm, flags, prio, policy, err)
	}
	for _, bad := range []string{"", "1 cat R", "1 (cat) R 1 2"} {
		if _, _, _, _, err := parseTaskStat(bad); err == nil {
			t.Errorf("parseTaskStat(%q): no error", bad)
		}
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "bench", "netbench", "netbench.go")); err != nil {
		t.Errorf("ModuleRoot(.) = %s, which does not hold bench/netbench: %v", root, err)
	}
	if _, err := ModuleRoot(t.TempDir()); err == nil {
		t.Error("a temporary directory is inside the repository?")
	}
}

func TestJoinErrsOneLine(t *testing.T) {
	a, b := os.ErrNotExist, os.ErrPermission
	err := joinErrs(nil, a, b)
	if got, want := err.Error(), a.Error()+"; "+b.Error(); got != want {
		t.Errorf("joinErrs = %q, want %q", got, want)
	}
	if joinErrs(nil, nil) != nil || joinErrs(a) != a {
		t.Error("joinErrs of nothing or one error changed it")
	}
}

// TestFullRunFitsTenMinutes checks the default full run's typical estimate
// against the 10-minute promise of `make bench-net` (the budget then cuts
// what a slow machine cannot fit, with a note).
func TestFullRunFitsTenMinutes(t *testing.T) {
	o := Options{Repeats: 3}
	b := &benchRun{opts: o, plan: o.plan()}
	for range AllSystems {
		b.systems = append(b.systems, system{})
	}
	for _, ipv := range []int{4, 6} {
		for _, s := range []int{64, 128, 512, 1518} {
			b.sizes = append(b.sizes, sizeSpec{ipv, max(s, minSize(ipv))})
		}
	}
	worst, typical := b.estimate()
	t.Logf("full run: typical %v, worst %v, budget %v", typical, worst, b.plan.budget)
	if typical > b.plan.budget || b.plan.budget > 10*time.Minute {
		t.Errorf("typical %v, budget %v: want typical ≤ budget ≤ 10 min", typical, b.plan.budget)
	}
	q := Options{Quick: true, Repeats: 1}
	bq := &benchRun{opts: q, plan: q.plan(), systems: b.systems, sizes: []sizeSpec{{4, 64}, {6, 78}}}
	worst, typical = bq.estimate()
	t.Logf("quick run: typical %v, worst %v, budget %v", typical, worst, bq.plan.budget)
	if worst > 90*time.Second || bq.plan.budget > 90*time.Second {
		t.Errorf("quick: worst %v, budget %v: want ≤ 90 s", worst, bq.plan.budget)
	}
}
