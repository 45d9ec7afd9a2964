//go:build race

package afxdp

// raceEnabled: sync.Pool (behind the stack's frame pool) drops items at
// random under the race detector, so allocation counts are meaningless.
const raceEnabled = true
