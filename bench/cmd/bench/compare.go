package main

import "errors"

// runCompare is being written.
func runCompare(args []string) error { return errors.New("not yet") }
