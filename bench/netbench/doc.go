// Package netbench is `bench net`: the RFC 2544-style benchmark that runs
// generator — device under test — receiver in three network namespaces
// over veths and measures Linux kernel forwarding, nexthop (packetmmap,
// afxdp generic, afxdp driver) and an in-kernel XDP redirect forwarder in
// the same run, in alternation, filling a bench.Run.
//
// Per system and round it finds the throughput (highest rate with < 0.1 %
// loss, binary search, counted from interface counters), the DUT core's
// CPU time per forwarded packet (from /proc/stat), latency at 10 % and
// 50 % of the kernel's 64-byte throughput (bench recv), iperf3 TCP with how
// busy it keeps the DUT core (a SCHED_IDLE soaker, soak.go), and the
// router's RSS and allocations (its /metrics). Everything it creates —
// namespaces, processes, BPF links — is removed on return, error or signal.
package netbench
