// Package header provides zero-copy views of the wire formats that nexthop
// parses and builds on the packet path, and the Internet checksum.
//
// Every header is a byte slice with accessor methods (type IPv4 []byte, type
// ARP []byte, ...), in the style of gVisor's pkg/tcpip/header: reading a field
// is a plain load from the frame memory the link endpoint handed in, and
// writing one (SetTTL, SetChecksum, ...) modifies that frame in place. Nothing
// is copied and nothing is allocated: addresses come back as fixed-size arrays
// or as netip.Addr, both of which live on the stack.
//
// # Validate first, then read
//
// The accessors do no bounds checking of their own beyond Go's, so an accessor
// on a short or lying buffer panics. Every header therefore has a Validate
// function (ValidateIPv4, ValidateIPv6, ValidateARP, ...) that checks the
// buffer against the header's own length fields and returns an error wrapping
// one of the sentinel errors (ErrTooShort, ErrBadLength, ...). Call it once when
// the packet arrives; after it returns nil every accessor of that view is safe.
// The Validate functions and the iterators (IPv4OptionIterator,
// IPv6ExtHdrIterator, IPv6OptionIterator, NDPOptionIterator) never panic on
// any input and never allocate, not even when they reject a packet: their
// errors are prebuilt values, so a flood of malformed frames costs no garbage.
//
// Checksums are not part of validation, because a NIC with receive checksum
// offload has already checked them; call IsChecksumValid where needed.
//
// # Place in the data path
//
// header/ is the bottom of nexthop's import graph and imports nothing of
// ours, only the standard library. The link endpoints (link/afxdp,
// link/packetmmap, link/memlink) use Ethernet; the protocols ipv4, ipv6, arp
// and ndp use the IP, ICMP, ARP and NDP views to validate, forward
// (DecrementTTL with the RFC 1624 incremental checksum), answer echo requests
// and build ICMP errors and neighbour messages; the bench and tests use the
// builders (EncodeIPv4, EncodeUDP, EncodeNDPNeighborSolicit, ...) to make
// golden packets.
package header
