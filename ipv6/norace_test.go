//go:build !race

package ipv6_test

const raceEnabled = false
