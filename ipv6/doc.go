// Package ipv6 is the router's IPv6 network protocol: receive validation,
// local delivery (ICMPv6 echo, NDP through package ndp), forwarding (RFC
// 8200, RFC 4443, RFC 4291) and ICMPv6 errors.
//
// Place in the data path: the NIC hands each received batch of IPv6
// packets to Endpoint.HandlePackets on the receiving worker. Per packet it
// validates the fixed header and trims link padding, processes Hop-by-Hop
// options, then delivers locally or forwards: route lookup, hop-limit and
// MTU checks, hop-limit decrement, and NIC.WriteToNextHop on the egress NIC
// (neighbour lookup, Ethernet header, the worker's TX batch). Forwarding
// allocates nothing, takes no lock and reads the clock only through the
// worker's batch time.
//
// Decisions worth knowing (see also the issue note):
//   - Order of forwarding checks follows Linux ip6_forward: a route is looked
//     up first, so an unroutable packet with Hop Limit 1 gets Destination
//     Unreachable, not Time Exceeded.
//   - Route types: blackhole drops silently; unreachable answers
//     Destination Unreachable code 0 (no route), as Linux does; prohibit
//     answers code 1 (administratively prohibited). Code 6 (reject route)
//     is, per RFC 4443 §3.1, a refinement of code 1 that hosts know less
//     well, so it is not used.
//   - Packet Too Big always carries the egress MTU and is exempt from the
//     ICMPv6 rate limit (RFC 4443 §2.4(f) lets it be; PMTUD depends on it).
//   - Local delivery: ICMPv6 (echo, NDP) and No Next Header. UDP to the
//     router is answered with Port Unreachable (so traceroute6 to a router
//     address ends as with the kernel); every other upper-layer protocol
//     with Parameter Problem code 1. Fragments addressed to the router are
//     not reassembled and are dropped (DropUnknownProtocol); atomic
//     fragments are processed.
//   - The egress MTU is cached per endpoint and re-read on Enable and on
//     every Stack.Tick, so the data path never calls into the link for it.
package ipv6
