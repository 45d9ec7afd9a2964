// Package packetmmap is the PACKET_MMAP link: AF_PACKET sockets with
// memory-mapped TPACKET_V2 rings, for interfaces (or kernels) where AF_XDP
// is not available.
//
// Place in the data path: a stack worker polls an RX ring; frames are read
// in place and delivered to the NIC as one batch; forwarding copies each
// frame once into the egress TX ring of the writing worker, and one
// sendto(2) per batch sends them all (PACKET_QDISC_BYPASS). RX sockets of
// one interface form a PACKET_FANOUT hash group, so flows spread over
// workers. PACKET_VNET_HDR carries checksum and GSO metadata in both
// directions, so super-packets from veth TSO/GRO pass through whole: to
// the driver through the TX ring when the egress device has the
// segmentation offload, else with sendmsg straight from the RX frame
// through a second socket per writer that goes through the qdisc layer,
// where the kernel segments them in software; a veth, which would copy the
// ring's pages again, gets every super-packet through that socket
// (offload.go).
package packetmmap
