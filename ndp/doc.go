// Package ndp is IPv6 Neighbor Discovery (RFC 4861) for one NIC: it answers
// Neighbor Solicitations for the router's addresses, resolves next hops with
// multicast solicitations to the solicited-node group, feeds Neighbor
// Advertisements into the NUD neighbour cache of package stack, ignores
// Redirects, and, when configured, answers Router Solicitations (after the
// random delay of RFC 4861 §6.2.6) and sends periodic Router
// Advertisements. Announce sends the unsolicited Neighbor Advertisements
// of an interface that comes up (§7.2.6).
//
// Place in the data path: ipv6 validates a received packet and its ICMPv6
// checksum and hands NDP messages (types 133-137) to Endpoint.HandleMessage;
// the neighbour cache calls Endpoint.LinkAddressRequest (through ipv6's
// stack.LinkAddressResolver) when a next hop needs resolving. ndp imports
// stack and header only, never ipv6.
package ndp
