// Package arp is nexthop's ARP (RFC 826, RFC 1122 §2.3.2): it answers
// requests for the router's addresses, resolves IPv4 next hops for the
// stack's neighbour cache, learns senders of requests addressed to the
// router, and announces addresses with gratuitous ARP when a NIC comes up.
// It learns only senders that are hosts on one of the NIC's subnets; a
// station claiming one of the router's own addresses is an address
// conflict, counted (Stats.Conflicts) and never learned or answered.
//
// Place in the data path: the NIC hands the endpoint the frames of
// EtherType 0x0806. The endpoint is the stack.LinkAddressResolver of its
// NIC's IPv4 neighbour cache (stack.NeighborCache), which owns the NUD state
// machine and its timers; ARP only builds and parses packets and feeds
// replies and requests to the cache. Requests are turned into replies in
// place, in the received frame. Proxy ARP is not done.
package arp
