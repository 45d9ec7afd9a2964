package main

import "errors"

// runGen is being written.
func runGen(args []string) error { return errors.New("not yet") }
