//go:build linux

package afxdp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/internal/netnstest"
	"github.com/nexthop-router/nexthop/link/memlink"
	"github.com/nexthop-router/nexthop/stack"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		helperAttachAndHang()
		return
	}
	os.Exit(stack.RunTestsWithLeakCheck(m))
}

const testEtherType = 0x88b5 // IEEE 802 local experimental

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// rawSocket opens an AF_PACKET socket for testEtherType on ifname inside ns.
func rawSocket(t *testing.T, ns *netnstest.NS, ifname string) (fd int, mac net.HardwareAddr) {
	t.Helper()
	if err := ns.Do(func() error {
		ifc, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		mac = ifc.HardwareAddr
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(testEtherType)))
		if err != nil {
			return err
		}
		tv := unix.Timeval{Usec: 200000}
		_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(testEtherType), Ifindex: ifc.Index})
	}); err != nil {
		t.Fatalf("raw socket on %s in %s: %v", ifname, ns.Name, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd, mac
}

func testFrame(dst, src []byte, seq uint32, size int) []byte {
	f := make([]byte, size)
	copy(f[0:6], dst)
	copy(f[6:12], src)
	binary.BigEndian.PutUint16(f[12:14], testEtherType)
	binary.BigEndian.PutUint32(f[14:18], seq)
	copy(f[18:], "nexthop afxdp")
	return f
}

func newUMEM(t *testing.T, o UMEMOptions) *UMEM {
	t.Helper()
	u, err := NewUMEM(o)
	if err != nil {
		t.Fatalf("NewUMEM: %v", err)
	}
	t.Cleanup(func() {
		if err := u.Close(); err != nil {
			t.Errorf("UMEM.Close: %v", err)
		}
	})
	return u
}

func newEndpoint(t *testing.T, ns *netnstest.NS, o Options) *Endpoint {
	t.Helper()
	var ep *Endpoint
	if err := ns.Do(func() (err error) {
		ep, err = New(o)
		return err
	}); err != nil {
		t.Fatalf("New(%s): %v", o.Interface, err)
	}
	t.Cleanup(ep.Close)
	return ep
}

// xdpAttached reports whether ifname in ns has an XDP program.
func xdpAttached(t *testing.T, ns *netnstest.NS, ifname string) bool {
	out := ns.Run("ip", "-d", "link", "show", "dev", ifname)
	return strings.Contains(out, "prog/xdp")
}

// TestRXAndTX receives a real Linux host's ARP requests through the RX
// rings and sends frames the host receives byte for byte, through the
// socket's TX ring (a heap frame copied in) and through the slow path
// (the control worker), in each attach mode. The veth pair has two
// queues each way, so driver mode is allowed and both sockets are used.
func TestRXAndTX(t *testing.T) {
	for _, mode := range []Mode{ModeGeneric, ModeDriver} {
		t.Run(mode.String(), func(t *testing.T) { testRXAndTX(t, mode) })
	}
}

func testRXAndTX(t *testing.T, mode Mode) {
	netnstest.RequireRoot(t)
	rns := netnstest.New(t, "xr")
	hns := netnstest.New(t, "xh")
	rns.Run("ip", "link", "add", "r0", "numrxqueues", "2", "numtxqueues", "2", "type", "veth",
		"peer", "name", "h0", "numrxqueues", "2", "numtxqueues", "2", "netns", hns.Name)
	rns.Run("ip", "link", "set", "r0", "up")
	hns.Run("ip", "link", "set", "h0", "up")
	hns.Run("ip", "addr", "add", "198.18.0.2/24", "dev", "h0")

	s := stack.New(stack.Options{})
	w1, _ := s.NewWorker()
	w2, _ := s.NewWorker()
	u1 := newUMEM(t, UMEMOptions{NumFrames: 256, Worker: w1.ID()})
	u2 := newUMEM(t, UMEMOptions{NumFrames: 256, Worker: w2.ID()})
	o := DefaultOpts("r0", u1, u2)
	o.Mode = mode
	o.ZeroCopy = true // veth refuses: must fall back to copy mode
	o.RXSize, o.TXSize, o.FillSize, o.CompletionSize = 64, 64, 64, 64
	ep := newEndpoint(t, rns, o)
	gotMode, why := ep.Mode()
	t.Logf("attach mode %v (%s), zero-copy %v", gotMode, why, ep.ZeroCopy(0))
	if gotMode != mode {
		t.Fatalf("Mode() = %v, want %v", gotMode, mode)
	}
	if ep.ZeroCopy(0) || ep.ZeroCopy(1) {
		t.Error("veth socket bound in zero-copy mode; veth has no zero-copy")
	}
	if !xdpAttached(t, rns, "r0") {
		t.Fatal("no XDP program on r0 after New")
	}
	c := &memlink.Capture{}
	ep.Attach(c)

	ping := hns.Command("ping", "-c", "3", "-i", "0.2", "-W", "1", "198.18.0.1")
	if err := ping.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ping.Wait() }()
	var arp []byte
	workers := []*stack.Worker{w1, w2}
	deadline := time.Now().Add(3 * time.Second)
	for arp == nil && time.Now().Before(deadline) {
		fds := []unix.PollFd{{Fd: int32(ep.RXFD(0)), Events: unix.POLLIN}, {Fd: int32(ep.RXFD(1)), Events: unix.POLLIN}}
		_, _ = unix.Poll(fds, 100)
		for q := range 2 {
			ep.Poll(workers[q], q)
		}
		for _, f := range c.Frames {
			if binary.BigEndian.Uint16(f.Data[12:14]) == 0x0806 {
				arp = f.Data
				break
			}
		}
	}
	if arp == nil {
		t.Fatalf("no ARP request from the host within 3 s (got %d other frames; stats %+v)", len(c.Frames), ep.Stats())
	}
	if !bytes.Equal(arp[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) || !bytes.Equal(arp[28:32], []byte{198, 18, 0, 2}) || !bytes.Equal(arp[38:42], []byte{198, 18, 0, 1}) {
		t.Errorf("ARP frame %x is not the host's request for 198.18.0.1", arp)
	}
	hostMAC := arp[6:12]
	rx, _ := rawSocket(t, hns, "h0")
	mac := ep.LinkAddress()

	for i, writer := range []*stack.Worker{w1, w2, nil} {
		frame := testFrame(hostMAC, mac[:], uint32(i), 60)
		pkt := s.Frames().Get()
		pkt.SetLen(len(frame))
		copy(pkt.Data(), frame)
		l := stack.MakePacketBufferList(1)
		l.Queue = 0 // the control worker: slow path
		if writer != nil {
			l.Queue = writer.ID()
		}
		l.PushBack(pkt)
		if n, err := ep.WritePackets(l); n != 1 || err != nil {
			t.Fatalf("writer %d: WritePackets = %d, %v; want 1, nil", l.Queue, n, err)
		}
		buf := make([]byte, 2048)
		n, _, err := unix.Recvfrom(rx, buf, 0)
		if err != nil {
			t.Fatalf("writer %d: host did not receive the frame: %v", l.Queue, err)
		}
		if !bytes.Equal(buf[:n], frame) {
			t.Errorf("writer %d: host received\n%x\nwant\n%x", l.Queue, buf[:n], frame)
		}
	}
	// Reap the completions.
	for q := range 2 {
		ep.Poll(workers[q], q)
	}
	st := ep.Stats()
	t.Logf("stats: %+v slow path: %+v", st, ep.SlowPathStats())
	if st.TXPackets != 3 || st.TXCopied != 2 || st.RXPackets == 0 || ep.SlowPathStats().TXPackets != 1 {
		t.Errorf("stats = %+v, want 3 TX packets (2 copied in, 1 slow path) and some RX", st)
	}
	if s.Frames().Outstanding() != 0 {
		t.Errorf("%d heap frames leaked", s.Frames().Outstanding())
	}
	for _, u := range []*UMEM{u1, u2} {
		if err := u.Check(); err != nil {
			t.Errorf("UMEM of worker %d: %v", u.Worker(), err)
		}
	}
	ep.Close()
	if xdpAttached(t, rns, "r0") {
		t.Error("XDP program still attached to r0 after Close")
	}
	for _, u := range []*UMEM{u1, u2} {
		if a := u.Accounting(); a.Free != a.NumFrames {
			t.Errorf("after Close, UMEM of worker %d: %+v, want every frame free", u.Worker(), a)
		}
	}
}

// TestAutoMode: on a veth whose peer has more TX queues than it has RX
// queues driver mode fails with ENOSPC; ModeAuto falls back to generic and
// says why, ModeDriver fails with the hint. Re-opening right after Close
// works (the bind retries EBUSY).
func TestAutoMode(t *testing.T) {
	netnstest.RequireRoot(t)
	rns := netnstest.New(t, "xr")
	hns := netnstest.New(t, "xh")
	rns.Run("ip", "link", "add", "r0", "numrxqueues", "1", "numtxqueues", "1", "type", "veth",
		"peer", "name", "h0", "numrxqueues", "2", "numtxqueues", "2", "netns", hns.Name)
	rns.Run("ip", "link", "set", "r0", "up")
	hns.Run("ip", "link", "set", "h0", "up")
	s := stack.New(stack.Options{})
	w, _ := s.NewWorker()
	u := newUMEM(t, UMEMOptions{NumFrames: 64, Worker: w.ID()})

	o := DefaultOpts("r0", u)
	o.Mode = ModeDriver
	err := rns.Do(func() error {
		ep, err := New(o)
		if err == nil {
			ep.Close()
		}
		return err
	})
	if err == nil || !errors.Is(err, unix.ENOSPC) || !strings.Contains(err.Error(), "RX queues") {
		t.Errorf("ModeDriver with too few RX queues: err = %v, want ENOSPC with a hint", err)
	}
	if a := u.Accounting(); a.Free != a.NumFrames {
		t.Errorf("after a failed New: %+v, want every frame free", a)
	}

	o.Mode = ModeAuto
	for i := range 2 { // the second time right after Close
		ep := newEndpoint(t, rns, o)
		mode, why := ep.Mode()
		t.Logf("open %d: mode %v: %s; bind retried %d times on EBUSY", i, mode, why, ep.socks[0].bindRetries)
		if mode != ModeGeneric || !strings.Contains(why, "ENOSPC") && !strings.Contains(why, "no space") {
			t.Errorf("ModeAuto: mode %v (%s), want generic after a driver-mode ENOSPC", mode, why)
		}
		ep.Close()
	}

	// With matching queue counts auto picks driver mode.
	hns.Run("ip", "link", "set", "h0", "down")
	rns.Run("ip", "link", "del", "r0")
	rns.Run("ip", "link", "add", "r0", "type", "veth", "peer", "name", "h0", "netns", hns.Name)
	rns.Run("ip", "link", "set", "r0", "up")
	hns.Run("ip", "link", "set", "h0", "up")
	ep := newEndpoint(t, rns, o)
	if mode, why := ep.Mode(); mode != ModeDriver {
		t.Errorf("ModeAuto on a single-queue veth: %v (%s), want driver", mode, why)
	}
}
