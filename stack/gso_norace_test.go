//go:build !race

package stack_test

const gsoRaceEnabled = false
