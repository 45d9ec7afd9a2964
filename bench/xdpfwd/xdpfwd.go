package xdpfwd

import (
	"errors"
	"fmt"
	"net"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Mode is the XDP hook the forwarder attaches to.
type Mode string

// The modes: native runs in the driver (for veth, in its NAPI poll) and is the
// ceiling the benchmark wants; generic runs on skbs and works on any device.
const (
	ModeNative  Mode = "native"
	ModeGeneric Mode = "generic"
)

// ParseMode accepts "native" (or "driver") and "generic" (or "skb").
func ParseMode(s string) (Mode, error) {
	switch s {
	case "native", "driver", "":
		return ModeNative, nil
	case "generic", "skb":
		return ModeGeneric, nil
	}
	return "", fmt.Errorf("xdpfwd: unknown XDP mode %q: use native or generic", s)
}

func (m Mode) flags() link.XDPAttachFlags {
	if m == ModeGeneric {
		return link.XDPGenericMode
	}
	return link.XDPDriverMode
}

// Options say which frames the forwarder takes and where they go.
type Options struct {
	// In is the interface the program is attached to (required).
	In string
	// Out is the interface every forwarded frame leaves by; its MAC becomes
	// the frames' source MAC (required, may equal In).
	Out string
	// DstMAC is the next hop's MAC, written as the frames' destination
	// (required).
	DstMAC net.HardwareAddr
	// Mode is the XDP hook; the zero value means ModeNative.
	Mode Mode
	// Both also attaches an XDP_PASS program to Out in the same mode, for
	// drivers that need XDP on the target device before they accept
	// redirected frames. veth does not (see the package doc).
	Both bool
}

// Counters are what the program did with the frames it saw, summed over CPUs.
type Counters struct {
	// Redirected is the number of frames handed to Out. Frames the kernel
	// then fails to transmit are counted in Out's tx_dropped, not here.
	Redirected uint64 `json:"redirected"`
	// Passed is the number of frames left to the kernel: not IPv4/IPv6,
	// multicast or broadcast, TTL or hop limit ≤ 1, or Neighbor Discovery.
	Passed uint64 `json:"passed"`
	// Dropped is the number of frames dropped: IPv4/IPv6 frames too short
	// for their header or with a wrong version or IHL, or a failed redirect.
	Dropped uint64 `json:"dropped"`
}

// Forwarder is an attached program; Close detaches it.
type Forwarder struct {
	devmap, counters *ebpf.Map
	prog, pass       *ebpf.Program
	links            []link.Link
	mode             Mode
	notes            []string
}

// Start loads the program and attaches it to opts.In. On error nothing stays
// attached.
func Start(opts Options) (_ *Forwarder, err error) {
	if opts.Mode == "" {
		opts.Mode = ModeNative
	}
	if opts.Mode != ModeNative && opts.Mode != ModeGeneric {
		return nil, fmt.Errorf("xdpfwd: unknown XDP mode %q: use native or generic", opts.Mode)
	}
	if len(opts.DstMAC) != 6 {
		return nil, fmt.Errorf("xdpfwd: destination MAC %q is not a 6-byte Ethernet address", opts.DstMAC)
	}
	in, err := net.InterfaceByName(opts.In)
	if err != nil {
		return nil, fmt.Errorf("xdpfwd: input interface %q: %w (is it in this network namespace?)", opts.In, err)
	}
	out, err := net.InterfaceByName(opts.Out)
	if err != nil {
		return nil, fmt.Errorf("xdpfwd: output interface %q: %w (is it in this network namespace?)", opts.Out, err)
	}
	if len(out.HardwareAddr) != 6 {
		return nil, fmt.Errorf("xdpfwd: output interface %q has no Ethernet address (%q)", opts.Out, out.HardwareAddr)
	}

	f := &Forwarder{mode: opts.Mode}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	f.devmap, err = ebpf.NewMap(&ebpf.MapSpec{
		Name: "xdpfwd_out", Type: ebpf.DevMap, KeySize: 4, ValueSize: 4, MaxEntries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("xdpfwd: create DEVMAP: %w", err)
	}
	if err := f.devmap.Put(uint32(0), uint32(out.Index)); err != nil {
		return nil, fmt.Errorf("xdpfwd: put %q (ifindex %d) in the DEVMAP: %w", opts.Out, out.Index, err)
	}
	f.counters, err = ebpf.NewMap(&ebpf.MapSpec{
		Name: "xdpfwd_count", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: numCounters,
	})
	if err != nil {
		return nil, fmt.Errorf("xdpfwd: create counters map: %w", err)
	}
	f.prog, err = ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "xdpfwd",
		Type:         ebpf.XDP,
		Instructions: program(f.devmap, f.counters, opts.DstMAC, out.HardwareAddr),
		License:      "Dual BSD/GPL",
	})
	if err != nil {
		return nil, fmt.Errorf("xdpfwd: load XDP program: %w", err)
	}
	if opts.Both && out.Index != in.Index {
		f.pass, err = ebpf.NewProgram(&ebpf.ProgramSpec{
			Name: "xdpfwd_pass", Type: ebpf.XDP, Instructions: passProgram(), License: "Dual BSD/GPL",
		})
		if err != nil {
			return nil, fmt.Errorf("xdpfwd: load XDP_PASS program: %w", err)
		}
		if err := f.attach(f.pass, out); err != nil {
			return nil, err
		}
	}
	if err := f.attach(f.prog, in); err != nil {
		return nil, err
	}
	if l, lerr := netlink.LinkByIndex(out.Index); lerr == nil && l.Type() == "veth" && f.mode == ModeNative {
		f.notes = append(f.notes, fmt.Sprintf("native redirect into veth %q: its peer (ifindex %d, maybe in another namespace) "+
			"must have GRO on (ethtool -K PEER gro on) or an XDP program, else the kernel drops the redirected frames "+
			"without counting them anywhere", opts.Out, l.Attrs().ParentIndex))
	}
	return f, nil
}

// Notes is advice about the setup that Start cannot check itself (such as
// the state of a veth peer in another namespace), one line each, for stderr.
func (f *Forwarder) Notes() []string { return f.notes }

func (f *Forwarder) attach(p *ebpf.Program, ifc *net.Interface) error {
	l, err := link.AttachXDP(link.XDPOptions{Program: p, Interface: ifc.Index, Flags: f.mode.flags()})
	if err != nil {
		return fmt.Errorf("xdpfwd: attach XDP to %q in %s mode: %w%s", ifc.Name, f.mode, err, attachHint(err))
	}
	f.links = append(f.links, l)
	return nil
}

// attachHint explains the refusals LINUX-NOTES.md lists for veth.
func attachHint(err error) string {
	switch {
	case errors.Is(err, unix.ENOSPC):
		return " (veth: this side needs at least as many RX queues as its peer has TX queues)"
	case errors.Is(err, unix.ERANGE):
		return " (veth: the peer's MTU must be at most 3506 for native XDP)"
	case errors.Is(err, unix.EOPNOTSUPP):
		return " (the driver has no native XDP: use -mode generic)"
	case errors.Is(err, unix.EBUSY), errors.Is(err, unix.EEXIST):
		return " (another XDP program is already attached: `ip link show` names it)"
	case errors.Is(err, unix.EPERM):
		return " (needs CAP_BPF and CAP_NET_ADMIN: run as root)"
	}
	return ""
}

// Mode is the hook the program is attached to.
func (f *Forwarder) Mode() Mode { return f.mode }

// Counters reads the program's counters, summed over CPUs.
func (f *Forwarder) Counters() (Counters, error) {
	var c Counters
	for i, dst := range []*uint64{&c.Redirected, &c.Passed, &c.Dropped} {
		var perCPU []uint64
		if err := f.counters.Lookup(uint32(i), &perCPU); err != nil {
			return Counters{}, fmt.Errorf("xdpfwd: read counter %d: %w", i, err)
		}
		for _, v := range perCPU {
			*dst += v
		}
	}
	return c, nil
}

// Close detaches the programs (closing their bpf_links) and frees them. The
// counters are gone afterwards: read them first.
func (f *Forwarder) Close() error {
	var errs []error
	for _, l := range f.links {
		if err := l.Close(); err != nil {
			errs = append(errs, fmt.Errorf("xdpfwd: detach XDP: %w", err))
		}
	}
	f.links = nil
	for _, p := range []*ebpf.Program{f.prog, f.pass} {
		if p != nil {
			_ = p.Close()
		}
	}
	for _, m := range []*ebpf.Map{f.devmap, f.counters} {
		if m != nil {
			_ = m.Close()
		}
	}
	f.prog, f.pass, f.devmap, f.counters = nil, nil, nil, nil
	return errors.Join(errs...)
}
