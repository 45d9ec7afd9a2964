package stack_test

import (
	"testing"
	"time"

	"github.com/nexthop-router/nexthop/stack"
)

func TestRateLimiterBurstThenRate(t *testing.T) {
	l := stack.NewRateLimiter(1000, 50)
	now := int64(time.Hour)
	allowed := 0
	for i := 0; i < 100; i++ {
		if l.Allow(now) {
			allowed++
		}
	}
	if allowed != 50 {
		t.Errorf("burst at one instant: %d allowed, want 50", allowed)
	}
	// One second later the bucket holds at most the burst again, and over
	// that second 1000 tokens accrued at 1 per ms.
	allowed = 0
	for ms := 1; ms <= 1000; ms++ {
		if l.Allow(now + int64(ms)*int64(time.Millisecond)) {
			allowed++
		}
	}
	if allowed != 1000 {
		t.Errorf("one event per ms for 1 s: %d allowed, want 1000", allowed)
	}
	if stack.NewRateLimiter(0, 0).Allow(now) != true {
		t.Error("rate 0 should disable limiting")
	}
}
