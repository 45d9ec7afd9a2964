package netbench

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// A soaker measures how busy a core is the way netperf's CPU loopers did:
// a process spins on the core at SCHED_IDLE, so it runs only when nothing
// else wants the core, and the share of its idle-core work rate it loses
// under load is the core's busy share. The obvious readings fail here:
//   - /proc/stat: this kernel accounts CPU time by ticks (no
//     IRQ_TIME_ACCOUNTING) and stops the tick on an idle core, so the short
//     softirq bursts that wake an idle core — where kernel forwarding of
//     RPS-steered frames runs — mostly go uncounted;
//   - the soaker's own CPU time: softirqs that interrupt it are charged to
//     it.
//
// Measured 2026-11-27 for kernel forwarding of iperf3 TCP: /proc/stat 4 %,
// the soaker's CPU time 1 %, its lost work 36 %.
//
// The soaker is a process of its own (`bench soak`), not a goroutine of
// `bench net`: a starved thread holding one of the benchmark's Ps would
// stall its garbage collector's stop-the-world, and with it the benchmark.

// soakerArgv runs `bench soak` spinning on cpu at SCHED_IDLE (chrt and
// taskset exec in place, so the PID is the soaker's).
func soakerArgv(benchBin string, cpu int) []string {
	return []string{"chrt", "--idle", "0", "taskset", "-c", strconv.Itoa(cpu), benchBin, "soak"}
}

// Soak spins, counting units of work, and every interval writes a line
// "<units> <ns since start>" to w, until stop is closed or a write fails.
// Each line is a consistent pair, so a reader may take any two.
func Soak(w io.Writer, interval time.Duration, stop <-chan struct{}) error {
	var units, x uint64
	start := time.Now()
	next := interval
	for {
		for i := uint64(0); i < 1<<12; i++ {
			x += i ^ x>>3
		}
		units++
		if el := time.Since(start); el >= next {
			runtime.KeepAlive(x) // the loop's work must not be optimized away
			if _, err := fmt.Fprintf(w, "%d %d\n", units, el.Nanoseconds()); err != nil {
				return err
			}
			next = el + interval
			select {
			case <-stop:
				return nil
			default:
			}
		}
	}
}

// soakMark is a soaker's work count as the benchmark read it, stamped with
// the benchmark's clock: the count lags by at most one interval of the
// soaker's work, and a starved soaker, which does no work, writes nothing
// new — so the soaker's own clock, which stops with it, is not used.
type soakMark struct {
	units uint64
	at    time.Time
}

// readSoaker returns the count on the last complete line of Soak's output,
// stamped now; false when there is none.
func readSoaker(out string, now time.Time) (soakMark, bool) {
	out = strings.TrimRight(out[:strings.LastIndexByte(out, '\n')+1], "\n")
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	f := strings.Fields(out)
	if len(f) != 2 {
		return soakMark{}, false
	}
	u, err1 := strconv.ParseUint(f[0], 10, 64)
	_, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return soakMark{}, false
	}
	return soakMark{units: u, at: now}, true
}

// soakRate is the soaker's units per second between two marks; 0 when no
// time passed or the count went backwards (not the same soaker).
func soakRate(from, to soakMark) float64 {
	d := to.at.Sub(from.at)
	if d <= 0 || to.units < from.units {
		return 0
	}
	return float64(to.units-from.units) / d.Seconds()
}

// dutBusy is the core's busy share (0..1) over the window between two
// marks, against the soaker's idle-core rate; false when either is unknown.
func dutBusy(idleRate float64, from, to soakMark) (float64, bool) {
	if idleRate <= 0 || !to.at.After(from.at) || to.units < from.units {
		return 0, false
	}
	return busyShare(soakRate(from, to), idleRate), true
}

// busyShare is the core's busy share (0..1) from a soaker's rate under load
// and on the idle core, clamped to [0, 1] (the idle rate is measured too,
// so a light load can come out slightly negative).
func busyShare(loaded, idle float64) float64 {
	if idle <= 0 {
		return 0
	}
	return min(1, max(0, 1-loaded/idle))
}
