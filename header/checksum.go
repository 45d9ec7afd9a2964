package header

import (
	"encoding/binary"
	"math/bits"
)

// Checksum returns the 16-bit ones'-complement sum (RFC 1071) of b, added to
// initial, without the final complement: the value to feed into the next call
// as initial, or to complement and store in a checksum field. It is 0 only
// when b and initial are all zero; any other sum is in [1, 0xffff], so the
// result of a full recomputation and of an RFC 1624 incremental update agree
// bit for bit.
//
// An odd-length b is padded with a zero byte, so when a buffer is summed in
// pieces every piece but the last must have even length.
//
// It reads eight bytes per step: 64-bit little-endian words are added with
// end-around carry and the total is byte-swapped once at the end, which is
// correct by RFC 1071 §2(B) ("Byte Order Independence"). Little-endian loads
// are plain moves on amd64 and arm64; the sum is the same on any host.
func Checksum(b []byte, initial uint16) uint16 {
	acc := uint64(bits.ReverseBytes16(initial))
	var carry uint64
	// Two independent add-with-carry chains over 64-byte blocks: one chain
	// is bound by the carry flag's latency, two run about twice as fast
	// (BenchmarkChecksum). A carry out of bit 63 is worth 2^64 = 1 in
	// ones'-complement arithmetic, so carries are simply added back in.
	var acc1, carry1 uint64
	for len(b) >= 64 {
		acc, carry = bits.Add64(acc, binary.LittleEndian.Uint64(b[0:8]), carry)
		acc1, carry1 = bits.Add64(acc1, binary.LittleEndian.Uint64(b[8:16]), carry1)
		acc, carry = bits.Add64(acc, binary.LittleEndian.Uint64(b[16:24]), carry)
		acc1, carry1 = bits.Add64(acc1, binary.LittleEndian.Uint64(b[24:32]), carry1)
		acc, carry = bits.Add64(acc, binary.LittleEndian.Uint64(b[32:40]), carry)
		acc1, carry1 = bits.Add64(acc1, binary.LittleEndian.Uint64(b[40:48]), carry1)
		acc, carry = bits.Add64(acc, binary.LittleEndian.Uint64(b[48:56]), carry)
		acc1, carry1 = bits.Add64(acc1, binary.LittleEndian.Uint64(b[56:64]), carry1)
		b = b[64:]
	}
	acc, carry = bits.Add64(acc, acc1, carry)
	acc, carry = bits.Add64(acc, carry1, carry)
	for len(b) >= 8 {
		acc, carry = bits.Add64(acc, binary.LittleEndian.Uint64(b), carry)
		b = b[8:]
	}
	if len(b) >= 4 {
		acc, carry = bits.Add64(acc, uint64(binary.LittleEndian.Uint32(b)), carry)
		b = b[4:]
	}
	if len(b) >= 2 {
		acc, carry = bits.Add64(acc, uint64(binary.LittleEndian.Uint16(b)), carry)
		b = b[2:]
	}
	if len(b) == 1 {
		// The odd byte is the high-order byte of a big-endian word padded
		// with zero, i.e. the low-order byte of a little-endian one.
		acc, carry = bits.Add64(acc, uint64(b[0]), carry)
	}
	// End-around carry: acc+carry cannot carry again unless acc was all
	// ones, and then the sum is 0 + 1 with no further carry.
	acc, carry = bits.Add64(acc, carry, 0)
	acc += carry
	return bits.ReverseBytes16(fold64(acc))
}

// fold64 folds a 64-bit ones'-complement sum to 16 bits, keeping 0xffff
// (negative zero) distinct from 0 as RFC 1071 end-around carry does.
func fold64(acc uint64) uint16 {
	acc = (acc >> 32) + (acc & 0xffffffff) // <= 2^33-2
	acc = (acc >> 32) + (acc & 0xffffffff) // <= 2^32
	acc = (acc >> 16) + (acc & 0xffff)     // <= 0x1fffe
	acc = (acc >> 16) + (acc & 0xffff)     // <= 0xffff
	return uint16(acc)
}

// ChecksumCombine adds two partial ones'-complement sums (as returned by
// Checksum), with end-around carry. Use it to join the sums of pieces summed
// separately; a piece that starts at an odd offset of the whole must have
// its sum byte-swapped first (RFC 1071 §2(B)).
func ChecksumCombine(a, b uint16) uint16 {
	v := uint32(a) + uint32(b)
	return uint16(v + v>>16)
}

// ChecksumUpdate2 returns checksum field xsum updated for a 16-bit word of
// the covered data changing from oldWord to newWord, without re-reading the data:
// RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'). All three are the values
// as read big-endian from the packet. The result equals a full recomputation
// whenever the covered data is not all zero (always the case for IP, TCP and
// UDP headers), because Checksum never yields negative zero for such data.
func ChecksumUpdate2(xsum, oldWord, newWord uint16) uint16 {
	return ^ChecksumCombine(ChecksumCombine(^xsum, ^oldWord), newWord)
}

// ChecksumUpdate4 is ChecksumUpdate2 for a 32-bit aligned field such as an
// IPv4 address, as NAT-style rewrites need.
func ChecksumUpdate4(xsum uint16, oldAddr, newAddr [4]byte) uint16 {
	s := ChecksumCombine(^xsum, ^binary.BigEndian.Uint16(oldAddr[0:2]))
	s = ChecksumCombine(s, ^binary.BigEndian.Uint16(oldAddr[2:4]))
	s = ChecksumCombine(s, binary.BigEndian.Uint16(newAddr[0:2]))
	s = ChecksumCombine(s, binary.BigEndian.Uint16(newAddr[2:4]))
	return ^s
}

// decrementTTLChecksum returns the IPv4 header checksum field after the TTL
// (the high byte of the TTL/Protocol word) has dropped by one. It is Linux's
// ip_decrease_ttl (include/net/ip.h) and VPP's ip4_ttl_and_checksum_check:
// the word's value fell by 0x0100, so the complemented sum rises by 0x0100,
// with end-around carry. Treating 0xffff as needing the carry too maps the
// result into [0, 0xfffe], exactly what a full recomputation produces.
func decrementTTLChecksum(xsum uint16) uint16 {
	c := uint32(xsum) + 0x0100
	c += (c + 1) >> 16
	return uint16(c)
}

// PseudoHeaderChecksumV4 returns the ones'-complement sum (not complemented)
// of the IPv4 pseudo-header that TCP and UDP checksums cover (RFC 768,
// RFC 9293 §3.1; ICMPv4 has none): source, destination, zero, protocol, and length,
// the transport header plus payload length. Pass it as the initial value of
// the transport checksum.
func PseudoHeaderChecksumV4(proto uint8, src, dst [4]byte, length uint16) uint16 {
	s := uint32(binary.BigEndian.Uint16(src[0:2])) + uint32(binary.BigEndian.Uint16(src[2:4]))
	s += uint32(binary.BigEndian.Uint16(dst[0:2])) + uint32(binary.BigEndian.Uint16(dst[2:4]))
	s += uint32(proto) + uint32(length)
	return fold64(uint64(s))
}

// PseudoHeaderChecksumV6 returns the ones'-complement sum (not complemented)
// of the IPv6 pseudo-header (RFC 8200 §8.1): source, destination, 32-bit
// upper-layer length and next header. TCP, UDP and ICMPv6 checksums over IPv6
// all start from it.
func PseudoHeaderChecksumV6(proto uint8, src, dst [16]byte, length uint32) uint16 {
	var acc uint64
	for i := 0; i < 16; i += 4 {
		acc += uint64(binary.BigEndian.Uint32(src[i:])) + uint64(binary.BigEndian.Uint32(dst[i:]))
	}
	acc += uint64(length) + uint64(proto)
	return fold64(acc)
}

// checksumSkipping returns the complemented checksum of b with the 16-bit
// field at off treated as zero, so it is right whatever the field holds. off
// must be even. It sums the two sides of the field rather than subtracting
// the field's value afterwards, which would turn an all-zero message's
// 0xffff into 0.
func checksumSkipping(b []byte, off int, initial uint16) uint16 {
	return ^Checksum(b[off+2:], Checksum(b[:off], initial))
}
