// Package metrics exports the router's counters to Prometheus.
//
// The data path never touches Prometheus: workers bump plain per-worker
// uint64 counters in the stack, protocol, link and forwarder structs, and
// a Collector reads and sums them only when Prometheus scrapes, turning
// each value into a const metric (the node_exporter collector pattern).
// A scrape therefore costs the control path a few microseconds per
// interface and never slows forwarding.
//
// The Collector reads two things: the *stack.Stack (per-NIC IP, ICMP,
// ARP, NDP and neighbour counters, route counts), reached through the
// protocol endpoints of every NIC; and a Source for what only the running
// router knows (workers, link rings, reloads, health). Source uses plain
// structs owned by this package, so metrics does not import forwarder:
// forwarder depends on metrics, not the other way round (DESIGN.md §1),
// and cmd/router adapts a *forwarder.Router to a Source.
//
// Naming follows DESIGN.md §4: the router_ namespace, _total counters,
// units in names, and the labels interface, ip ("4" or "6"), reason,
// state, queue and type, each drawn from a fixed set so the number of
// series is bounded by the number of interfaces and queues. Every series
// of a bounded set is exported even when it is zero, so dashboards and
// rate() see it from the first scrape. The README's Metrics section
// lists every metric; testdata/golden.prom is a complete exposition.
//
// The package also ships operations files next to the code:
// grafana-dashboard.json, prometheus.yml (an example scrape config) and
// alerts.yml (alerting rules), all checked by the tests.
package metrics
