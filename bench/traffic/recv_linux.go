//go:build linux

package traffic

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// RX ring geometry: 16 blocks of 1 MiB hold about 130 000 minimum-size
// frames, 100 ms at 1.3 Mpps, so a receiver briefly descheduled loses
// nothing. A block is handed over when full or after blockTimeoutMs (in
// practice rounded up to a 4 ms jiffy).
const (
	ringBlockSize  = 1 << 20
	ringBlocks     = 16
	ringFrameSize  = 2048 // TPACKET_V3 ignores it for packing; must divide the block
	blockTimeoutMs = 2
)

// DefaultGrace is how long Receive keeps reading after the duration ends
// or it is told to stop, so that frames in a block the kernel has not yet
// retired (a partly filled block waits for its timer) are still counted.
const DefaultGrace = 25 * time.Millisecond

// Offsets in struct tpacket_block_desc / tpacket_hdr_v1 and tpacket3_hdr
// (linux/if_packet.h).
const (
	bdBlockStatus = 8
	bdNumPkts     = 12
	bdFirstPkt    = 16
	tpNextOffset  = 0
	tpSec         = 4
	tpNsec        = 8
	tpSnaplen     = 12
	tpMac         = 24
	tp3HdrSize    = 48
)

// RecvConfig configures Receive.
type RecvConfig struct {
	// Interface is the Linux interface to read.
	Interface string
	// ID is the run id; frames of other runs are ignored.
	ID uint32
	// Duration bounds the run; it must be positive.
	Duration time.Duration
	// Grace is the extra read time after stopping; 0 = DefaultGrace.
	Grace time.Duration
	// Progress, when not nil, gets a human-readable line every second.
	Progress io.Writer
	// Ready, when not nil, is closed once the socket is bound and frames
	// are being captured, so a caller may start the generator.
	Ready chan<- struct{}
}

// RecvResult is what a receiver run saw.
type RecvResult struct {
	// Stats are the counters and the latency histogram.
	Stats *Stats
	// RingDrops counts frames the kernel dropped because the ring was full
	// (PACKET_STATISTICS); non-zero means the receiver did not keep up.
	RingDrops uint64
	// Elapsed is how long the receiver ran.
	Elapsed time.Duration
}

// Receive counts the test frames of run cfg.ID arriving on cfg.Interface
// until cfg.Duration has passed or ctx is done (plus Grace). It needs
// CAP_NET_RAW. It runs on the calling goroutine and allocates nothing per
// frame.
func Receive(ctx context.Context, cfg RecvConfig) (RecvResult, error) {
	if cfg.Duration <= 0 {
		return RecvResult{}, errors.New("duration must be positive (every traffic run is bounded)")
	}
	grace := cfg.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return RecvResult{}, fmt.Errorf("interface %q: %w (is the receiver in the right network namespace?)", cfg.Interface, err)
	}
	// Protocol 0 until bound, so nothing is captured from other interfaces
	// while the ring is being set up.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return RecvResult{}, fmt.Errorf("AF_PACKET socket: %w (needs root or CAP_NET_RAW)", err)
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return RecvResult{}, fmt.Errorf("PACKET_VERSION TPACKET_V3: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return RecvResult{}, fmt.Errorf("PACKET_IGNORE_OUTGOING: %w", err)
	}
	req := unix.TpacketReq3{
		Block_size:     ringBlockSize,
		Block_nr:       ringBlocks,
		Frame_size:     ringFrameSize,
		Frame_nr:       ringBlockSize / ringFrameSize * ringBlocks,
		Retire_blk_tov: blockTimeoutMs,
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return RecvResult{}, fmt.Errorf("PACKET_RX_RING (%d x %d bytes): %w", ringBlocks, ringBlockSize, err)
	}
	ring, err := unix.Mmap(fd, 0, ringBlockSize*ringBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return RecvResult{}, fmt.Errorf("mmap RX ring: %w", err)
	}
	defer unix.Munmap(ring)
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}
	if err := unix.Bind(fd, sa); err != nil {
		return RecvResult{}, fmt.Errorf("bind to %s: %w", cfg.Interface, err)
	}
	if cfg.Ready != nil {
		close(cfg.Ready)
	}
	r := recvLoop{fd: fd, ring: ring, id: cfg.ID, stats: NewStats(), progress: cfg.Progress}
	res := RecvResult{Stats: r.stats}
	start := time.Now()
	err = r.run(ctx, start, cfg.Duration, grace)
	res.Elapsed = time.Since(start)
	if st, serr := unix.GetsockoptTpacketStatsV3(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); serr == nil {
		res.RingDrops = uint64(st.Drops)
	}
	return res, err
}

type recvLoop struct {
	fd       int
	ring     []byte
	id       uint32
	stats    *Stats
	progress io.Writer
}

func (r *recvLoop) run(ctx context.Context, start time.Time, d, grace time.Duration) error {
	pfd := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN | unix.POLLERR}}
	done := ctx.Done()
	stopAt := d // elapsed time at which to stop; shortened on cancel
	nextReport := time.Second
	blk := 0
	for {
		el := time.Since(start)
		if el >= stopAt+grace {
			return nil
		}
		if stopAt > el {
			select {
			case <-done:
				stopAt = el
			default:
			}
		}
		if r.progress != nil && el >= nextReport {
			fmt.Fprintf(r.progress, "recv: %.0fs received %d dup %d reordered %d\n", el.Seconds(), r.stats.Received, r.stats.Duplicates, r.stats.Reordered)
			nextReport += time.Second
		}
		b := r.ring[blk*ringBlockSize : (blk+1)*ringBlockSize]
		if loadU32(b[bdBlockStatus:])&unix.TP_STATUS_USER == 0 {
			wait := min(10*time.Millisecond, stopAt+grace-el)
			ms := int(wait / time.Millisecond)
			if ms < 1 {
				ms = 1
			}
			if _, err := unix.Poll(pfd, ms); err != nil && err != unix.EINTR {
				return fmt.Errorf("poll: %w", err)
			}
			continue
		}
		r.block(b)
		storeU32(b[bdBlockStatus:], unix.TP_STATUS_KERNEL)
		blk = (blk + 1) % ringBlocks
	}
}

// block accounts for every frame of a block the kernel handed over. The
// offsets come from the kernel; each is checked so that a bad one ends the
// walk instead of the program.
func (r *recvLoop) block(b []byte) {
	ne := binary.NativeEndian
	n := ne.Uint32(b[bdNumPkts:])
	off := int(ne.Uint32(b[bdFirstPkt:]))
	for range n {
		if off <= 0 || off+tp3HdrSize > len(b) {
			return
		}
		h := b[off:]
		mac := int(ne.Uint16(h[tpMac:]))
		snap := int(ne.Uint32(h[tpSnaplen:]))
		if mac+snap > len(h) {
			return
		}
		if p, ok := ParseFrame(h[mac:mac+snap], r.id); ok {
			rx := uint64(ne.Uint32(h[tpSec:]))*1e9 + uint64(ne.Uint32(h[tpNsec:]))
			r.stats.Add(p, uint32(rx))
		}
		next := int(ne.Uint32(h[tpNextOffset:]))
		if next == 0 {
			return
		}
		off += next
	}
}
