//go:build linux

package packetmmap_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/internal/netnstest"
	"github.com/nexthop-router/nexthop/link/memlink"
	"github.com/nexthop-router/nexthop/link/packetmmap"
	"github.com/nexthop-router/nexthop/stack"
)

const testEtherType = 0x88b5 // IEEE 802 local experimental

func TestOptionsValidation(t *testing.T) {
	for _, o := range []packetmmap.Options{
		{},
		{Interface: "x", FrameSize: 3000},
		{Interface: "x", BlockSize: 1000},
		{Interface: "x", Queues: -1},
	} {
		if _, err := packetmmap.New(o); !errors.Is(err, packetmmap.ErrOptions) {
			t.Errorf("New(%+v): err = %v, want ErrOptions", o, err)
		}
	}
	if _, err := packetmmap.New(packetmmap.Options{Interface: "nh-no-such-if"}); err == nil {
		t.Error("New on a missing interface succeeded")
	}
}

// vethEndpoint is a PACKET_MMAP endpoint on r0 of a veth pair whose peer h0
// is in another namespace, with a stack and worker to write through.
type vethEndpoint struct {
	rns, hns *netnstest.NS
	s        *stack.Stack
	w        *stack.Worker
	ep       *packetmmap.Endpoint
	capture  *memlink.Capture // the endpoint's dispatcher
}

// openVethEndpoint makes the namespaces (named from prefix) and the veth,
// runs before (if not nil) ahead of opening the endpoint on r0 with opts
// (Interface, RXFrames and TXFrames filled in), and closes it at cleanup.
func openVethEndpoint(t *testing.T, prefix string, opts packetmmap.Options, before func(rns, hns *netnstest.NS)) *vethEndpoint {
	t.Helper()
	v := &vethEndpoint{rns: netnstest.New(t, prefix), hns: netnstest.New(t, prefix+"h"), s: stack.New(stack.Options{}), capture: &memlink.Capture{}}
	netnstest.Veth(t, v.rns, "r0", v.hns, "h0")
	if before != nil {
		before(v.rns, v.hns)
	}
	var err error
	if v.w, err = v.s.NewWorker(); err != nil {
		t.Fatal(err)
	}
	opts.Interface, opts.RXFrames, opts.TXFrames = "r0", 32, 32
	if err := v.rns.Do(func() (err error) {
		v.ep, err = packetmmap.New(opts)
		return err
	}); err != nil {
		t.Fatalf("packetmmap.New: %v", err)
	}
	t.Cleanup(v.ep.Close)
	v.ep.Attach(v.capture)
	return v
}

// TestRXAndTXOnVeth receives the frames a real Linux host sends (its ARP
// requests) through the RX ring, and sends a frame through the TX ring that
// a raw socket on the host receives byte for byte.
func TestRXAndTXOnVeth(t *testing.T) {
	netnstest.RequireRoot(t)
	v := openVethEndpoint(t, "pm", packetmmap.Options{}, func(_, hns *netnstest.NS) {
		hns.Run("ip", "addr", "add", "198.18.0.2/24", "dev", "h0")
	})
	hns, s, w, ep, c := v.hns, v.s, v.w, v.ep, v.capture

	// The host resolves 198.18.0.1: its ARP request arrives on r0.
	ping := hns.Command("ping", "-c", "3", "-i", "0.2", "-W", "1", "198.18.0.1")
	if err := ping.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ping.Wait() }()
	// The host also sends IPv6 ND/MLD; wait for the ARP request.
	var arp []byte
	deadline := time.Now().Add(3 * time.Second)
	for arp == nil && time.Now().Before(deadline) {
		fds := []unix.PollFd{{Fd: int32(ep.RXFD(0)), Events: unix.POLLIN}}
		_, _ = unix.Poll(fds, 100)
		ep.Poll(w, 0)
		for _, f := range c.Frames {
			if binary.BigEndian.Uint16(f.Data[12:14]) == 0x0806 {
				arp = f.Data
				break
			}
		}
	}
	if arp == nil {
		t.Fatalf("no ARP request from the host within 3 s (got %d other frames)", len(c.Frames))
	}
	// ARP request for 198.18.0.1 from 198.18.0.2, broadcast.
	if !bytes.Equal(arp[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) || !bytes.Equal(arp[28:32], []byte{198, 18, 0, 2}) || !bytes.Equal(arp[38:42], []byte{198, 18, 0, 1}) {
		t.Errorf("ARP frame %x is not the host's request for 198.18.0.1", arp)
	}
	hostMAC := arp[6:12]

	// Send a frame of our own to the host and read it there.
	rx := hostSocket(t, hns, "h0", 2*time.Second)

	frame := make([]byte, 60)
	copy(frame[0:6], hostMAC)
	mac := ep.LinkAddress()
	copy(frame[6:12], mac[:])
	binary.BigEndian.PutUint16(frame[12:14], testEtherType)
	copy(frame[14:], "nexthop packetmmap TX ring")
	pkt := s.Frames().Get()
	pkt.SetLen(len(frame))
	copy(pkt.Data(), frame)
	l := stack.MakePacketBufferList(1)
	l.Queue = w.ID()
	l.PushBack(pkt)
	if n, err := ep.WritePackets(l); n != 1 || err != nil {
		t.Fatalf("WritePackets = %d, %v; want 1, nil", n, err)
	}
	buf := make([]byte, 2048)
	n, err := recvFrame(rx, buf)
	if err != nil {
		t.Fatalf("host did not receive the frame: %v", err)
	}
	if !bytes.Equal(buf[:n], frame) {
		t.Errorf("host received\n%x\nwant\n%x", buf[:n], frame)
	}
	st := ep.Stats()
	if st.TXPackets != 1 || st.RXPackets == 0 {
		t.Errorf("stats = %+v, want 1 TX packet and some RX packets", st)
	}
	if s.Frames().Outstanding() != 0 {
		t.Errorf("%d heap frames leaked", s.Frames().Outstanding())
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// hostSocket opens a packet socket for testEtherType on dev in ns, reads
// timing out after timeout, closed when the test ends.
func hostSocket(t *testing.T, ns *netnstest.NS, dev string, timeout time.Duration) int {
	t.Helper()
	return ns.PacketSocket(t, dev, testEtherType, timeout)
}

// TestChecksumNotReadyWithoutVnetHdr: without PACKET_VNET_HDR the kernel
// only flags a frame whose checksum a local sender left to offload
// (TP_STATUS_CSUMNOTREADY); the link must find where that checksum is from
// the packet's own headers, or the router could not finish it.
func TestChecksumNotReadyWithoutVnetHdr(t *testing.T) {
	netnstest.RequireRoot(t)
	v := openVethEndpoint(t, "pmc", packetmmap.Options{NoVnetHdr: true}, func(_, hns *netnstest.NS) {
		hns.Run("ip", "addr", "add", "198.18.0.2/24", "dev", "h0")
		hns.Run("ethtool", "-K", "h0", "tx", "on")
	})
	hns, w, ep, c := v.hns, v.w, v.ep, v.capture
	mac := ep.LinkAddress()
	hns.Run("ip", "neigh", "add", "198.18.0.1", "lladdr", mac.String(), "dev", "h0")

	if err := hns.Do(func() error {
		conn, err := net.Dial("udp4", "198.18.0.1:5555")
		if err != nil {
			return err
		}
		defer conn.Close()
		_, err = conn.Write([]byte("checksum left to offload"))
		return err
	}); err != nil {
		t.Fatalf("host send: %v", err)
	}
	var udp *memlink.Captured
	for deadline := time.Now().Add(3 * time.Second); udp == nil && time.Now().Before(deadline); {
		fds := []unix.PollFd{{Fd: int32(ep.RXFD(0)), Events: unix.POLLIN}}
		_, _ = unix.Poll(fds, 100)
		ep.Poll(w, 0)
		for i := range c.Frames {
			f := c.Frames[i].Data
			if len(f) > 23 && binary.BigEndian.Uint16(f[12:14]) == 0x0800 && f[23] == 17 {
				udp = &c.Frames[i]
			}
		}
	}
	if udp == nil {
		t.Fatalf("the host's UDP datagram did not arrive (%d other frames)", len(c.Frames))
	}
	want := stack.GSO{NeedsCsum: true, CsumStart: 20, CsumOffset: 6}
	if udp.GSO != want {
		t.Errorf("GSO metadata %+v, want %+v (checksum not ready at IP header + 20, UDP offset 6)", udp.GSO, want)
	}
}

// TestRefusedFrameDoesNotStopTheRing: a frame the device drops leaves
// tpacket_snd retrying that same frame on every kick. The ring must skip
// it after a few kicks so that the frames behind it still go; before this,
// one such frame stopped the interface's TX for good. Two such frames:
//   - one over the veth peer's MTU, which __dev_forward_skb refuses;
//   - on a NIC (a veth taken for one), a super-packet put on the ring
//     after the device's TSO was turned off but before the endpoint
//     re-read its features (the router's RTM_NEWLINK refresh):
//     __dev_direct_xmit segments it and then drops the result.
func TestRefusedFrameDoesNotStopTheRing(t *testing.T) {
	netnstest.RequireRoot(t)
	for _, c := range []struct {
		name  string
		setup func(v *vethEndpoint)
		first func(mac stack.LinkAddress) ([]byte, stack.GSO)
	}{
		{"frame over the peer's MTU",
			func(v *vethEndpoint) { v.hns.Run("ip", "link", "set", "h0", "mtu", "1000") },
			func(mac stack.LinkAddress) ([]byte, stack.GSO) {
				// 1,400 bytes: within r0's MTU, so the ring takes it; over h0's.
				return testFrame(mac, 14+1400, 0xee), stack.GSO{}
			}},
		{"super-packet after TSO went off, NIC",
			func(v *vethEndpoint) {
				packetmmap.SetRingCopied(v.ep, false)
				v.rns.Run("ethtool", "-K", "r0", "tso", "off") // not refreshed: the endpoint still sees TSO on
			},
			func(mac stack.LinkAddress) ([]byte, stack.GSO) {
				// A TCP/IPv4 super-packet of 4,000 payload bytes in 1,400-byte segments.
				const payload = 4000
				super := make([]byte, 14+20+20+payload)
				header.EncodeEthernet(super, [6]byte{0x02, 0, 0, 0, 0, 2}, mac, header.EtherTypeIPv4)
				header.EncodeIPv4(super[14:], header.IPv4Fields{TotalLength: 40 + payload, TTL: 64, Protocol: header.IPv4ProtocolTCP,
					Src: [4]byte{198, 18, 0, 1}, Dst: [4]byte{198, 18, 0, 2}})
				header.EncodeTCP(super[34:], header.TCPFields{SrcPort: 1, DstPort: 2, Flags: header.TCPFlagACK, WindowSize: 1000})
				return super, stack.GSO{Type: stack.GSOTCPv4, NeedsCsum: true, CsumStart: 20, CsumOffset: 16, MSS: 1400, HdrLen: 40}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := openVethEndpoint(t, "pmr", packetmmap.Options{}, nil)
			s, w, ep := v.s, v.w, v.ep
			c.setup(v)
			rx := hostSocket(t, v.hns, "h0", 200*time.Millisecond)
			write := func(frame []byte, gso stack.GSO) {
				t.Helper()
				pkt := s.Frames().Get()
				pkt.SetLen(len(frame))
				copy(pkt.Data(), frame)
				pkt.GSO = gso
				l := stack.MakePacketBufferList(1)
				l.Queue = w.ID()
				l.PushBack(pkt)
				_, _ = ep.WritePackets(l) // a failed kick is expected here
			}
			write(c.first(ep.LinkAddress()))

			// Ordinary frames behind it: each is written with its own kick, as a
			// worker would on later batches, and must reach the host.
			got := 0
			buf := make([]byte, 2048)
			for i := range 8 {
				write(testFrame(ep.LinkAddress(), 60, byte(i)), stack.GSO{})
				for {
					n, err := recvFrame(rx, buf)
					if err != nil {
						break
					}
					if n >= 15 && binary.BigEndian.Uint16(buf[12:14]) == testEtherType {
						got++
					}
				}
			}
			st := ep.Stats()
			if got < 8-4 {
				t.Errorf("host received %d of the 8 frames sent after the refused frame; the ring stopped (stats %+v)", got, st)
			}
			if st.TXRefused != 1 {
				t.Errorf("TXRefused = %d, want 1 (the first frame, skipped)", st.TXRefused)
			}
		})
	}
}

// testFrame is an n-byte broadcast frame of testEtherType from mac whose
// first payload byte is tag.
func testFrame(mac stack.LinkAddress, n int, tag byte) []byte {
	f := make([]byte, n)
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], mac[:])
	binary.BigEndian.PutUint16(f[12:14], testEtherType)
	f[14] = tag
	return f
}

// TestSuperPacketPaths: a super-packet for a device without
// the matching segmentation offload goes through the writer's
// super-packet socket to the kernel's software segmentation, for each GSO type the stack
// hands over (TCP over IPv4 and IPv6, UDP L4), and the peer receives its
// gso_size segments in order with the ordinary packets written before and
// after it in the same batch; TXKernelGSO counts it. For a device with the
// offload the peer receives it whole: through the same socket on a veth,
// whose driver would copy the TX ring's pages again, and through the ring
// (with the frames behind it) for a driver that does not (a NIC, here a
// veth taken for one).
func TestSuperPacketPaths(t *testing.T) {
	netnstest.RequireRoot(t)
	src4, dst4 := [4]byte{198, 18, 0, 1}, [4]byte{198, 18, 0, 2}
	src6 := [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}
	dst6 := [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 2}
	tsoOff := []string{"tso", "off"}
	tcp4GSO := stack.GSO{Type: stack.GSOTCPv4, NeedsCsum: true, CsumStart: 20, CsumOffset: 16, MSS: 1400, HdrLen: 40}
	tcp6GSO := stack.GSO{Type: stack.GSOTCPv6, NeedsCsum: true, CsumStart: 40, CsumOffset: 16, MSS: 1400, HdrLen: 60}
	for _, c := range []struct {
		name    string
		off     []string // ethtool -K r0 features to turn off
		gso     stack.GSO
		payload int
		want    []int // the payloads the peer receives: small, segments, small
		devGSO  bool  // the device has the offload: nothing for the kernel to cut
		nic     bool  // treat the veth as a driver that does not copy ring pages
		ring    int   // frames the TX ring takes
	}{
		{name: "tcp4", off: tsoOff, gso: tcp4GSO, payload: 4000, want: []int{100, 1400, 1400, 1200, 200}, ring: 1},
		{name: "tcp6", off: tsoOff, gso: tcp6GSO, payload: 3000, want: []int{100, 1400, 1400, 200, 200}, ring: 1},
		{name: "udp4", off: []string{"tx-udp-segmentation", "off"},
			gso:     stack.GSO{Type: stack.GSOUDPL4, NeedsCsum: true, CsumStart: 20, CsumOffset: 6, MSS: 1000, HdrLen: 28},
			payload: 3000, want: []int{100, 1000, 1000, 1000, 200}, ring: 1},
		{name: "tcp4 TSO on", gso: tcp4GSO, payload: 4000, want: []int{100, 4000, 200}, devGSO: true, ring: 1},
		{name: "tcp6 TSO on", gso: tcp6GSO, payload: 3000, want: []int{100, 3000, 200}, devGSO: true, ring: 1},
		{name: "tcp4 TSO on, NIC", gso: tcp4GSO, payload: 4000, want: []int{100, 4000, 200}, devGSO: true, nic: true, ring: 3},
		{name: "tcp4 TSO off, NIC", off: tsoOff, gso: tcp4GSO, payload: 4000, want: []int{100, 1400, 1400, 1200, 200}, nic: true, ring: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := openVethEndpoint(t, "pmk", packetmmap.Options{}, func(rns, _ *netnstest.NS) {
				if c.off != nil {
					rns.Run(append([]string{"ethtool", "-K", "r0"}, c.off...)...)
				}
			})
			hns, s, w, ep := v.hns, v.s, v.w, v.ep
			if c.nic {
				packetmmap.SetRingCopied(ep, false)
			} else if !packetmmap.RingCopied(ep) {
				t.Fatal("a veth endpoint does not know its driver copies the TX ring's pages")
			}
			if ep.DeviceGSO(c.gso.Type) != c.devGSO || !ep.AcceptsGSO(c.gso.Type) {
				t.Fatalf("DeviceGSO = %v, AcceptsGSO = %v; want %v, true", ep.DeviceGSO(c.gso.Type), ep.AcceptsGSO(c.gso.Type), c.devGSO)
			}

			rx := hns.PacketSocket(t, "h0", unix.ETH_P_ALL, 300*time.Millisecond)

			// frame builds a packet of the case's protocol with n
			// payload bytes.
			l4 := int(c.gso.HdrLen) - int(c.gso.CsumStart)
			frame := func(n int) []byte {
				ipLen := int(c.gso.CsumStart)
				f := make([]byte, 14+ipLen+l4+n)
				et := header.EtherTypeIPv4
				if c.gso.Type == stack.GSOTCPv6 {
					et = header.EtherTypeIPv6
				}
				header.EncodeEthernet(f, [6]byte{0x02, 0, 0, 0, 0, 2}, ep.LinkAddress(), et)
				proto := header.IPv4ProtocolTCP
				if c.gso.Type == stack.GSOUDPL4 {
					proto = header.IPv4ProtocolUDP
				}
				if et == header.EtherTypeIPv6 {
					header.EncodeIPv6(f[14:], header.IPv6Fields{PayloadLength: uint16(l4 + n), NextHeader: proto, HopLimit: 64, Src: src6, Dst: dst6})
				} else {
					header.EncodeIPv4(f[14:], header.IPv4Fields{TotalLength: uint16(ipLen + l4 + n), TTL: 64, Protocol: proto, Src: src4, Dst: dst4})
				}
				if proto == header.IPv4ProtocolUDP {
					header.EncodeUDP(f[14+ipLen:], header.UDPFields{SrcPort: 1, DstPort: 2, Length: uint16(l4 + n)})
				} else {
					header.EncodeTCP(f[14+ipLen:], header.TCPFields{SrcPort: 1, DstPort: 2, Flags: header.TCPFlagACK, WindowSize: 1000})
				}
				return f
			}
			l := stack.MakePacketBufferList(3)
			l.Queue = w.ID()
			for _, p := range []struct {
				n   int
				gso stack.GSO
			}{{100, stack.GSO{}}, {c.payload, c.gso}, {200, stack.GSO{}}} {
				f := frame(p.n)
				pkt := s.Frames().Get()
				pkt.SetLen(len(f))
				copy(pkt.Data(), f)
				pkt.GSO = p.gso
				l.PushBack(pkt)
			}
			if _, err := ep.WritePackets(l); err != nil {
				t.Fatalf("WritePackets: %v", err)
			}

			var got []int
			buf := make([]byte, 70000)
			for {
				n, err := recvFrame(rx, buf)
				if err != nil {
					break
				}
				switch b := buf[14:n]; binary.BigEndian.Uint16(buf[12:14]) {
				case uint16(header.EtherTypeIPv4):
					ip := header.IPv4(b)
					if header.ValidateIPv4(ip) != nil || ip.SourceAddress() != src4 {
						continue
					}
					if !ip.IsChecksumValid() {
						t.Errorf("segment with a bad IPv4 header checksum: % x", b[:20])
					}
					got = append(got, int(ip.TotalLength())-ip.HeaderLength()-l4)
				case uint16(header.EtherTypeIPv6):
					ip := header.IPv6(b)
					if header.ValidateIPv6(ip) != nil || ip.SourceAddress() != src6 {
						continue
					}
					got = append(got, int(ip.PayloadLength())-l4)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("host received payloads of %v bytes, want %v (the super-packet, cut by the kernel unless the device has the offload, in order)", got, c.want)
			}
			wantKernel := uint64(1)
			if c.devGSO {
				wantKernel = 0
			}
			if st := ep.Stats(); st.TXKernelGSO != wantKernel || st.TXRefused != 0 {
				t.Errorf("TXKernelGSO = %d, TXRefused = %d; want %d, 0", st.TXKernelGSO, st.TXRefused, wantKernel)
			}
			// The ring takes the first small frame; the super-packet, and
			// the frame behind it, take the socket unless the ring suits
			// the device.
			if n := packetmmap.TXRingFramesPut(ep, w.ID()); n != c.ring {
				t.Errorf("the TX ring took %d frames, want %d", n, c.ring)
			}
		})
	}
}

// sendOnR0 sends n frames of testEtherType out of r0 through the qdisc, as
// the super-packet socket sends super-packets, and checks that the
// host received them all.
func sendOnR0(t *testing.T, v *vethEndpoint, n int) {
	t.Helper()
	host := hostSocket(t, v.hns, "h0", 2*time.Second)
	if err := v.rns.Do(func() error {
		ifc, err := net.InterfaceByName("r0")
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		f := make([]byte, 60)
		copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		mac := v.ep.LinkAddress()
		copy(f[6:12], mac[:])
		binary.BigEndian.PutUint16(f[12:14], testEtherType)
		to := &unix.SockaddrLinklayer{Protocol: htons(testEtherType), Ifindex: ifc.Index, Halen: 6}
		for i := range n {
			f[14] = byte(i)
			if err := unix.Sendto(fd, f, 0, to); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("sending on r0: %v", err)
	}
	buf := make([]byte, 2048)
	for i := range n {
		if _, err := recvFrame(host, buf); err != nil {
			t.Fatalf("host received %d of %d frames: %v", i, n, err)
		}
	}
}

// TestRXRingsDoNotSeeSentFrames: frames sent on the interface through the
// qdisc (as the super-packet socket sends super-packets) must not come
// back through the RX fanout group. A fanout group ignores the sockets'
// PACKET_IGNORE_OUTGOING; without PACKET_FANOUT_FLAG_IGNORE_OUTGOING every
// forwarded segment was cloned, copied into an RX ring on the sending CPU
// and dropped by the stack.
func TestRXRingsDoNotSeeSentFrames(t *testing.T) {
	netnstest.RequireRoot(t)
	if !kernelAtLeast(6, 2) {
		t.Skip("the kernel predates PACKET_FANOUT_FLAG_IGNORE_OUTGOING (Linux 6.2); TestRXRingsDropSentFramesWithoutTheFlag covers it")
	}
	v := openVethEndpoint(t, "pmo", packetmmap.Options{Queues: 2}, nil)
	const n = 20
	sendOnR0(t, v, n)
	for q := range 2 {
		v.ep.Poll(v.w, q)
	}
	if got := testFrames(v.capture); got != 0 {
		t.Errorf("the RX rings handed %d of the router's own sent frames to the stack, want 0", got)
	}
	if st := v.ep.Stats(); st.RXOutgoing != 0 {
		t.Errorf("RXOutgoing = %d, want 0: the kernel should keep the sent frames from the fanout group", st.RXOutgoing)
	}
}

// TestRXRingsDropSentFramesWithoutTheFlag stands in for a kernel that
// ignores PACKET_FANOUT_FLAG_IGNORE_OUTGOING: the sent frames reach the
// RX rings, and poll must drop and count them instead of handing the
// router its own frames.
func TestRXRingsDropSentFramesWithoutTheFlag(t *testing.T) {
	netnstest.RequireRoot(t)
	defer packetmmap.SetFanoutIgnoreOutgoing(false)()
	v := openVethEndpoint(t, "pmf", packetmmap.Options{Queues: 2}, nil)
	const n = 20
	sendOnR0(t, v, n)
	for q := range 2 {
		for v.ep.Poll(v.w, q) > 0 {
		}
	}
	if got := testFrames(v.capture); got != 0 {
		t.Errorf("the RX rings handed %d of the router's own sent frames to the stack, want 0", got)
	}
	if st := v.ep.Stats(); st.RXOutgoing < n {
		t.Errorf("RXOutgoing = %d, want at least %d: poll must drop and count the frames the host sent", st.RXOutgoing, n)
	}
}

// testFrames counts the captured frames of testEtherType (the host may
// send IPv6 neighbour discovery of its own meanwhile).
func testFrames(c *memlink.Capture) int {
	n := 0
	for _, f := range c.Frames {
		if len(f.Data) >= 14 && binary.BigEndian.Uint16(f.Data[12:14]) == testEtherType {
			n++
		}
	}
	return n
}

// kernelAtLeast reports whether the running kernel is major.minor or newer.
func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	var ma, mi int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// tcp4Super is the GSO metadata of the TCP-over-IPv4 super-packets the
// ordering tests send: MSS 1400, 20-byte IP and TCP headers.
var tcp4Super = stack.GSO{Type: stack.GSOTCPv4, NeedsCsum: true, CsumStart: 20, CsumOffset: 16, MSS: 1400, HdrLen: 40}

// tcp4Frame is an Ethernet frame from the endpoint carrying TCP over IPv4
// from 198.18.0.1 with n payload bytes.
func tcp4Frame(mac stack.LinkAddress, n int) []byte {
	f := make([]byte, 14+40+n)
	header.EncodeEthernet(f, [6]byte{0x02, 0, 0, 0, 0, 2}, mac, header.EtherTypeIPv4)
	header.EncodeIPv4(f[14:], header.IPv4Fields{TotalLength: uint16(40 + n), TTL: 64, Protocol: header.IPv4ProtocolTCP,
		Src: [4]byte{198, 18, 0, 1}, Dst: [4]byte{198, 18, 0, 2}})
	header.EncodeTCP(f[34:], header.TCPFields{SrcPort: 1, DstPort: 2, Flags: header.TCPFlagACK, WindowSize: 1000})
	return f
}

// writeTCP4 writes one batch of TCP frames with the given payload sizes;
// a size above 1400 is a super-packet.
func writeTCP4(t *testing.T, v *vethEndpoint, sizes ...int) int {
	t.Helper()
	l := stack.MakePacketBufferList(len(sizes))
	l.Queue = v.w.ID()
	for _, n := range sizes {
		f := tcp4Frame(v.ep.LinkAddress(), n)
		pkt := v.s.Frames().Get()
		pkt.SetLen(len(f))
		copy(pkt.Data(), f)
		if n > 1400 {
			pkt.GSO = tcp4Super
		}
		l.PushBack(pkt)
	}
	sent, _ := v.ep.WritePackets(l)
	return sent
}

// tcp4Payloads reads what h0 receives from 198.18.0.1 until nothing
// comes for timeout, and returns the TCP payload sizes in order.
func tcp4Payloads(t *testing.T, v *vethEndpoint, timeout time.Duration, send func()) []int {
	t.Helper()
	rx := v.hns.PacketSocket(t, "h0", unix.ETH_P_ALL, timeout)
	send()
	var got []int
	buf := make([]byte, 70000)
	for {
		n, err := recvFrame(rx, buf)
		if err != nil {
			return got
		}
		ip := header.IPv4(buf[14:n])
		if binary.BigEndian.Uint16(buf[12:14]) != uint16(header.EtherTypeIPv4) || header.ValidateIPv4(ip) != nil ||
			ip.SourceAddress() != [4]byte{198, 18, 0, 1} {
			continue
		}
		got = append(got, int(ip.TotalLength())-40)
	}
}

// TestSuperPacketSocketKeepsOrderBehindAQdisc: on a port whose qdisc
// holds frames (a slow token bucket), with TSO or without, no frame may
// overtake the segments of a super-packet sent through the socket,
// neither later in the same batch (it must follow the super-packet through
// the same socket) nor in a later batch (it must, while the socket's
// frames are still queued). On a veth's default noqueue every frame
// leaves inside its own system call, so only a qdisc shows the difference.
func TestSuperPacketSocketKeepsOrderBehindAQdisc(t *testing.T) {
	netnstest.RequireRoot(t)
	for _, c := range []struct {
		name    string
		tsoOn   bool // the super-packet takes the socket as on any veth (tbf then cuts it, being over its burst)
		batches [][]int
		want    []int
	}{
		{"within a batch", false, [][]int{{100, 4000, 200}}, []int{100, 1400, 1400, 1200, 200}},
		{"across batches", false, [][]int{{4000}, {100}}, []int{1400, 1400, 1200, 100}},
		{"TSO on, within a batch", true, [][]int{{100, 4000, 200}}, []int{100, 1400, 1400, 1200, 200}},
		{"TSO on, across batches", true, [][]int{{4000}, {100}}, []int{1400, 1400, 1200, 100}},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := openVethEndpoint(t, "pmq", packetmmap.Options{}, func(rns, _ *netnstest.NS) {
				if !c.tsoOn {
					rns.Run("ethtool", "-K", "r0", "tso", "off")
				}
				rns.Run("tc", "qdisc", "replace", "dev", "r0", "root", "tbf", "rate", "200kbit", "burst", "1600", "limit", "1000000")
			})
			got := tcp4Payloads(t, v, 700*time.Millisecond, func() {
				for _, b := range c.batches {
					writeTCP4(t, v, b...)
				}
			})
			if !slices.Equal(got, c.want) {
				t.Errorf("host received payloads of %v bytes, want %v", got, c.want)
			}
		})
	}
}

// TestSuperPacketSocketFull: when the qdisc holds more than the
// super-packet socket's send buffer, sendmsg refuses; each refused
// frame is counted once, as TXRingFull, and the counters add up.
func TestSuperPacketSocketFull(t *testing.T) {
	netnstest.RequireRoot(t)
	v := openVethEndpoint(t, "pmz", packetmmap.Options{}, func(rns, _ *netnstest.NS) {
		rns.Run("ethtool", "-K", "r0", "tso", "off")
		rns.Run("tc", "qdisc", "replace", "dev", "r0", "root", "tbf", "rate", "100kbit", "burst", "1600", "limit", "100000000")
	})
	const n = 800
	sent := 0
	for range n {
		sent += writeTCP4(t, v, 8900)
	}
	st := v.ep.TXRingStats(v.w.ID())
	if st.TXRingFull == 0 || sent == 0 {
		t.Fatalf("%d of %d super-packets sent, TXRingFull = %d: want some of each (the send buffer is 4 MiB, the qdisc holds 100 MB)", sent, n, st.TXRingFull)
	}
	if st.TXPackets+st.TXRingFull != n || int(st.TXPackets) != sent || st.TXKernelGSO != st.TXPackets || st.TXErrors != 0 {
		t.Errorf("counters do not add up: %+v for %d super-packets, %d reported sent", st, n, sent)
	}
}

// TestTXCompletesChecksumsOfSmallAndLargeFrames: frames that leave with an
// unfinished UDP checksum (NEEDS_CSUM) on a port without checksum offload
// get it finished by the kernel, whether they go as linear skbs (up to
// 512 bytes, hdr_len covering the frame) or with the ring's page attached
// (larger); the host receives each with a valid checksum and its payload.
func TestTXCompletesChecksumsOfSmallAndLargeFrames(t *testing.T) {
	netnstest.RequireRoot(t)
	v := openVethEndpoint(t, "pmcs", packetmmap.Options{}, func(rns, _ *netnstest.NS) {
		rns.Run("ethtool", "-K", "r0", "tx", "off")
	})
	src, dst := [4]byte{198, 18, 0, 1}, [4]byte{198, 18, 0, 2}
	sizes := []int{60, 512, 513, 1000} // whole frames, Ethernet header included
	got := map[int]bool{}
	rx := v.hns.PacketSocket(t, "h0", unix.ETH_P_ALL, 500*time.Millisecond)
	l := stack.MakePacketBufferList(len(sizes))
	l.Queue = v.w.ID()
	for _, n := range sizes {
		f := make([]byte, n)
		header.EncodeEthernet(f, [6]byte{0x02, 0, 0, 0, 0, 2}, v.ep.LinkAddress(), header.EtherTypeIPv4)
		header.EncodeIPv4(f[14:], header.IPv4Fields{TotalLength: uint16(n - 14), TTL: 64, Protocol: header.IPv4ProtocolUDP, Src: src, Dst: dst})
		udpLen := uint16(n - 14 - 20)
		for i := 14 + 28; i < n; i++ {
			f[i] = byte(i)
		}
		header.EncodeUDP(f[34:], header.UDPFields{SrcPort: uint16(n), DstPort: 9, Length: udpLen,
			Checksum: header.PseudoHeaderChecksumV4(header.IPv4ProtocolUDP, src, dst, udpLen)})
		pkt := v.s.Frames().Get()
		pkt.SetLen(n)
		copy(pkt.Data(), f)
		pkt.GSO = stack.GSO{NeedsCsum: true, CsumStart: 20, CsumOffset: 6}
		l.PushBack(pkt)
	}
	if _, err := v.ep.WritePackets(l); err != nil {
		t.Fatalf("WritePackets: %v", err)
	}
	buf := make([]byte, 2048)
	for {
		n, err := recvFrame(rx, buf)
		if err != nil {
			break
		}
		ip := header.IPv4(buf[14:n])
		if binary.BigEndian.Uint16(buf[12:14]) != uint16(header.EtherTypeIPv4) || header.ValidateIPv4(ip) != nil || ip.SourceAddress() != src {
			continue
		}
		udp := header.UDP(ip[20:ip.TotalLength()])
		size := int(udp.SourcePort())
		ok := udp.IsChecksumValid(header.PseudoHeaderChecksumV4(header.IPv4ProtocolUDP, src, dst, uint16(len(udp))))
		for i := 14 + 28; i < n; i++ {
			ok = ok && buf[i] == byte(i)
		}
		if !ok {
			t.Errorf("the %d-byte frame arrived with a bad UDP checksum (%#04x) or payload", size, udp.Checksum())
		}
		got[size] = true
	}
	for _, n := range sizes {
		if !got[n] {
			t.Errorf("the %d-byte frame did not arrive", n)
		}
	}
}

// TestVethTXRing: a veth lets go of a TX frame only when its peer has taken
// the skb from its queue, so by default its TX rings have many small
// frames; every frame without GSO goes into the skb's linear data (a veth
// would copy a zero-copy ring page again); and a frame too large for a
// ring frame (the MTU raised after start) leaves through the super-packet
// socket instead of being dropped.
func TestVethTXRing(t *testing.T) {
	netnstest.RequireRoot(t)
	rns, hns := netnstest.New(t, "pmv"), netnstest.New(t, "pmvh")
	netnstest.Veth(t, rns, "r0", hns, "h0")
	// Frames of 16 KiB, for the 11,000-byte one (a jumbo frame forwarded
	// from an RX ring, which has 68 KiB frames).
	s := stack.New(stack.Options{FramePool: stack.NewFramePool(16384, stack.DefaultHeadroom)})
	w, err := s.NewWorker()
	if err != nil {
		t.Fatal(err)
	}
	var ep *packetmmap.Endpoint
	if err := rns.Do(func() (err error) {
		ep, err = packetmmap.New(packetmmap.Options{Interface: "r0", RXFrames: 32})
		return err
	}); err != nil {
		t.Fatalf("packetmmap.New: %v", err)
	}
	t.Cleanup(ep.Close)
	if n, size := packetmmap.TXRingGeometry(ep, w.ID()); n < 600 || size != 10240 {
		t.Errorf("veth TX ring: %d frames of %d bytes, want ≥ 600 of 10240", n, size)
	}
	rx := hostSocket(t, hns, "h0", 300*time.Millisecond)
	write := func(sizes ...int) {
		t.Helper()
		l := stack.MakePacketBufferList(len(sizes))
		l.Queue = w.ID()
		for _, n := range sizes {
			f := testFrame(ep.LinkAddress(), n, byte(n/100))
			pkt := s.Frames().Get()
			pkt.SetLen(len(f))
			copy(pkt.Data(), f)
			l.PushBack(pkt)
		}
		if sent, err := ep.WritePackets(l); sent != len(sizes) || err != nil {
			t.Fatalf("WritePackets(%v) = %d, %v; want %d, nil", sizes, sent, err, len(sizes))
		}
	}
	// A 1,000-byte frame: through the ring, all of it linear (a NIC
	// would get hdr_len 0 above 512 bytes, the rest as a ring page).
	write(1000)
	if n := packetmmap.TXFrameHdrLen(ep, w.ID(), 0); n != 1000 {
		t.Errorf("hdr_len of a 1,000-byte frame on a veth = %d, want 1000 (linear)", n)
	}
	// The MTU raised to 12,000 while the router runs: an 11,000-byte
	// frame does not fit a ring frame.
	for _, x := range []struct {
		ns  *netnstest.NS
		dev string
	}{{rns, "r0"}, {hns, "h0"}} {
		x.ns.Run("ip", "link", "set", x.dev, "mtu", "12000")
	}
	ep.SetMTU(12000)
	write(11000, 100)
	var got []int
	buf := make([]byte, 16384)
	for {
		n, err := recvFrame(rx, buf)
		if err != nil {
			break
		}
		got = append(got, n)
	}
	if !slices.Equal(got, []int{1000, 11000, 100}) {
		t.Errorf("host received frames of %v bytes, want [1000 11000 100] in order", got)
	}
	if st := ep.Stats(); st.TXTooBig != 0 || packetmmap.TXRingFramesPut(ep, w.ID()) != 1 {
		t.Errorf("TXTooBig = %d, ring frames put = %d; want 0, 1 (the last two through the socket, in order)", st.TXTooBig, packetmmap.TXRingFramesPut(ep, w.ID()))
	}
}

// recvFrame reads one frame from a packet socket with a receive timeout.
// A signal (the Go runtime's preemption signal, say) interrupts a socket
// call with a timeout with EINTR whatever SA_RESTART says (signal(7)), so
// the read is retried rather than taken for the end of the frames.
func recvFrame(fd int, buf []byte) (int, error) {
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != unix.EINTR {
			return n, err
		}
	}
}
