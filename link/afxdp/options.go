//go:build linux

package afxdp

import (
	"errors"
	"fmt"
	"math/bits"
	"time"

	"github.com/nexthop-router/nexthop/stack"
)

// ErrOptions is wrapped by every error about a bad option value, so callers
// (the forwarder's config check) can tell a bad configuration from a kernel
// refusal with errors.Is.
var ErrOptions = errors.New("afxdp: invalid options")

// Mode selects how the XDP program that steers frames to the sockets is
// attached. Driver mode runs it in the driver before any skb exists;
// generic mode runs it after the skb is built, which works on every
// interface but costs an allocation per frame in the kernel.
type Mode int

// Attach modes.
const (
	// ModeAuto tries driver mode and falls back to generic mode; the
	// endpoint reports which one it got and why.
	ModeAuto Mode = iota
	// ModeDriver insists on driver (native) mode and fails otherwise.
	ModeDriver
	// ModeGeneric uses generic (skb) mode.
	ModeGeneric
)

func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeDriver:
		return "driver"
	case ModeGeneric:
		return "generic"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// UMEM defaults. 4096-byte frames hold a 3.5 KiB MTU after the kernel's
// 256-byte XDP headroom (the largest veth allows in driver mode), and 4096
// of them (16 MiB) cover the rings of four interfaces at the default ring
// sizes with half of the frames still free for bursts and copies.
const (
	DefaultFrameSize = 4096
	DefaultNumFrames = 4096
)

// Ring defaults: 512 descriptors are about 0.5 ms of buffering at 1 Mpps
// per socket, and keep four interfaces' fill and TX rings within half of a
// default UMEM.
const (
	DefaultRingSize = 512
)

// UMEMOptions configure a UMEM. Zero values take the defaults named.
type UMEMOptions struct {
	// FrameSize is the size of one frame: 2048 or 4096 (the kernel's
	// aligned chunk mode needs a power of two no larger than a page);
	// 0 means DefaultFrameSize.
	FrameSize int
	// NumFrames is the number of frames, a power of two; 0 means
	// DefaultNumFrames.
	NumFrames int
	// Worker is the stack.Worker ID (w.ID()) of the one goroutine that
	// polls every queue using this UMEM and writes with
	// PacketBufferList.Queue == Worker. Zero is the stack's control worker.
	Worker int
}

// DefaultUMEMOptions returns the defaults for the UMEM of worker.
func DefaultUMEMOptions(worker int) UMEMOptions {
	return UMEMOptions{FrameSize: DefaultFrameSize, NumFrames: DefaultNumFrames, Worker: worker}
}

func (o *UMEMOptions) fill() error {
	if o.FrameSize == 0 {
		o.FrameSize = DefaultFrameSize
	}
	if o.NumFrames == 0 {
		o.NumFrames = DefaultNumFrames
	}
	switch {
	case o.FrameSize != 2048 && o.FrameSize != 4096:
		return fmt.Errorf("%w: UMEMOptions.FrameSize %d must be 2048 or 4096", ErrOptions, o.FrameSize)
	case o.NumFrames < 1 || bits.OnesCount(uint(o.NumFrames)) != 1 || o.NumFrames > 1<<20:
		return fmt.Errorf("%w: UMEMOptions.NumFrames %d must be a power of two in 1..%d", ErrOptions, o.NumFrames, 1<<20)
	case o.Worker < 0 || o.Worker >= stack.MaxWorkers:
		return fmt.Errorf("%w: UMEMOptions.Worker %d out of range 0..%d", ErrOptions, o.Worker, stack.MaxWorkers-1)
	}
	return nil
}

// Options configure an Endpoint. Zero values take the defaults named.
type Options struct {
	// Interface is the Linux interface name; required.
	Interface string
	// Queues is the number of RX queues (0..Queues-1) to open a socket on;
	// 0 means len(UMEMs).
	Queues int
	// UMEMs holds the UMEM of each queue: UMEMs[q] is shared by queue q of
	// every interface its worker serves, which is what lets a frame move
	// from one interface's RX ring to another's TX ring without a copy.
	// Required, one per queue, each with a different Worker.
	UMEMs []*UMEM
	// Mode is the XDP attach mode; the zero value is ModeAuto.
	Mode Mode
	// ZeroCopy tries XDP_ZEROCOPY first and falls back to copy mode when
	// the driver refuses (veth always does). Off: copy mode at once.
	ZeroCopy bool
	// RXSize, TXSize, FillSize and CompletionSize are ring sizes in
	// descriptors, powers of two; 0 means DefaultRingSize.
	// CompletionSize must be at least TXSize, or the kernel stalls TX
	// waiting for completion slots.
	RXSize, TXSize, FillSize, CompletionSize int
	// BindTimeout is how long New retries a bind that fails with EBUSY (a
	// queue's previous socket lingers about 30 ms after close); 0 means 1 s.
	BindTimeout time.Duration
}

// DefaultOpts returns the defaults for an endpoint on iface whose queue q
// uses umems[q].
func DefaultOpts(iface string, umems ...*UMEM) Options {
	return Options{
		Interface:      iface,
		Queues:         len(umems),
		UMEMs:          umems,
		RXSize:         DefaultRingSize,
		TXSize:         DefaultRingSize,
		FillSize:       DefaultRingSize,
		CompletionSize: DefaultRingSize,
		BindTimeout:    defaultBindTimeout,
	}
}

const defaultBindTimeout = time.Second

func (o *Options) fill() error {
	if o.Interface == "" {
		return fmt.Errorf("%w: Interface is empty", ErrOptions)
	}
	if o.Queues == 0 {
		o.Queues = len(o.UMEMs)
	}
	for _, p := range []*int{&o.RXSize, &o.TXSize, &o.FillSize, &o.CompletionSize} {
		if *p == 0 {
			*p = DefaultRingSize
		}
	}
	if o.BindTimeout == 0 {
		o.BindTimeout = defaultBindTimeout
	}
	switch {
	case o.Queues < 1 || o.Queues > stack.MaxWorkers:
		return fmt.Errorf("%w: Queues %d out of range 1..%d", ErrOptions, o.Queues, stack.MaxWorkers)
	case len(o.UMEMs) != o.Queues:
		return fmt.Errorf("%w: UMEMs has %d entries, want one per queue (Queues=%d)", ErrOptions, len(o.UMEMs), o.Queues)
	case o.Mode < ModeAuto || o.Mode > ModeGeneric:
		return fmt.Errorf("%w: Mode %v is not auto, driver or generic", ErrOptions, o.Mode)
	case o.BindTimeout < 0:
		return fmt.Errorf("%w: BindTimeout %v is negative", ErrOptions, o.BindTimeout)
	}
	for _, r := range []struct {
		name string
		v    int
	}{{"RXSize", o.RXSize}, {"TXSize", o.TXSize}, {"FillSize", o.FillSize}, {"CompletionSize", o.CompletionSize}} {
		if r.v < 1 || bits.OnesCount(uint(r.v)) != 1 || r.v > 1<<16 {
			return fmt.Errorf("%w: %s %d must be a power of two in 1..65536", ErrOptions, r.name, r.v)
		}
	}
	if o.CompletionSize < o.TXSize {
		return fmt.Errorf("%w: CompletionSize %d is smaller than TXSize %d", ErrOptions, o.CompletionSize, o.TXSize)
	}
	var seen [stack.MaxWorkers]bool
	for q, u := range o.UMEMs {
		if u == nil {
			return fmt.Errorf("%w: UMEMs[%d] is nil", ErrOptions, q)
		}
		if seen[u.worker] {
			return fmt.Errorf("%w: UMEMs[%d] belongs to worker %d like an earlier queue; each queue needs its own worker's UMEM", ErrOptions, q, u.worker)
		}
		seen[u.worker] = true
	}
	return nil
}
