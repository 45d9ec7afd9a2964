//go:build linux

package forwarder

import (
	"encoding/binary"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/internal/netnstest"
	"github.com/nexthop-router/nexthop/link/packetmmap"
)

// takeoverEtherType is the EtherType of the test's frames (IEEE 802 local
// experimental), so nothing else on the veth is counted.
const takeoverEtherType = 0x88b5

// TestTakeoverSilencesTheKernel checks the TCX programs of a taken-over
// port by themselves: the kernel's own frames (any frame sent through the
// qdisc without packetmmap.TXMark) do not leave, frames with the mark do
// (PACKET_MMAP's super-packet socket), frames arriving still reach
// packet sockets but not the kernel's stack — even with programs already
// attached that pass everything, since the router's go first — and after
// close the port behaves as before and can be taken again.
func TestTakeoverSilencesTheKernel(t *testing.T) {
	netnstest.RequireRoot(t)
	rns, hns := netnstest.New(t, "tk"), netnstest.New(t, "tkh")
	netnstest.Veth(t, rns, "r0", hns, "h0")
	rns.Run("ip", "addr", "add", "198.18.0.1/24", "dev", "r0")
	hns.Run("ip", "addr", "add", "198.18.0.2/24", "dev", "h0")
	rMAC := rns.MAC(t, "r0")
	hns.Run("ip", "neigh", "replace", "198.18.0.1", "lladdr", rMAC.String(), "dev", "h0")

	var ifindex int
	var tk *takeover
	if err := rns.Do(func() error {
		ifc, err := net.InterfaceByName("r0")
		if err != nil {
			return err
		}
		ifindex = ifc.Index
		// Someone else's programs that pass every frame (TCX_PASS ends
		// the chain): the router's must run before them.
		for _, at := range []ebpf.AttachType{ebpf.AttachTCXIngress, ebpf.AttachTCXEgress} {
			p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
				Type:         ebpf.SchedCLS,
				Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}, // TCX_PASS
				License:      "Apache-2.0",
			})
			if err != nil {
				return err
			}
			t.Cleanup(func() { p.Close() })
			l, err := link.AttachTCX(link.TCXOptions{Interface: ifindex, Program: p, Attach: at})
			if err != nil {
				return err
			}
			t.Cleanup(func() { l.Close() })
		}
		tk, err = takeInterface("r0", ifindex)
		return err
	}); errors.Is(err, ebpf.ErrNotSupported) {
		t.Skipf("TCX not supported by this kernel: %v", err)
	} else if err != nil {
		t.Fatalf("takeInterface: %v", err)
	}
	closed := false
	defer func() {
		if !closed {
			tk.close()
		}
	}()

	// sent sends 5 frames out of r0 through the qdisc with the given
	// SO_MARK and returns how many h0 received.
	host := hns.PacketSocket(t, "h0", takeoverEtherType, 0)
	sent := func(mark int) int {
		t.Helper()
		if err := rns.Do(func() error {
			fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
			if err != nil {
				return err
			}
			defer unix.Close(fd)
			if mark != 0 {
				if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, mark); err != nil {
					return err
				}
			}
			f := make([]byte, 60)
			copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
			copy(f[6:12], rMAC)
			binary.BigEndian.PutUint16(f[12:14], takeoverEtherType)
			to := &unix.SockaddrLinklayer{Protocol: htons(takeoverEtherType), Ifindex: ifindex, Halen: 6}
			for range 5 {
				// A frame the egress program drops fails with
				// ENOBUFS (NET_XMIT_DROP); what counts is what h0 gets.
				if err := unix.Sendto(fd, f, 0, to); err != nil && err != unix.ENOBUFS {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatalf("sending on r0: %v", err)
		}
		return drain(host)
	}
	if got := sent(0); got != 0 {
		t.Errorf("h0 received %d of 5 unmarked frames sent through r0's qdisc, want 0: the kernel must not send on an owned port", got)
	}
	if got := sent(packetmmap.TXMark); got != 5 {
		t.Errorf("h0 received %d of 5 frames marked packetmmap.TXMark, want 5: the router's kernel-segmented super-packets must pass", got)
	}

	// Ingress: a packet socket on r0 still sees the host's ping, the
	// kernel's stack never gets it (its reply would be dropped at
	// egress anyway, so count the echo requests it received).
	tap := rns.PacketSocket(t, "r0", unix.ETH_P_ALL, 0)
	// Only frames arriving: the tap would see the host's own frames leave.
	if err := unix.SetsockoptInt(tap, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		t.Fatal(err)
	}
	echos := icmpInEchos(t, rns)
	if out, err := hns.Try("ping", "-c", "2", "-i", "0.2", "-W", "1", "198.18.0.1"); err == nil {
		t.Errorf("the kernel answered a ping on an owned port:\n%s", out)
	}
	if got := drainEchoRequests(tap); got != 2 {
		t.Errorf("a packet socket on r0 saw %d of the host's 2 echo requests, want 2: taps run before TCX ingress", got)
	}
	if d := icmpInEchos(t, rns) - echos; d != 0 {
		t.Errorf("the kernel's stack received %d echo requests on an owned port, want 0", d)
	}

	tk.close()
	closed = true
	if got := sent(0); got != 5 {
		t.Errorf("after close h0 received %d of 5 unmarked frames, want 5: the port must be left as it was found", got)
	}
	if out, err := hns.Try("ping", "-c", "1", "-W", "2", "198.18.0.1"); err != nil {
		t.Errorf("after close the kernel does not answer ping on r0: %v\n%s", err, out)
	}
	if err := rns.Do(func() error {
		again, err := takeInterface("r0", ifindex)
		if err == nil {
			again.close()
		}
		return err
	}); err != nil {
		t.Errorf("taking r0 again after close: %v (the lock must go with close)", err)
	}
}

// drainEchoRequests counts the ICMP echo requests to 198.18.0.1 among the
// frames waiting on fd (the host also sends neighbour discovery of its
// own), with drain's waiting.
func drainEchoRequests(fd int) int {
	return drainMatch(fd, func(f []byte) bool {
		return len(f) >= 14+20+8 && binary.BigEndian.Uint16(f[12:14]) == 0x0800 &&
			f[14+9] == 1 && [4]byte(f[14+16:14+20]) == [4]byte{198, 18, 0, 1} && f[14+int(f[14]&0xf)*4] == 8
	})
}

// drain counts the frames waiting on fd, waiting up to 500 ms for the
// first and 100 ms for each next one.
func drain(fd int) int { return drainMatch(fd, func([]byte) bool { return true }) }

// drainMatch is drain counting only the frames match accepts.
func drainMatch(fd int, match func([]byte) bool) int {
	n := 0
	buf := make([]byte, 2048)
	wait := 500 * time.Millisecond
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if k, _ := unix.Poll(fds, int(wait/time.Millisecond)); k <= 0 {
			return n
		}
		k, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
		if err != nil {
			return n
		}
		if match(buf[:k]) {
			n++
		}
		wait = 100 * time.Millisecond
	}
}

// icmpInEchos reads IcmpInEchos of ns's kernel stack (/proc/net/snmp is
// per network namespace).
func icmpInEchos(t *testing.T, ns *netnstest.NS) int {
	t.Helper()
	var names []string
	for _, line := range strings.Split(ns.Run("cat", "/proc/net/snmp"), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Icmp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, name := range names {
			if name == "InEchos" && i < len(f) {
				n, err := strconv.Atoi(f[i])
				if err != nil {
					t.Fatalf("IcmpInEchos %q: %v", f[i], err)
				}
				return n
			}
		}
	}
	t.Fatal("no Icmp InEchos in /proc/net/snmp")
	return 0
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
