package netbench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// taskCPUNs is the CPU time pid has used, in ns, summed over its threads
// when it is a process: the first field of /proc/PID/task/TID/schedstat
// (sum_exec_runtime, exact, unlike the 10 ms ticks of /proc/PID/stat).
func taskCPUNs(pid int) (float64, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("CPU time of PID %d: %w", pid, err)
	}
	var sum float64
	for _, e := range ents {
		data, err := os.ReadFile(dir + "/" + e.Name() + "/schedstat")
		if err != nil {
			continue // the thread ended meanwhile
		}
		ns, err := parseSchedstat(string(data))
		if err != nil {
			return 0, fmt.Errorf("%s/%s/schedstat: %w", dir, e.Name(), err)
		}
		sum += ns
	}
	return sum, nil
}

// parseSchedstat reads the run time (ns) from a schedstat line
// "run_ns wait_ns timeslices".
func parseSchedstat(s string) (float64, error) {
	f := strings.Fields(s)
	if len(f) < 1 {
		return 0, fmt.Errorf("empty schedstat %q", s)
	}
	v, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("schedstat %q: %v", s, err)
	}
	return float64(v), nil
}

// dutPIDs are the tasks that do the DUT's work: the DUT ports' napi
// kthreads (where kernel forwarding, XDP and the veth receive path run)
// and the router or xdpfwd processes of the running system.
func (b *benchRun) dutPIDs() []int {
	pids := append(napiThreads(b.topo.a), napiThreads(b.topo.b)...)
	if rs := b.cur; rs != nil {
		if rs.router != nil {
			pids = append(pids, rs.router.pid())
		}
		for _, f := range rs.fwds {
			pids = append(pids, f.pid())
		}
	}
	return pids
}

// dutCPUNs is the CPU time the DUT's tasks have used so far. A task that
// ended (a napi kthread replaced) is skipped; the sum then only drops,
// which CPUNsSince clamps.
func (b *benchRun) dutCPUNs() float64 {
	var sum float64
	for _, pid := range b.dutPIDs() {
		if ns, err := taskCPUNs(pid); err == nil {
			sum += ns
		}
	}
	return sum
}

// idleBusy samples /proc/stat over d and returns each CPU's busy share
// (0..1) for the given CPUs.
func idleBusy(cpus []int, d time.Duration) (map[int]float64, error) {
	read := func() (map[int]CPUTimes, error) {
		data, err := os.ReadFile("/proc/stat")
		if err != nil {
			return nil, err
		}
		m := map[int]CPUTimes{}
		for _, c := range cpus {
			t, err := ParseProcStat(data, c)
			if err != nil {
				return nil, err
			}
			m[c] = t
		}
		return m, nil
	}
	a, err := read()
	if err != nil {
		return nil, err
	}
	time.Sleep(d)
	z, err := read()
	if err != nil {
		return nil, err
	}
	out := map[int]float64{}
	for _, c := range cpus {
		busy := float64(z[c].Busy()) - float64(a[c].Busy())
		total := busy + float64(z[c].Idle+z[c].IOWait) - float64(a[c].Idle+a[c].IOWait)
		if total > 0 {
			out[c] = busy / total
		}
	}
	return out, nil
}

// rtTask is a real-time task found by rtTasks.
type rtTask struct {
	pid      int
	comm     string
	policy   int // 1 SCHED_FIFO, 2 SCHED_RR
	priority int
}

// parseTaskStat returns comm, flags, rt_priority and policy from the
// contents of /proc/PID/stat (comm may hold spaces and parentheses).
func parseTaskStat(s string) (comm string, flags uint64, prio, policy int, err error) {
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i {
		return "", 0, 0, 0, fmt.Errorf("no (comm) in %q", trunc(s, 80))
	}
	comm = s[i+1 : j]
	f := strings.Fields(s[j+1:])
	// f[0] is field 3 (state); flags is field 9, rt_priority 40, policy 41.
	if len(f) < 39 {
		return comm, 0, 0, 0, fmt.Errorf("stat of %s has %d fields after comm, want ≥ 39", comm, len(f))
	}
	flags, err = strconv.ParseUint(f[6], 10, 64)
	if err == nil {
		prio, err = strconv.Atoi(f[37])
	}
	if err == nil {
		policy, err = strconv.Atoi(f[38])
	}
	return comm, flags, prio, policy, err
}

// pfKthread is PF_KTHREAD in /proc/PID/stat's flags.
const pfKthread = 0x00200000

// foreignRTTasks lists real-time tasks that can take CPU time from the
// benchmark's cores: user processes and napi kthreads (another benchmark's)
// at SCHED_FIFO or SCHED_RR, except this run's own napi kthreads (own
// prefix "napi/<ownDev>"). Per-CPU kernel housekeeping (migration/N, …) is
// always real-time and is not reported.
func foreignRTTasks(ownPrefix string) []rtTask {
	ents, _ := os.ReadDir("/proc")
	var out []rtTask
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		comm, flags, prio, policy, err := parseTaskStat(string(data))
		if err != nil || (policy != 1 && policy != 2) {
			continue
		}
		if flags&pfKthread != 0 && !strings.HasPrefix(comm, "napi/") {
			continue
		}
		if ownPrefix != "" && strings.HasPrefix(comm, ownPrefix) {
			continue
		}
		out = append(out, rtTask{pid: pid, comm: comm, policy: policy, priority: prio})
	}
	return out
}

// preflightWarnings checks, without traffic, that the benchmark's cores are
// quiet: > 10 % busy or a foreign real-time task means the figures will be
// noisy or skewed. They are warnings, not failures: shared CI machines
// still get a (noted) result.
func preflightWarnings(ownPrefix string) []string {
	var w []string
	if busy, err := idleBusy([]int{hostCPU, dutCPU}, 500*time.Millisecond); err == nil {
		for _, c := range []int{hostCPU, dutCPU} {
			if busy[c] > 0.10 {
				w = append(w, fmt.Sprintf("CPU%d was %.0f %% busy before any traffic (other processes on this machine): figures will be noisy and lower", c, 100*busy[c]))
			}
		}
	}
	for _, t := range foreignRTTasks(ownPrefix) {
		pol := "SCHED_FIFO"
		if t.policy == 2 {
			pol = "SCHED_RR"
		}
		w = append(w, fmt.Sprintf("real-time task %d (%s, %s %d) can preempt the benchmark's tasks", t.pid, t.comm, pol, t.priority))
	}
	return w
}
