package traffic

import "time"

// pacer decides how many frames are due, on a schedule anchored at the
// start of the run: by elapsed time t, floor(t*rate)+1 frames should have
// been sent. Deriving each step from the anchor rather than from the last
// send means lateness (a slow sleep, a preempted thread) is made up in the
// next batch instead of accumulating, so the mean rate stays exact.
type pacer struct {
	rate float64 // frames per second; 0 = as fast as possible
}

// due returns how many frames (at most max) should be sent now, given
// elapsed time since the start and the number already sent. When none is
// due it returns 0 and how long until the next one is.
func (p pacer) due(elapsed time.Duration, sent uint64, max int) (int, time.Duration) {
	if p.rate <= 0 {
		return max, 0
	}
	target := uint64(elapsed.Seconds()*p.rate) + 1
	if target > sent {
		if n := target - sent; n < uint64(max) {
			return int(n), 0
		}
		return max, 0
	}
	wait := time.Duration(float64(sent)/p.rate*1e9) - elapsed
	if wait < time.Microsecond {
		wait = time.Microsecond
	}
	return 0, wait
}
