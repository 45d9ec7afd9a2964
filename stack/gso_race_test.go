//go:build race

package stack_test

// gsoRaceEnabled: sync.Pool drops items at random under the race detector,
// so allocation counts of pool-backed paths are meaningless.
const gsoRaceEnabled = true
