package netbench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procs tracks every child process the benchmark starts, by PID, so that
// cleanup can stop exactly those and nothing else.
type procs struct {
	mu  sync.Mutex
	set map[int]*proc
}

// proc is a started child process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	err    error // valid after done is closed
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// nsArgv is the argv running args inside namespace ns (none when ""),
// pinned to cpu (not pinned when cpu < 0). `ip netns exec` and taskset
// both exec in place, so the PID is the program's own.
func nsArgv(ns string, cpu int, args ...string) []string {
	var argv []string
	if ns != "" {
		argv = append(argv, "ip", "netns", "exec", ns)
	}
	if cpu >= 0 {
		argv = append(argv, "taskset", "-c", strconv.Itoa(cpu))
	}
	return append(argv, args...)
}

// dutArgv is the argv running a DUT process (router, xdpfwd) in namespace
// ns: pinned to the DUT core at nice dutNice, the DUT napi kthreads' nice,
// so the two share the core fairly and both take precedence over unrelated
// load there (`nice` execs in place too).
func dutArgv(ns string, args ...string) []string {
	return nsArgv(ns, dutCPU, append([]string{"nice", "-n", strconv.Itoa(dutNice)}, args...)...)
}

// start runs argv in the background, tracked until it exits or is killed.
func (p *procs) start(name string, argv []string) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	// If the benchmark dies without cleaning up (SIGKILL), its children
	// die with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	pr := &proc{name: name, cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = pr.stdout, pr.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, strings.Join(argv, " "), err)
	}
	p.mu.Lock()
	if p.set == nil {
		p.set = map[int]*proc{}
	}
	p.set[cmd.Process.Pid] = pr
	p.mu.Unlock()
	go func() {
		pr.err = cmd.Wait()
		p.mu.Lock()
		delete(p.set, cmd.Process.Pid)
		p.mu.Unlock()
		close(pr.done)
	}()
	return pr, nil
}

// pid is the process id of the child.
func (pr *proc) pid() int { return pr.cmd.Process.Pid }

// exited reports whether the process has ended.
func (pr *proc) exited() bool {
	select {
	case <-pr.done:
		return true
	default:
		return false
	}
}

// wait waits for the process for at most timeout, then kills it.
func (pr *proc) wait(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-pr.done:
		return pr.err
	case <-t.C:
		pr.stop(time.Second)
		return fmt.Errorf("%s did not finish within %v (killed)", pr.name, timeout)
	case <-ctx.Done():
		pr.stop(time.Second)
		return ctx.Err()
	}
}

// stop sends SIGTERM, then SIGKILL after grace, and waits for the exit.
func (pr *proc) stop(grace time.Duration) {
	if pr.exited() {
		return
	}
	_ = pr.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-pr.done:
		return
	case <-time.After(grace):
	}
	_ = pr.cmd.Process.Kill()
	select {
	case <-pr.done:
	case <-time.After(5 * time.Second):
	}
}

// stopAll stops every tracked child that is still running.
func (p *procs) stopAll() {
	p.mu.Lock()
	var all []*proc
	for _, pr := range p.set {
		all = append(all, pr)
	}
	p.mu.Unlock()
	for _, pr := range all {
		pr.stop(2 * time.Second)
	}
}

// left is the PIDs still running, for the final check.
func (p *procs) left() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var pids []int
	for pid := range p.set {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// run runs a short command to completion and returns its combined output;
// the error names the command and quotes the output.
func run(ctx context.Context, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// nsRun runs a short command inside namespace ns.
func nsRun(ctx context.Context, ns string, args ...string) (string, error) {
	return run(ctx, nsArgv(ns, -1, args...)...)
}

// lastJSONLine returns the last line of out that looks like a JSON object.
func lastJSONLine(out string) ([]byte, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "{") {
			return []byte(l), nil
		}
	}
	return nil, fmt.Errorf("no JSON line in output %q", trunc(out, 300))
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
