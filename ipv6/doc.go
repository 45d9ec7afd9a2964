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
//   - Order of forwarding checks follows Linux (ip6_route_input, then
//     ip6_forward): a route is looked up first, so an unroutable packet
//     with Hop Limit 1 gets Destination Unreachable, not Time Exceeded.
//     Package ipv4 uses the same order (route, route type, egress NIC,
//     then TTL), so traceroute behaves alike for both versions.
//   - Addresses refused on receive, before any routing: multicast,
//     loopback and IPv4-mapped (::ffff:0:0/96) sources; loopback,
//     unspecified (::, RFC 4291 §2.5.2) and IPv4-mapped destinations.
//   - ICMPv6 errors come from the router's address on the NIC the error
//     leaves by (RFC 4443 §2.2), which with asymmetric routes is not the
//     NIC the offending packet came in on.
//   - Route types: blackhole drops silently; unreachable answers
//     Destination Unreachable code 0 (no route), as Linux does; prohibit
//     answers code 1 (administratively prohibited). Code 6 (reject route)
//     is, per RFC 4443 §3.1, a refinement of code 1 that hosts know less
//     well, so it is not used.
//   - Packet Too Big always carries the egress MTU and is exempt from the
//     ICMPv6 rate limit (RFC 4443 §2.4(f) lets it be; PMTUD depends on it).
//   - Local delivery: ICMPv6 (echo, NDP) and No Next Header. UDP and TCP
//     to the router are answered with Port Unreachable (code 4), as IPv4
//     answers them, so traceroute6 -U and -T to a router address end as
//     for IPv4; every other upper-layer protocol with Parameter Problem
//     code 1 (unrecognized Next Header). Fragments addressed to the router
//     are not reassembled and are dropped (DropUnknownProtocol); atomic
//     fragments are processed.
//   - Enable announces every unicast address of the NIC with one
//     unsolicited Neighbor Advertisement to ff02::1 (RFC 4861 §7.2.6), the
//     counterpart of ARP's gratuitous request; Endpoint.Announce does the
//     same for addresses added to a running NIC.
//   - The egress MTU is cached per endpoint and re-read on Enable and on
//     every Stack.Tick, so the data path never calls into the link for it.
package ipv6
