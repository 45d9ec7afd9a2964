// Package stack is the core of nexthop: the interfaces between links and
// protocols (after gVisor's pkg/tcpip/stack/registration.go), PacketBuffer,
// NIC, Stack, the route table, the neighbour cache and the IP counters.
//
// Place in the data path: a link (link/afxdp, link/packetmmap,
// link/memlink) hands a worker a batch of frames; the NIC, as the link's
// NetworkDispatcher, parses Ethernet and gives each protocol (ipv4, ipv6,
// arp) its part of the batch in one call; protocols look up routes and
// neighbours in lock-free snapshots, rewrite headers in place and queue
// frames on the Worker, which ends the batch with one WritePackets per
// egress NIC. Stack knows no concrete protocol or link: they register into
// it through Options and CreateNIC.
//
// Ownership: a PacketBuffer views frame memory that its owner lent (a UMEM,
// a ring, a FramePool) and has one holder at a time. Whoever holds it passes
// it on or calls Release, exactly once.
//
// Concurrency: control-path methods (NICs, addresses, routes) serialize on
// the Stack's mutex and publish immutable snapshots through atomic
// pointers; the data path only loads those pointers. Counters are per
// worker and summed when read.
package stack
