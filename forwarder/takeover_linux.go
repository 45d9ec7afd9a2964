//go:build linux

package forwarder

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/link/packetmmap"
)

// ErrInterfaceTaken means another router already owns the interface.
var ErrInterfaceTaken = errors.New("interface is already used by another nexthop router")

// takeover is what the router holds on an interface while it owns it: the
// lock, and the TCX programs that keep the kernel's own stack off the port.
// Everything in it dies with the process (flock, bpf_link), so a SIGKILL
// leaves the interface exactly as it was found.
type takeover struct {
	lock    int // abstract unix socket; -1 when not held
	ingress link.Link
	egress  link.Link
	prog    *ebpf.Program // ingress: drop all
	progEgr *ebpf.Program // egress: drop all but the router's marked frames
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
// PACKET_QDISC_BYPASS and AF_XDP TX bypasses tc, so its frames do not meet
// the program, except what PACKET_MMAP sends through its super-packet
// socket, in the qdisc layer (super-packets the device cannot segment, or
// every one on a veth, and the frames that follow one while it is queued,
// to keep their order):
// those carry packetmmap.TXMark (SO_MARK), and the egress program lets
// them through.
// A process with CAP_NET_RAW (enough for SO_MARK since Linux 5.17) could
// send marked frames out of the port too, but it could inject frames with
// an AF_PACKET socket anyway: the mark grants nothing new.
func takeInterface(name string, ifindex int) (*takeover, error) {
	t := &takeover{lock: -1}
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
	t.progEgr, err = ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Name: "nexthop_shot_eg",
		Type: ebpf.SchedCLS,
		Instructions: asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 8, asm.Word), // __sk_buff.mark
			asm.Mov.Imm(asm.R0, -1),                  // TCX_NEXT
			asm.JEq.Imm(asm.R2, packetmmap.TXMark, "out"),
			asm.Mov.Imm(asm.R0, 2), // TCX_DROP
			asm.Return().WithSymbol("out"),
		},
		License: "Apache-2.0",
	}, ebpf.ProgramOptions{})
	if err != nil {
		return nil, bpfError("load the TCX egress program", err)
	}
	// First in the chain (Head), so a program already attached that
	// passes frames cannot let the kernel see what the router takes.
	if t.ingress, err = link.AttachTCX(link.TCXOptions{Interface: ifindex, Program: t.prog, Attach: ebpf.AttachTCXIngress, Anchor: link.Head()}); err != nil {
		return nil, bpfError(fmt.Sprintf("attach TCX ingress on %q", name), err)
	}
	if t.egress, err = link.AttachTCX(link.TCXOptions{Interface: ifindex, Program: t.progEgr, Attach: ebpf.AttachTCXEgress, Anchor: link.Head()}); err != nil {
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
	for _, p := range []*ebpf.Program{t.prog, t.progEgr} {
		if p != nil {
			_ = p.Close()
		}
	}
	if t.lock >= 0 {
		_ = unix.Close(t.lock)
		t.lock = -1
	}
}

// lockWait is how long a new router waits for the previous owner of an
// interface to finish exiting: a killed router still holds its lock while
// the kernel unmaps its rings (measured: up to about 2 s).
const lockWait = 5 * time.Second

// lockInterface claims the interface with an abstract unix socket named
// after its index. Abstract names live in the network namespace, need no
// file permissions (so the router works with capabilities instead of
// root), and vanish when the owning process dies, however it dies. A
// claimed name is retried for lockWait, then reported with the owner's pid.
func lockInterface(name string, ifindex int) (int, error) {
	addr := &unix.SockaddrUnix{Name: "@nexthop/if" + strconv.Itoa(ifindex)}
	deadline := time.Now().Add(lockWait)
	for {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return -1, fmt.Errorf("interface %q: lock socket: %w", name, err)
		}
		err = unix.Bind(fd, addr)
		if err == nil {
			if err := unix.Listen(fd, 16); err != nil {
				unix.Close(fd)
				return -1, fmt.Errorf("interface %q: lock socket: %w", name, err)
			}
			return fd, nil
		}
		unix.Close(fd)
		if !errors.Is(err, unix.EADDRINUSE) {
			return -1, fmt.Errorf("interface %q: lock socket: %w", name, err)
		}
		if time.Now().After(deadline) {
			owner := "unknown"
			if pid := lockOwner(addr); pid > 0 {
				owner = strconv.Itoa(pid)
			}
			return -1, fmt.Errorf("interface %q: %w (pid %s); stop it first", name, ErrInterfaceTaken, owner)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lockOwner asks the kernel which process holds a lock socket.
func lockOwner(addr *unix.SockaddrUnix) int {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, addr); err != nil {
		return 0
	}
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return 0
	}
	return int(cred.Pid)
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
