package traffic

import "math/bits"

// dupWindow is how many sequence numbers behind the highest one seen the
// duplicate detector remembers (a bitmap of 512 KiB).
const dupWindow = 1 << 22

// maxLatencyNs is the largest latency recorded: a difference of 32-bit
// timestamps above 2^31 ns means the clock stepped backwards, not a slow
// packet.
const maxLatencyNs = 1 << 31

// Stats counts test frames of one run as the receiver sees them. Add does
// not allocate; the zero value is not ready, use NewStats. Not safe for
// concurrent use: one receiver goroutine owns it.
type Stats struct {
	// Received counts every matching frame, duplicates included.
	Received uint64
	// Duplicates counts frames whose seq was already seen (within the
	// last 2^22 sequence numbers).
	Duplicates uint64
	// Reordered counts frames whose seq is lower than the highest seq
	// already seen in the same flow.
	Reordered uint64
	// ClockAnomalies counts frames not put in the latency histogram
	// because their timestamp is later than the receive time.
	ClockAnomalies uint64
	// Latency is the distribution of receive minus transmit time, in ns.
	Latency Histogram

	maxSeq   uint32
	haveSeq  bool
	seen     []uint64 // dupWindow bits, indexed by seq mod dupWindow
	flowNext []uint64 // per source port: highest seq seen + 1, 0 = none
}

// NewStats returns empty Stats with their windows allocated.
func NewStats() *Stats {
	return &Stats{
		seen:     make([]uint64, dupWindow/64),
		flowNext: make([]uint64, 1<<16),
	}
}

// MaxSeq returns the highest seq seen and whether any frame was seen.
func (s *Stats) MaxSeq() (uint32, bool) { return s.maxSeq, s.haveSeq }

// Add accounts for one test frame received at rxNs (low 32 bits of
// CLOCK_REALTIME in ns, like Payload.TxNs).
func (s *Stats) Add(p Probe, rxNs uint32) {
	s.Received++
	seq := p.Seq
	switch {
	case !s.haveSeq:
		s.haveSeq = true
		s.maxSeq = seq
	case seq > s.maxSeq:
		// Forget the bits that now fall out of the window behind seq.
		gap := uint64(seq - s.maxSeq)
		if gap >= dupWindow {
			clear(s.seen)
		} else {
			for q := s.maxSeq + 1; q != seq+1; q++ {
				s.seen[(q%dupWindow)/64] &^= 1 << (q % 64)
			}
		}
		s.maxSeq = seq
	case s.maxSeq-seq >= dupWindow:
		// Too old to tell a duplicate from a late frame; count it late.
		goto flow
	}
	{
		w, bit := (seq%dupWindow)/64, uint64(1)<<(seq%64)
		if s.seen[w]&bit != 0 {
			s.Duplicates++
			return
		}
		s.seen[w] |= bit
	}
flow:
	if next := s.flowNext[p.SrcPort]; uint64(seq)+1 < next {
		s.Reordered++
	} else {
		s.flowNext[p.SrcPort] = uint64(seq) + 1
	}
	lat := rxNs - p.TxNs
	if lat >= maxLatencyNs {
		s.ClockAnomalies++
		return
	}
	s.Latency.Record(uint64(lat))
}

// Histogram buckets: values below 2^histSubBits have a bucket each; above,
// every power of two is split into 2^histSubBits equal buckets, so a
// bucket's width is below 1/128 of its values.
const (
	histSubBits = 7
	histSub     = 1 << histSubBits
	histBuckets = histSub + (32-histSubBits)*histSub
)

// Histogram is a fixed-size log-linear histogram of values below 2^32,
// like HdrHistogram with 7 bits of precision. The zero value is empty and
// ready; Record does not allocate.
type Histogram struct {
	count   uint64
	max     uint64
	buckets [histBuckets]uint64
}

func histIndex(v uint64) int {
	if v < histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1
	return histSub + shift*histSub + int(v>>shift) - histSub
}

// histBounds returns the smallest and largest value of bucket i.
func histBounds(i int) (lo, hi uint64) {
	if i < histSub {
		return uint64(i), uint64(i)
	}
	shift := (i - histSub) / histSub
	m := uint64(i-histSub-shift*histSub) + histSub
	return m << shift, (m+1)<<shift - 1
}

// Record adds a value; values of 2^32 and above are clamped.
func (h *Histogram) Record(v uint64) {
	if v >= 1<<32 {
		v = 1<<32 - 1
	}
	h.count++
	if v > h.max {
		h.max = v
	}
	h.buckets[histIndex(v)]++
}

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.count }

// Max returns the largest value recorded (exact), 0 when empty.
func (h *Histogram) Max() uint64 { return h.max }

// Quantile returns the value at quantile q (0..1): the midpoint of the
// bucket holding the ceil(q*count)-th smallest value, never above Max.
// It returns 0 when the histogram is empty.
func (h *Histogram) Quantile(q float64) float64 {
	if h.count == 0 {
		return 0
	}
	rank := uint64(q * float64(h.count))
	if float64(rank) < q*float64(h.count) {
		rank++
	}
	if rank < 1 {
		rank = 1
	}
	var cum uint64
	for i, c := range h.buckets {
		cum += c
		if cum >= rank {
			lo, hi := histBounds(i)
			mid := float64(lo+hi) / 2
			if mid > float64(h.max) {
				mid = float64(h.max)
			}
			return mid
		}
	}
	return float64(h.max)
}
