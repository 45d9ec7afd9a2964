// Package ipv4 is nexthop's IPv4 network protocol: receive validation
// (RFC 1812 §5.2.2), local delivery of ICMP (echo), forwarding with the
// RFC 1812 checks, ICMP errors (RFC 792, RFC 1812 §4.3.2) and IPv4
// fragmentation (RFC 791).
//
// Place in the data path: the NIC hands the endpoint a batch of packets whose
// data starts at the IPv4 header. Each packet is validated, then either
// delivered locally or forwarded: martian checks, route lookup in the
// stack's lock-free FIB snapshot, TTL check, MTU/DF check, TTL decrement
// with the RFC 1624 incremental checksum, and NIC.WriteToNextHop on the
// egress NIC, which resolves the neighbour (ARP, through the stack's
// neighbour cache) and queues the frame on the worker's per-NIC TX batch.
// The frame is rewritten in place and never copied; only packets the
// router makes itself (ICMP, fragments) come from the stack's FramePool.
//
// Order of forwarding checks: the same as package ipv6 and as Linux, where
// ip_route_input looks the route up before ip_forward checks the TTL. A
// packet without a route (or with a blackhole, unreachable or prohibit
// route, or a refused directed broadcast) is handled as such even with
// TTL 1: traceroute towards an unroutable address ends with Destination
// Unreachable, not Time Exceeded.
//
// ICMP errors (RFC 1812 §4.3.2) come from the router's address on the NIC
// the error leaves by, which with asymmetric routes is not the NIC the
// offending packet came in on. None is sent about a packet the router
// originated (its own echo reply whose next hop did not answer), nor to a
// source that names no single host, such as the subnet broadcast address
// of any attached NIC.
//
// Every packet the endpoint drops increments exactly one stack.DropReason of
// the endpoint's per-worker stack.IPStats. The package imports stack and
// header only; ARP lives in package arp and reaches IPv4 through the
// stack's interfaces.
package ipv4
