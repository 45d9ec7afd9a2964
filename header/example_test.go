package header_test

import (
	"fmt"

	"github.com/nexthop-router/nexthop/header"
)

// The forwarding fast path: validate once, read fields with plain loads,
// decrement TTL with the incremental checksum, rewrite L2 in place.
func Example_forward() {
	frame := make([]byte, 14+28)
	header.EncodeEthernet(frame, [6]byte{2, 0, 0, 0, 0, 0xfe}, [6]byte{2, 0, 0, 0, 0, 1}, header.EtherTypeIPv4)
	header.EncodeIPv4(frame[14:], header.IPv4Fields{
		TotalLength: 28, TTL: 64, Protocol: header.IPv4ProtocolUDP,
		Src: [4]byte{198, 18, 0, 1}, Dst: [4]byte{198, 19, 0, 1},
	})

	eth := header.Ethernet(frame)
	if err := header.ValidateEthernet(frame); err != nil || eth.EtherType() != header.EtherTypeIPv4 {
		return
	}
	if err := header.ValidateIPv4(eth.Payload()); err != nil {
		fmt.Println("drop:", err)
		return
	}
	ip := header.IPv4(eth.Payload())
	if ip.TTL() <= 1 {
		fmt.Println("send ICMP Time Exceeded")
		return
	}
	ip.DecrementTTL()
	eth.SetDst([6]byte{2, 0, 0, 0, 0, 2})    // next hop, from the neighbour cache
	eth.SetSrc([6]byte{2, 0, 0, 0, 0, 0xff}) // egress NIC
	fmt.Println(ip.DstAddr(), ip.TTL(), ip.IsChecksumValid())

	// A lying packet is rejected with a sentinel the caller can count.
	ip.SetTotalLength(1500)
	fmt.Println(header.ValidateIPv4(ip))
	// Output:
	// 198.19.0.1 63 true
	// header: length field inconsistent with buffer: IPv4 total length exceeds the buffer
}
