package netbench

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestReadSoaker(t *testing.T) {
	now := time.Unix(1000, 0)
	for _, c := range []struct {
		out   string
		units uint64
		ok    bool
	}{
		{"", 0, false},
		{"12 10000000\n", 12, true},
		{"12 10000000\n25 20000000\n", 25, true},
		{"12 10000000\n25 2000", 12, true}, // a line being written is not read
		{"12 10000000\nx 20000000\n", 0, false},
		{"12\n", 0, false},
	} {
		got, ok := readSoaker(c.out, now)
		if ok != c.ok || got.units != c.units || (ok && !got.at.Equal(now)) {
			t.Errorf("readSoaker(%q) = %+v, %v; want %d units at %v, %v", c.out, got, ok, c.units, now, c.ok)
		}
	}
}

func TestDUTBusy(t *testing.T) {
	t0 := time.Unix(1000, 0)
	mark := func(units uint64, after time.Duration) soakMark { return soakMark{units: units, at: t0.Add(after)} }
	for _, c := range []struct {
		name     string
		idle     float64
		from, to soakMark
		want     float64
		ok       bool
	}{
		{"idle core", 1000, mark(0, 0), mark(2000, 2*time.Second), 0, true},
		{"36 % busy", 1000, mark(500, 0), mark(1780, 2*time.Second), 0.36, true},
		// Starved: the soaker wrote nothing new, because it did nothing.
		{"starved", 1000, mark(500, 0), mark(500, 2*time.Second), 1, true},
		{"idle rate measured low: clamped", 1000, mark(0, 0), mark(2100, 2*time.Second), 0, true},
		{"no idle rate", 0, mark(0, 0), mark(100, time.Second), 0, false},
		{"no time passed", 1000, mark(0, 0), mark(0, 0), 0, false},
		{"count went backwards", 1000, mark(900, 0), mark(100, time.Second), 0, false},
	} {
		got, ok := dutBusy(c.idle, c.from, c.to)
		if ok != c.ok || got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("%s: dutBusy = %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// TestSoakHelper is the soaker process of TestSoakerRunsAtIdlePriority.
func TestSoakHelper(t *testing.T) {
	if os.Getenv("NETBENCH_SOAK_HELPER") != "1" {
		t.Skip("run by TestSoakerRunsAtIdlePriority")
	}
	_ = Soak(os.Stdout, 10*time.Millisecond, nil)
}

// TestSoakerRunsAtIdlePriority checks what the measure rests on: the
// process soakerArgv starts is the soaker itself (chrt and taskset exec in
// place), at SCHED_IDLE — so it runs only when nothing else wants the
// core — and on the core asked for, writing its count.
func TestSoakerRunsAtIdlePriority(t *testing.T) {
	const cpu = 0
	argv := soakerArgv(os.Args[0], cpu)
	for _, c := range []string{argv[0], argv[3]} { // chrt, taskset
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("%s not installed", c)
		}
	}
	argv = append(argv[:len(argv)-1], "-test.run=^TestSoakHelper$")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "NETBENCH_SOAK_HELPER=1")
	var out syncBuffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pid := cmd.Process.Pid

	// Its first line shows that the loop, not chrt or taskset, runs now.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := readSoaker(out.String(), time.Now()); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no count from the soaker in 10 s; output %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	attr, err := unix.SchedGetAttr(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	if attr.Policy != unix.SCHED_IDLE {
		t.Errorf("soaker PID %d runs at policy %d, want SCHED_IDLE (%d)", pid, attr.Policy, unix.SCHED_IDLE)
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(pid, &set); err != nil {
		t.Fatal(err)
	}
	if set.Count() != 1 || !set.IsSet(cpu) {
		t.Errorf("soaker PID %d may run on %d CPUs (CPU%d: %v), want CPU%d only", pid, set.Count(), cpu, set.IsSet(cpu), cpu)
	}
}
