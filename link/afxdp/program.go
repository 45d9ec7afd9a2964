//go:build linux

package afxdp

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// xdpMDRXQueueIndex is the offset of rx_queue_index in struct xdp_md.
const xdpMDRXQueueIndex = 16

// redirectProgram is, in C:
//
//	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
//
// The low bits of the flags argument are the action when the map has no
// socket for the queue: queues the router does not serve stay with the
// kernel. Written with asm so building needs no clang.
func redirectProgram(xsks *ebpf.Map) asm.Instructions {
	return asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, xdpMDRXQueueIndex, asm.Word),
		asm.LoadMapPtr(asm.R1, xsks.FD()),
		asm.Mov.Imm(asm.R3, 2), // XDP_PASS
		asm.FnRedirectMap.Call(),
		asm.Return(),
	}
}

// steering is the XDP side of an endpoint: the XSKMAP, the program and its
// bpf_link (which the kernel removes if the process dies).
type steering struct {
	xsks *ebpf.Map
	prog *ebpf.Program
	link link.Link
	mode Mode
	why  string
}

func newSteering(queues int) (*steering, error) {
	m, err := ebpf.NewMap(&ebpf.MapSpec{
		Name:       "nexthop_xsks",
		Type:       ebpf.XSKMap,
		KeySize:    4,
		ValueSize:  4,
		MaxEntries: uint32(queues),
	})
	if err != nil {
		return nil, fmt.Errorf("create XSKMAP: %w", err)
	}
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "nexthop_xsk",
		Type:         ebpf.XDP,
		Instructions: redirectProgram(m),
		License:      "Dual BSD/GPL",
	})
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("load XDP program: %w", err)
	}
	return &steering{xsks: m, prog: p}, nil
}

// attach attaches the program in the requested mode; ModeAuto tries
// driver mode first and records why it fell back.
func (st *steering) attach(ifindex int, name string, mode Mode) error {
	try := func(flags link.XDPAttachFlags) error {
		l, err := link.AttachXDP(link.XDPOptions{Program: st.prog, Interface: ifindex, Flags: flags})
		if err == nil {
			st.link = l
		}
		return err
	}
	switch mode {
	case ModeGeneric:
		if err := try(link.XDPGenericMode); err != nil {
			return fmt.Errorf("attach XDP to %q in generic mode: %w", name, err)
		}
		st.mode, st.why = ModeGeneric, "generic mode requested"
		return nil
	case ModeDriver:
		if err := try(link.XDPDriverMode); err != nil {
			return fmt.Errorf("attach XDP to %q in driver mode: %w%s", name, err, driverHint(err))
		}
		st.mode, st.why = ModeDriver, "driver mode requested"
		return nil
	}
	derr := try(link.XDPDriverMode)
	if derr == nil {
		st.mode, st.why = ModeDriver, "driver mode works"
		return nil
	}
	gerr := try(link.XDPGenericMode)
	if gerr != nil {
		return fmt.Errorf("attach XDP to %q: driver mode: %v%s; generic mode: %w", name, derr, driverHint(derr), gerr)
	}
	st.mode, st.why = ModeGeneric, fmt.Sprintf("driver mode failed: %v%s", derr, driverHint(derr))
	return nil
}

// driverHint explains the veth refusals LINUX-NOTES.md lists.
func driverHint(err error) string {
	switch {
	case errors.Is(err, unix.ENOSPC):
		return " (veth: this side needs at least as many RX queues as the peer has TX queues)"
	case errors.Is(err, unix.ERANGE):
		return " (veth: the peer's MTU must be at most 3506 for driver-mode XDP)"
	case errors.Is(err, unix.EOPNOTSUPP):
		return " (the driver has no native XDP)"
	}
	return ""
}

func (st *steering) close() {
	if st.link != nil {
		_ = st.link.Close()
		st.link = nil
	}
	if st.prog != nil {
		_ = st.prog.Close()
		st.prog = nil
	}
	if st.xsks != nil {
		_ = st.xsks.Close()
		st.xsks = nil
	}
}
