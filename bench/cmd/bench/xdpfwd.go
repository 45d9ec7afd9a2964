package main

import "errors"

// runXDPFwd is being written.
func runXDPFwd(args []string) error { return errors.New("not yet") }
