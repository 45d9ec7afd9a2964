package main

import "errors"

// runRecv is being written.
func runRecv(args []string) error { return errors.New("not yet") }
