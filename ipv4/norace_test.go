//go:build !race

package ipv4_test

const raceEnabled = false
