// Package xdpfwd is the in-kernel XDP forwarder that the netns benchmark runs
// as its ceiling: the fastest a frame can cross the device under test on the
// same veth topology, with the same per-packet work a router must do (TTL or
// hop limit decrement, RFC 1624 checksum update, MAC rewrite) and nothing else
// (no route lookup: every frame goes out of one interface to one next hop).
//
// The program is written with cilium/ebpf's asm package, so building it needs
// no clang, and is attached through a bpf_link, so the kernel removes it when
// the process exits or dies.
//
// # Redirect into a veth
//
// A native-mode XDP_REDIRECT into a veth hands the frame to the veth's peer
// (ndo_xdp_xmit), which queues it for the peer's NAPI. The peer has NAPI only
// while it has an XDP program or GRO on; otherwise the kernel drops the frame
// without counting it anywhere (measured on 6.18: the output veth's tx_dropped
// and ethtool statistics stay 0, while the program counts it redirected;
// TestNativeRedirectNeedsPeerNAPI checks this). The peer usually
// lives in another namespace (the receiver's), out of this process's reach, so
// the caller must enable GRO there (`ethtool -K PEER gro on`) or attach an XDP
// program to it. An XDP program on the output veth itself does not help: it
// gives NAPI to the output veth's own receive side, not to its peer's.
// Generic (skb) mode redirects through the output device's ordinary transmit
// path and delivers either way. Start returns a note (Forwarder.Notes) saying
// so when the output is a veth and the mode is native.
//
// The program forwards every unicast IPv4 and IPv6 frame out of one interface;
// it leaves to the kernel what a router's control plane needs: ARP and other
// EtherTypes, broadcast and multicast frames, TTL or hop limit ≤ 1 (the kernel
// answers with Time Exceeded when it forwards) and Neighbor Discovery
// (ICMPv6 with hop limit 255, RFC 4861).
package xdpfwd
