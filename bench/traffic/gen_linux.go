//go:build linux

package traffic

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultBatch is the number of frames per sendmmsg(2) call at full rate.
const DefaultBatch = 64

// sndBuf is the socket send buffer asked for, so that a burst of batches
// is never limited by socket memory accounting.
const sndBuf = 4 << 20

// GenConfig configures Generate.
type GenConfig struct {
	// Interface is the Linux interface to send on.
	Interface string
	// Spec describes the frames.
	Spec Spec
	// Rate is the target frames per second; 0 sends as fast as possible.
	Rate float64
	// Duration bounds the run; it must be positive.
	Duration time.Duration
	// Batch is the largest number of frames per sendmmsg; 0 = DefaultBatch.
	Batch int
	// Progress, when not nil, gets a human-readable line every second.
	Progress io.Writer
}

// GenResult is what a generator run did.
type GenResult struct {
	// Sent counts frames the kernel accepted.
	Sent uint64
	// Refused counts frames the kernel refused with ENOBUFS: the link's
	// ring was full (on a veth, the peer's receive ring), so the frame is
	// lost as on a wire, counted once and not retried. Sent + Refused is
	// the offered load, which the pacer keeps on its rate.
	Refused uint64
	// Elapsed is the time from the first send to the end of the last.
	Elapsed time.Duration
}

// Offered is every frame put to the link: accepted or refused.
func (r GenResult) Offered() uint64 { return r.Sent + r.Refused }

// PPS returns the achieved rate of accepted frames.
func (r GenResult) PPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent) / r.Elapsed.Seconds()
}

func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// Generate sends the frames of cfg.Spec on cfg.Interface until
// cfg.Duration has passed or ctx is done, and reports what was sent. It
// needs CAP_NET_RAW. It runs on the calling goroutine, locked to its
// thread (for the precise sleeps), and allocates nothing per frame.
func Generate(ctx context.Context, cfg GenConfig) (GenResult, error) {
	if cfg.Duration <= 0 {
		return GenResult{}, errors.New("duration must be positive (every traffic run is bounded)")
	}
	if cfg.Rate < 0 {
		return GenResult{}, fmt.Errorf("rate %v is negative; use 0 for as fast as possible", cfg.Rate)
	}
	batchN := cfg.Batch
	if batchN <= 0 {
		batchN = DefaultBatch
	}
	tmpl, err := NewTemplate(cfg.Spec)
	if err != nil {
		return GenResult{}, err
	}
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return GenResult{}, fmt.Errorf("interface %q: %w (is the generator in the right network namespace?)", cfg.Interface, err)
	}
	if l3 := tmpl.FrameLen() - 14; ifi.MTU > 0 && l3 > ifi.MTU {
		return GenResult{}, fmt.Errorf("%d-byte frames carry %d-byte IP packets but %s has MTU %d; use -size <= %d or raise the MTU",
			cfg.Spec.Size, l3, cfg.Interface, ifi.MTU, ifi.MTU+14+FCSSize)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return GenResult{}, fmt.Errorf("AF_PACKET socket: %w (needs root or CAP_NET_RAW)", err)
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1); err != nil {
		return GenResult{}, fmt.Errorf("PACKET_QDISC_BYPASS: %w", err)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, sndBuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, sndBuf)
	}
	etherType := uint16(0x0800)
	if cfg.Spec.IPv6() {
		etherType = 0x86dd
	}
	addr := &unix.RawSockaddrLinklayer{
		Family:   unix.AF_PACKET,
		Protocol: htons(etherType),
		Ifindex:  int32(ifi.Index),
		Halen:    6,
	}
	copy(addr.Addr[:], cfg.Spec.DstMAC[:])
	batch := newMmsgBatch(batchN, tmpl.FrameLen(), addr)
	for _, f := range batch.frames {
		tmpl.Fill(f)
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if old, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0); err == nil {
		_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1000, 0, 0, 0)
		defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(old), 0, 0, 0)
	}

	g := genLoop{fd: fd, tmpl: tmpl, batch: batch, pace: pacer{rate: cfg.Rate}, progress: cfg.Progress}
	return g.run(ctx, cfg.Duration)
}

type genLoop struct {
	fd       int
	tmpl     *Template
	batch    *mmsgBatch
	pace     pacer
	progress io.Writer
}

func (g *genLoop) run(ctx context.Context, d time.Duration) (res GenResult, err error) {
	var seq uint32
	done := ctx.Done()
	start := time.Now()
	nextReport := time.Second
	n := len(g.batch.frames)
	end := start
	defer func() { res.Elapsed = end.Sub(start) }()
	for {
		now := time.Now()
		el := now.Sub(start)
		if el >= d {
			break
		}
		select {
		case <-done:
			return res, nil
		default:
		}
		if g.progress != nil && el >= nextReport {
			fmt.Fprintf(g.progress, "gen: %.0fs sent %d (%.0f pps) refused %d\n", el.Seconds(), res.Sent, float64(res.Sent)/el.Seconds(), res.Refused)
			nextReport += time.Second
		}
		k, wait := g.pace.due(el, res.Offered(), n)
		if k == 0 {
			wait = min(wait, 10*time.Millisecond, d-el)
			ts := unix.NsecToTimespec(int64(wait))
			_ = unix.Nanosleep(&ts, nil)
			continue
		}
		tx := uint32(now.UnixNano())
		for i := range k {
			g.tmpl.Stamp(g.batch.frames[i], seq+uint32(i), tx)
		}
		off := 0
		for off < k {
			m, e := g.batch.send(g.fd, off, k)
			if e == 0 {
				off += m
				res.Sent += uint64(m)
				end = time.Now()
				if m == 0 {
					break // cannot happen for k > off; do not spin
				}
				continue
			}
			switch e {
			case unix.ENOBUFS:
				// The driver dropped frame off (a veth whose peer ring
				// is full returns NET_XMIT_DROP): lost, as on a wire.
				// Retrying would turn the loss into back-pressure and
				// offer a different load than asked.
				res.Refused++
				off++
				end = time.Now()
			case unix.EAGAIN, unix.EINTR:
				end = time.Now()
				if end.Sub(start) >= d {
					return res, nil
				}
				runtime.Gosched()
			default:
				return res, fmt.Errorf("sendmmsg: %w (after %d frames sent)", e, res.Sent)
			}
		}
		seq += uint32(k)
	}
	return res, nil
}
