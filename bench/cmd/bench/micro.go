package main

import "errors"

// runMicro is being written.
func runMicro(args []string) error { return errors.New("not yet") }
