package xdpfwd

import (
	"encoding/binary"
	"net"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// Offsets into the frame (Ethernet header, then IPv4 or IPv6 without a VLAN
// tag) and into struct xdp_md.
const (
	xdpMDData    = 0
	xdpMDDataEnd = 4

	ethDst  = 0
	ethSrc  = 6
	ethType = 12
	ethLen  = 14

	ipv4VerIHL = ethLen + 0
	ipv4TTL    = ethLen + 8
	ipv4Csum   = ethLen + 10
	ipv4MinEnd = ethLen + 20

	ipv6Ver      = ethLen + 0
	ipv6NextHdr  = ethLen + 6
	ipv6HopLimit = ethLen + 7
	ipv6End      = ethLen + 40

	// EtherTypes as a little-endian 16-bit load of the big-endian field
	// sees them.
	etherTypeIPv4LE = 0x0008
	etherTypeIPv6LE = 0xdd86

	icmpv6 = 58
	// ndHopLimit is the hop limit every Neighbor Discovery message carries
	// (RFC 4861 §7.1.1: receivers discard ND with any other value).
	ndHopLimit = 255
)

// XDP actions (include/uapi/linux/bpf.h).
const (
	xdpDrop     = 1
	xdpPass     = 2
	xdpRedirect = 4
)

// Counter indexes in the per-CPU array map.
const (
	counterRedirected = iota
	counterPassed
	counterDropped
	numCounters
)

// program returns the forwarder, which is, in C:
//
//	if (eth + 1 > end) return PASS;
//	if (eth->dst[0] & 1) return PASS;             // broadcast, multicast
//	switch (eth->proto) {
//	case IPv4:
//		if (ip + 1 > end || ip->version != 4 || ip->ihl < 5) return DROP;
//		if (ip->ttl <= 1) return PASS;            // the kernel sends Time Exceeded
//		ip->ttl--; csum = ip->check + htons(0x0100);
//		ip->check = csum + (csum >= 0xffff);      // RFC 1624, as ip_decrease_ttl
//		break;
//	case IPv6:
//		if (ip6 + 1 > end || ip6->version != 6) return DROP;
//		if (ip6->hop_limit <= 1) return PASS;
//		if (ip6->nexthdr == ICMPV6 && ip6->hop_limit == 255) return PASS; // ND
//		ip6->hop_limit--;
//		break;
//	default:
//		return PASS;                              // ARP and the rest
//	}
//	eth->dst = dstMAC; eth->src = srcMAC;
//	if (bpf_redirect_map(&out, 0, DROP) != REDIRECT) return DROP;
//	return REDIRECT;
//
// and every return first adds one to its counter. The redirect goes through a
// one-entry DEVMAP rather than bpf_redirect(ifindex) only so that a missing
// entry is visible as a drop; both take the same bulk-transmit path.
func program(devmap, counters *ebpf.Map, dstMAC, srcMAC net.HardwareAddr) asm.Instructions {
	le32 := func(b []byte) int64 { return int64(int32(binary.LittleEndian.Uint32(b))) }
	le16 := func(b []byte) int64 { return int64(binary.LittleEndian.Uint16(b)) }
	return asm.Instructions{
		// R2 = data, R3 = data_end for the whole program.
		asm.LoadMem(asm.R2, asm.R1, xdpMDData, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, xdpMDDataEnd, asm.Word),
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, ethLen),
		asm.JGT.Reg(asm.R4, asm.R3, "pass"),
		asm.LoadMem(asm.R5, asm.R2, ethDst, asm.Byte),
		asm.JSet.Imm(asm.R5, 1, "pass"),
		asm.LoadMem(asm.R5, asm.R2, ethType, asm.Half),
		asm.JEq.Imm(asm.R5, etherTypeIPv4LE, "ipv4"),
		asm.JEq.Imm(asm.R5, etherTypeIPv6LE, "ipv6"),
		asm.Ja.Label("pass"),

		asm.Mov.Reg(asm.R4, asm.R2).WithSymbol("ipv4"),
		asm.Add.Imm(asm.R4, ipv4MinEnd),
		asm.JGT.Reg(asm.R4, asm.R3, "drop"),
		asm.LoadMem(asm.R5, asm.R2, ipv4VerIHL, asm.Byte),
		asm.Mov.Reg(asm.R4, asm.R5),
		asm.And.Imm(asm.R4, 0xf0),
		asm.JNE.Imm(asm.R4, 0x40, "drop"),
		asm.And.Imm(asm.R5, 0x0f),
		asm.JLT.Imm(asm.R5, 5, "drop"),
		asm.LoadMem(asm.R5, asm.R2, ipv4TTL, asm.Byte),
		asm.JLE.Imm(asm.R5, 1, "pass"),
		asm.Sub.Imm(asm.R5, 1),
		asm.StoreMem(asm.R2, ipv4TTL, asm.R5, asm.Byte),
		// The checksum as a little-endian load: htons(0x0100) is 0x0001.
		asm.LoadMem(asm.R5, asm.R2, ipv4Csum, asm.Half),
		asm.Add.Imm(asm.R5, 1),
		asm.JLT.Imm(asm.R5, 0xffff, "csum"),
		asm.Add.Imm(asm.R5, 1),
		asm.StoreMem(asm.R2, ipv4Csum, asm.R5, asm.Half).WithSymbol("csum"),
		asm.Ja.Label("rewrite"),

		asm.Mov.Reg(asm.R4, asm.R2).WithSymbol("ipv6"),
		asm.Add.Imm(asm.R4, ipv6End),
		asm.JGT.Reg(asm.R4, asm.R3, "drop"),
		asm.LoadMem(asm.R5, asm.R2, ipv6Ver, asm.Byte),
		asm.And.Imm(asm.R5, 0xf0),
		asm.JNE.Imm(asm.R5, 0x60, "drop"),
		asm.LoadMem(asm.R5, asm.R2, ipv6HopLimit, asm.Byte),
		asm.JLE.Imm(asm.R5, 1, "pass"),
		asm.LoadMem(asm.R4, asm.R2, ipv6NextHdr, asm.Byte),
		asm.JNE.Imm(asm.R4, icmpv6, "dec6"),
		asm.JEq.Imm(asm.R5, ndHopLimit, "pass"),
		asm.Sub.Imm(asm.R5, 1).WithSymbol("dec6"),
		asm.StoreMem(asm.R2, ipv6HopLimit, asm.R5, asm.Byte),

		asm.StoreImm(asm.R2, ethDst, le32(dstMAC[0:4]), asm.Word).WithSymbol("rewrite"),
		asm.StoreImm(asm.R2, ethDst+4, le16(dstMAC[4:6]), asm.Half),
		asm.StoreImm(asm.R2, ethSrc, le16(srcMAC[0:2]), asm.Half),
		asm.StoreImm(asm.R2, ethSrc+2, le32(srcMAC[2:6]), asm.Word),
		asm.LoadMapPtr(asm.R1, devmap.FD()),
		asm.Mov.Imm(asm.R2, 0),
		asm.Mov.Imm(asm.R3, xdpDrop),
		asm.FnRedirectMap.Call(),
		asm.JNE.Imm(asm.R0, xdpRedirect, "drop"),
		asm.Mov.Imm(asm.R6, xdpRedirect),
		asm.Mov.Imm(asm.R7, counterRedirected),
		asm.Ja.Label("count"),

		asm.Mov.Imm(asm.R6, xdpPass).WithSymbol("pass"),
		asm.Mov.Imm(asm.R7, counterPassed),
		asm.Ja.Label("count"),

		asm.Mov.Imm(asm.R6, xdpDrop).WithSymbol("drop"),
		asm.Mov.Imm(asm.R7, counterDropped),

		// counters[R7] += 1, then return R6.
		asm.StoreMem(asm.RFP, -4, asm.R7, asm.Word).WithSymbol("count"),
		asm.LoadMapPtr(asm.R1, counters.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
		asm.Mov.Reg(asm.R0, asm.R6).WithSymbol("out"),
		asm.Return(),
	}
}

// passProgram is `return XDP_PASS;`: attached to the output interface by
// Options.Both.
func passProgram() asm.Instructions {
	return asm.Instructions{
		asm.Mov.Imm(asm.R0, xdpPass),
		asm.Return(),
	}
}
