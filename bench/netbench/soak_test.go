package netbench

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestLastSoakSample(t *testing.T) {
	for _, c := range []struct {
		out  string
		want soakSample
		ok   bool
	}{
		{"", soakSample{}, false},
		{"12 10000000\n", soakSample{12, 10000000}, true},
		{"12 10000000\n25 20000000\n", soakSample{25, 20000000}, true},
		{"12 10000000\n25 2000", soakSample{12, 10000000}, true}, // a line being written is not read
		{"12 10000000\nx 20000000\n", soakSample{}, false},
		{"12\n", soakSample{}, false},
	} {
		got, ok := lastSoakSample(c.out)
		if got != c.want || ok != c.ok {
			t.Errorf("lastSoakSample(%q) = %v, %v; want %v, %v", c.out, got, ok, c.want, c.ok)
		}
	}
}

func TestSoakRateAndBusyShare(t *testing.T) {
	if got := soakRate(soakSample{100, 1e9}, soakSample{300, 2e9}); got != 200 {
		t.Errorf("200 units in 1 s: rate %v", got)
	}
	if got := soakRate(soakSample{100, 1e9}, soakSample{100, 1e9}); got != 0 {
		t.Errorf("same sample (soaker starved): rate %v, want 0", got)
	}
	for _, c := range []struct{ loaded, idle, want float64 }{
		{100, 100, 0},
		{64, 100, 0.36},
		{0, 100, 1},
		{105, 100, 0}, // idle rate measured a little low: clamped, not negative
		{50, 0, 0},
	} {
		if got := busyShare(c.loaded, c.idle); got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("busyShare(%v, %v) = %v, want %v", c.loaded, c.idle, got, c.want)
		}
	}
}

// TestSoakHelper is the soaker process of TestSoakerYieldsToBusyThread.
func TestSoakHelper(t *testing.T) {
	if os.Getenv("NETBENCH_SOAK_HELPER") != "1" {
		t.Skip("run by TestSoakerYieldsToBusyThread")
	}
	_ = Soak(os.Stdout, 10*time.Millisecond, nil)
}

// TestSoakerYieldsToBusyThread checks the soaker's premise: at SCHED_IDLE
// it gets a core only when nothing else wants it, so a core with a spinning
// ordinary thread measures (nearly) fully busy.
func TestSoakerYieldsToBusyThread(t *testing.T) {
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
	rate := func() float64 {
		time.Sleep(50 * time.Millisecond)
		from, ok1 := lastSoakSample(out.String())
		time.Sleep(300 * time.Millisecond)
		to, ok2 := lastSoakSample(out.String())
		if !ok1 || !ok2 {
			t.Fatalf("soaker wrote no samples: %q", out.String())
		}
		return soakRate(from, to)
	}
	idle := rate()
	if idle <= 0 {
		t.Fatalf("idle rate %v; output %q", idle, out.String())
	}

	stop := make(chan struct{})
	spinning := make(chan error, 1)
	go func() { // an ordinary spinning thread on the same core
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		var set unix.CPUSet
		set.Set(cpu)
		spinning <- unix.SchedSetaffinity(0, &set)
		for {
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	defer close(stop)
	if err := <-spinning; err != nil {
		t.Fatal(err)
	}
	loaded := rate()
	if share := busyShare(loaded, idle); share < 0.8 {
		t.Errorf("core with a spinning SCHED_OTHER thread measured %.0f %% busy (soaker: %.0f units/s idle, %.0f loaded), want ≥ 80 %%",
			100*share, idle, loaded)
	}
	if strings.Count(out.String(), "\n") < 5 {
		t.Errorf("soaker wrote %q, want a line every 10 ms", out.String())
	}
}
