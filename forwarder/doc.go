// Package forwarder builds a running router from a Config: it parses and
// validates the YAML file, discovers the interfaces with netlink, takes
// them over (an flock per interface, TCX programs that keep the kernel's
// own stack off the port, both released by the kernel when the process
// dies), opens a link per interface, creates the stack's NICs, addresses,
// routes and static neighbours, and runs one worker per RX queue index
// plus a control loop for timers and link changes.
//
// Place in the data path: none of its code runs per packet. Workers call
// the links' Poll, which runs each batch to completion in the stack; the
// forwarder only starts, follows (link up/down, MTU) and stops them, and
// applies reloads (SIGHUP) as route-table batches and address changes.
// cmd/router is a thin shell around it.
package forwarder
