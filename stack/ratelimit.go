package stack

import (
	"sync/atomic"
	"time"
)

// RateLimiter is a lock-free token bucket (the GCRA formulation: one atomic
// "theoretical arrival time"), shared by all workers. ICMP errors use it so
// a flood of bad packets cannot make the router a flood source (RFC 1812
// §4.3.2.8, RFC 4443 §2.4(f)); Linux's default is 1000/s with a burst of 50.
type RateLimiter struct {
	interval int64 // nanoseconds per token
	burst    int64 // tolerance: burst * interval
	tat      atomic.Int64
}

// NewRateLimiter allows rate events per second on average and up to burst
// at once. A rate of 0 disables limiting.
func NewRateLimiter(rate, burst int) *RateLimiter {
	l := &RateLimiter{}
	if rate > 0 {
		l.interval = int64(time.Second) / int64(rate)
		if burst < 1 {
			burst = 1
		}
		l.burst = int64(burst) * l.interval
	}
	return l
}

// Allow takes one token at time now (clock nanoseconds), reporting whether
// there was one. It never blocks.
func (l *RateLimiter) Allow(now int64) bool {
	if l.interval == 0 {
		return true
	}
	for {
		old := l.tat.Load()
		tat := max(old, now)
		if tat-now+l.interval > l.burst {
			return false
		}
		if l.tat.CompareAndSwap(old, tat+l.interval) {
			return true
		}
	}
}
