package main

import "errors"

// runNet is being written.
func runNet(args []string) error { return errors.New("not yet") }
