package stack

import (
	"sync"
	"time"
)

// Clock is where the stack reads time. Tests substitute a FakeClock so timer
// behaviour (NUD, rate limits) is driven step by step instead of by sleeps.
type Clock interface {
	// NowNanos is a monotonic time in nanoseconds.
	NowNanos() int64
}

// RealClock reads the monotonic system clock.
type RealClock struct{}

var processStart = time.Now()

// NowNanos implements Clock.
func (RealClock) NowNanos() int64 { return int64(time.Since(processStart)) }

// FakeClock is a manually advanced Clock for tests.
type FakeClock struct {
	mu  sync.Mutex
	now int64
}

// NewFakeClock starts at a non-zero time, so "never" (0) stays distinct.
func NewFakeClock() *FakeClock { return &FakeClock{now: int64(time.Hour)} }

// NowNanos implements Clock.
func (c *FakeClock) NowNanos() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now += int64(d)
	c.mu.Unlock()
}
