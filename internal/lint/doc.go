// Package lint holds repository-wide checks that run as tests, so `make
// test` enforces the project's style rules: today, that package unsafe is
// imported only by files named *_unsafe.go (as gVisor's checkunsafe
// analyzer enforces), keeping every unchecked memory access where a reader
// expects it and can find its justification.
package lint
