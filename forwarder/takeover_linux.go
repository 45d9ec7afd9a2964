//go:build linux

package forwarder

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// lockDir holds one lock file per owned interface. The lock is an flock,
// released by the kernel when the process dies however it dies, so a
// crashed router never leaves an interface "taken".
const lockDir = "/run/nexthop"

// ErrInterfaceTaken means another router already owns the interface.
var ErrInterfaceTaken = errors.New("interface is already used by another nexthop router")

// takeover is what the router holds on an interface while it owns it: the
// lock, and the TCX programs that keep the kernel's own stack off the port.
// Everything in it dies with the process (flock, bpf_link), so a SIGKILL
// leaves the interface exactly as it was found.
type takeover struct {
	lock    *os.File
	ingress link.Link
	egress  link.Link
	prog    *ebpf.Program
}

// takeInterface locks the interface and attaches the silencing programs.
//
// Ingress: the kernel must not process frames the router takes — without
// this it answers ARP/NDP for the port's own addresses and drops or
// forwards every frame a second time. Taps (our ETH_P_ALL sockets) run
// before tc ingress, so the router still sees every frame.
//
// Egress: the kernel must not send its own frames (IPv6 DAD/ND/MLD/RS,
// routed traffic) out of an owned port. The router's PACKET_MMAP TX uses
// PACKET_QDISC_BYPASS and AF_XDP TX bypasses tc, so only the kernel's own
// frames meet the program.
func takeInterface(name string, ifindex int) (*takeover, error) {
	t := &takeover{}
	ok := false
	defer func() {
		if !ok {
			t.close()
		}
	}()
	var err error
	if t.lock, err = lockInterface(name, ifindex); err != nil {
		return nil, err
	}
	t.prog, err = ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Name: "nexthop_shot",
		Type: ebpf.SchedCLS,
		Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, 2), // TC_ACT_SHOT (TCX_DROP)
			asm.Return(),
		},
		License: "Apache-2.0",
	}, ebpf.ProgramOptions{})
	if err != nil {
		return nil, bpfError("load the TCX drop program", err)
	}
	if t.ingress, err = link.AttachTCX(link.TCXOptions{Interface: ifindex, Program: t.prog, Attach: ebpf.AttachTCXIngress}); err != nil {
		return nil, bpfError(fmt.Sprintf("attach TCX ingress on %q", name), err)
	}
	if t.egress, err = link.AttachTCX(link.TCXOptions{Interface: ifindex, Program: t.prog, Attach: ebpf.AttachTCXEgress}); err != nil {
		return nil, bpfError(fmt.Sprintf("attach TCX egress on %q", name), err)
	}
	ok = true
	return t, nil
}

// close detaches the programs and releases the lock.
func (t *takeover) close() {
	if t == nil {
		return
	}
	for _, l := range []link.Link{t.egress, t.ingress} {
		if l != nil {
			_ = l.Close()
		}
	}
	if t.prog != nil {
		_ = t.prog.Close()
	}
	if t.lock != nil {
		_ = os.Remove(t.lock.Name())
		_ = t.lock.Close()
	}
}

// lockInterface takes an exclusive flock on a file named after the
// network namespace and interface index, so two routers in the same
// namespace cannot own one interface while routers in other namespaces are
// unaffected.
func lockInterface(name string, ifindex int) (*os.File, error) {
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", lockDir, err)
	}
	var st unix.Stat_t
	nsid := "0"
	if err := unix.Stat("/proc/self/ns/net", &st); err == nil {
		nsid = strconv.FormatUint(st.Ino, 10)
	}
	path := filepath.Join(lockDir, fmt.Sprintf("netns%s-if%d.lock", nsid, ifindex))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		owner, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("interface %q: %w (pid %s, lock %s); stop it first", name, ErrInterfaceTaken, strings.TrimSpace(string(owner)), path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

// bpfError turns EPERM into advice: cilium/ebpf appends "MEMLOCK may be too
// low" to every EPERM, but here EPERM means a missing capability.
func bpfError(what string, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("%s: permission denied: run as root or grant CAP_BPF and CAP_NET_ADMIN", what)
	}
	if errors.Is(err, ebpf.ErrNotSupported) {
		return fmt.Errorf("%s: the kernel lacks TCX (Linux 6.6 or later is needed): %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
