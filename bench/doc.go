// Package bench will hold the network-namespace benchmark that measures
// nexthop against Linux kernel forwarding (generator — router — receiver).
// Until it lands, the micro-benchmarks live beside the code they measure
// (`make bench`) and every figure is recorded in bench/RESULTS.md.
package bench
