package xdpfwd

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/internal/netnstest"
)

// topo is gen(g0) — (din)dut(dout) — (r0)rcv, single-queue veths, with the
// receiver's side in NAPI mode (GRO on) unless told otherwise, so native
// redirects into dout are delivered (see the package doc).
type topo struct {
	gen, dut, rcv *netnstest.NS
	genMAC        net.HardwareAddr
	dinMAC        net.HardwareAddr
	doutMAC       net.HardwareAddr
	rcvMAC        net.HardwareAddr
}

func newTopo(t *testing.T, rcvGRO bool) *topo {
	netnstest.RequireRoot(t)
	if _, err := exec.LookPath("ethtool"); err != nil {
		t.Skip("integration test: needs ethtool (make deps)")
	}
	tp := &topo{gen: netnstest.New(t, "fg"), dut: netnstest.New(t, "fd"), rcv: netnstest.New(t, "fr")}
	netnstest.Veth(t, tp.gen, "g0", tp.dut, "din")
	netnstest.Veth(t, tp.dut, "dout", tp.rcv, "r0")
	gro := "off"
	if rcvGRO {
		gro = "on"
	}
	tp.rcv.Run("ethtool", "-K", "r0", "gro", gro)
	tp.genMAC = tp.gen.MAC(t, "g0")
	tp.dinMAC = tp.dut.MAC(t, "din")
	tp.doutMAC = tp.dut.MAC(t, "dout")
	tp.rcvMAC = tp.rcv.MAC(t, "r0")
	return tp
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// packetSocket opens an AF_PACKET socket for every EtherType on name in ns.
func packetSocket(t *testing.T, ns *netnstest.NS, name string) (fd, ifindex int) {
	t.Helper()
	if err := ns.Do(func() error {
		ifc, err := net.InterfaceByName(name)
		if err != nil {
			return err
		}
		ifindex = ifc.Index
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		tv := unix.Timeval{Usec: 100000}
		_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
		_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.Index})
	}); err != nil {
		t.Fatalf("packet socket on %s in %s: %v", name, ns.Name, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd, ifindex
}

// testPort marks the test's UDP frames; every frame carries its index in
// the first four payload bytes.
const testPort = 9

// The test frames' source addresses: the hosts never use them.
var (
	testSrc4 = net.IPv4(198, 18, 0, 1)
	testSrc6 = net.ParseIP("2001:db8::1")
)

// ipv4Frame is a UDP frame with the given TTL whose header checksum is
// wantCsum when that is reachable by choosing the IP ID (it is for any value
// but 0xffff), else a random one.
func ipv4Frame(dst, src net.HardwareAddr, idx uint32, ttl uint8, wantCsum uint16) []byte {
	f := make([]byte, header.EthernetMinimumSize+header.IPv4MinimumSize+header.UDPMinimumSize+16)
	header.EncodeEthernet(f, [6]byte(dst), [6]byte(src), header.EtherTypeIPv4)
	ip := header.IPv4(f[header.EthernetMinimumSize:])
	header.EncodeIPv4(ip, header.IPv4Fields{TotalLength: uint16(len(ip)), TTL: ttl, Protocol: header.IPv4ProtocolUDP,
		Src: [4]byte(testSrc4.To4()), Dst: [4]byte{198, 18, 1, 2}})
	// With ID 0 the checksum is c0 = ^sum0; with ID id it is ^(sum0 + id),
	// so id = ^wantCsum - sum0 = ^wantCsum + c0 (ones' complement).
	ip.SetID(header.ChecksumCombine(^wantCsum, ip.Checksum()))
	ip.UpdateChecksum()
	udp := f[header.EthernetMinimumSize+header.IPv4MinimumSize:]
	header.EncodeUDP(udp, header.UDPFields{SrcPort: 40000, DstPort: testPort, Length: uint16(len(udp))})
	binary.BigEndian.PutUint32(udp[header.UDPMinimumSize:], idx)
	return f
}

// ipv6Frame is a UDP (or, with icmp, an ICMPv6) frame with the given hop limit.
func ipv6Frame(dst, src net.HardwareAddr, idx uint32, hops uint8, icmp bool) []byte {
	f := make([]byte, header.EthernetMinimumSize+header.IPv6MinimumSize+8+16)
	header.EncodeEthernet(f, [6]byte(dst), [6]byte(src), header.EtherTypeIPv6)
	next := uint8(header.IPv6ProtocolUDP)
	if icmp {
		next = unix.IPPROTO_ICMPV6
	}
	srcIP, dstIP := [16]byte(testSrc6.To16()), [16]byte(net.ParseIP("2001:db8:1::2").To16())
	l4 := f[header.EthernetMinimumSize+header.IPv6MinimumSize:]
	header.EncodeIPv6(f[header.EthernetMinimumSize:], header.IPv6Fields{PayloadLength: uint16(len(l4)), NextHeader: next, HopLimit: hops, Src: srcIP, Dst: dstIP})
	binary.BigEndian.PutUint32(l4[8:], idx)
	if icmp {
		l4[0] = 135 // a Neighbor Solicitation's type; nothing else is needed
		return f
	}
	header.EncodeUDP(l4, header.UDPFields{SrcPort: 40000, DstPort: testPort, Length: uint16(len(l4))})
	// UDP checksum over the pseudo-header, so rcv's stack would accept it.
	pseudo := header.PseudoHeaderChecksumV6(header.IPv6ProtocolUDP, srcIP, dstIP, uint32(len(l4)))
	binary.BigEndian.PutUint16(l4[6:], ^header.Checksum(l4, pseudo))
	return f
}

// testIndex returns the index a test frame carries, or false for any
// other frame (the hosts' own ND, MLD, ...).
func testIndex(f []byte) (uint32, bool) {
	if len(f) < 14 {
		return 0, false
	}
	switch binary.BigEndian.Uint16(f[12:]) {
	case unix.ETH_P_IP:
		if len(f) >= 14+20+12 && net.IP(f[14+12:14+16]).Equal(testSrc4) && f[14+9] == unix.IPPROTO_UDP && binary.BigEndian.Uint16(f[14+20+2:]) == testPort {
			return binary.BigEndian.Uint32(f[14+20+8:]), true
		}
	case unix.ETH_P_IPV6:
		if len(f) >= 14+40+12 && net.IP(f[14+8:14+24]).Equal(testSrc6) &&
			(f[14+6] == unix.IPPROTO_ICMPV6 || binary.BigEndian.Uint16(f[14+40+2:]) == testPort) {
			return binary.BigEndian.Uint32(f[14+40+8:]), true
		}
	}
	return 0, false
}

// sentFrame is one frame the test sends and what it expects of it.
type sentFrame struct {
	b       []byte
	forward bool // the program redirects it (else: passes or drops it)
}

// testFrames is every kind of frame the program must handle.
func testFrames(dst, src net.HardwareAddr) (frames []sentFrame, wantPassed, wantDropped uint64) {
	add := func(b []byte, fwd bool) { frames = append(frames, sentFrame{b, fwd}) }
	idx := func() uint32 { return uint32(len(frames)) }
	// Checksums on both sides of the carry in the incremental update,
	// ordinary ones, and TTLs from the largest to the smallest forwarded.
	for _, c := range []uint16{0xfeff, 0xfefe, 0xff00, 0xff01, 0xfffe, 0x00ff, 0x0000, 0x1234, 0x8000} {
		for _, ttl := range []uint8{255, 64, 2} {
			add(ipv4Frame(dst, src, idx(), ttl, c), true)
		}
	}
	for i := 0; i < 200; i++ {
		add(ipv4Frame(dst, src, idx(), 64, uint16(i*331)), true)
		add(ipv6Frame(dst, src, idx(), 64, false), true)
	}
	add(ipv6Frame(dst, src, idx(), 255, false), true)
	add(ipv6Frame(dst, src, idx(), 2, false), true)
	add(ipv6Frame(dst, src, idx(), 64, true), true) // ICMPv6 but not ND's hop limit
	// Left to the kernel: TTL/hop limit 1 and 0, ND, broadcast.
	add(ipv4Frame(dst, src, idx(), 1, 0x1111), false)
	add(ipv4Frame(dst, src, idx(), 0, 0x1111), false)
	add(ipv6Frame(dst, src, idx(), 1, false), false)
	add(ipv6Frame(dst, src, idx(), 255, true), false)
	add(ipv4Frame(net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, src, idx(), 64, 0x1111), false)
	wantPassed = 5
	// Dropped: too short for the IPv4 header, wrong version, IHL < 5,
	// IPv6 too short.
	short := ipv4Frame(dst, src, idx(), 64, 0x1111)[:14+19]
	add(short, false)
	v5 := ipv4Frame(dst, src, idx(), 64, 0x1111)
	v5[14] = 0x55
	add(v5, false)
	ihl := ipv4Frame(dst, src, idx(), 64, 0x1111)
	ihl[14] = 0x44
	add(ihl, false)
	add(ipv6Frame(dst, src, idx(), 64, false)[:14+39], false)
	wantDropped = 4
	return frames, wantPassed, wantDropped
}

// send writes every frame out of g0.
func send(t *testing.T, tp *topo, frames []sentFrame) {
	t.Helper()
	fd, ifindex := packetSocket(t, tp.gen, "g0")
	for i, f := range frames {
		if err := unix.Sendto(fd, f.b, 0, &unix.SockaddrLinklayer{Ifindex: ifindex}); err != nil {
			t.Fatalf("send frame %d: %v", i, err)
		}
	}
}

// receive collects the test frames arriving at r0 until none has come for
// 300 ms (bounded to 5 s), by index.
func receive(t *testing.T, fd int) map[uint32][]byte {
	t.Helper()
	got := map[uint32][]byte{}
	buf := make([]byte, 2048)
	last, deadline := time.Now(), time.Now().Add(5*time.Second)
	for time.Since(last) < 300*time.Millisecond && time.Now().Before(deadline) {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			t.Fatalf("receive at r0: %v", err)
		}
		if i, ok := testIndex(buf[:n]); ok {
			if _, dup := got[i]; dup {
				t.Errorf("frame %d arrived twice", i)
			}
			got[i] = append([]byte(nil), buf[:n]...)
			last = time.Now()
		}
	}
	return got
}

// checkForwarded compares what arrived with what was sent: MACs rewritten,
// TTL or hop limit one less, a valid IPv4 header checksum, every other byte
// unchanged, and nothing that should have stayed behind.
func checkForwarded(t *testing.T, tp *topo, frames []sentFrame, got map[uint32][]byte) {
	t.Helper()
	forwarded := 0
	for i, f := range frames {
		g, ok := got[uint32(i)]
		if !f.forward {
			if ok {
				t.Errorf("frame %d (% x) should not have been forwarded, but arrived", i, f.b[12:min(len(f.b), 34)])
			}
			continue
		}
		forwarded++
		if !ok {
			t.Errorf("frame %d was not forwarded", i)
			continue
		}
		if len(g) != len(f.b) {
			t.Errorf("frame %d: %d bytes arrived, %d sent", i, len(g), len(f.b))
			continue
		}
		if !bytes.Equal(g[0:6], tp.rcvMAC) || !bytes.Equal(g[6:12], tp.doutMAC) {
			t.Errorf("frame %d: MACs %v > %v, want %v > %v", i, net.HardwareAddr(g[6:12]), net.HardwareAddr(g[0:6]), tp.doutMAC, tp.rcvMAC)
		}
		want := append([]byte(nil), f.b...)
		copy(want[0:], tp.rcvMAC)
		copy(want[6:], tp.doutMAC)
		if binary.BigEndian.Uint16(f.b[12:]) == unix.ETH_P_IP {
			if g[14+8] != f.b[14+8]-1 {
				t.Errorf("frame %d: TTL %d, sent %d", i, g[14+8], f.b[14+8])
			}
			if s := header.Checksum(g[14:14+20], 0); s != 0xffff {
				t.Errorf("frame %d: IPv4 header checksum %#04x (sent %#04x) is invalid: header sums to %#04x",
					i, binary.BigEndian.Uint16(g[14+10:]), binary.BigEndian.Uint16(f.b[14+10:]), s)
			}
			// And the very value a full recomputation gives (0x0000, never
			// 0xffff, for a header summing to 0xffff), as ip_decrease_ttl.
			want[14+8]--
			header.IPv4(want[14:]).UpdateChecksum()
		} else {
			if g[14+7] != f.b[14+7]-1 {
				t.Errorf("frame %d: hop limit %d, sent %d", i, g[14+7], f.b[14+7])
			}
			want[14+7]--
		}
		if !bytes.Equal(g, want) {
			t.Errorf("frame %d: arrived\n% x\nwant\n% x", i, g, want)
		}
	}
	t.Logf("%d of %d frames forwarded as expected", len(got), forwarded)
}

// start runs Start inside the dut namespace and closes the forwarder at
// the end of the test.
func start(t *testing.T, tp *topo, o Options) *Forwarder {
	t.Helper()
	var f *Forwarder
	if err := tp.dut.Do(func() (err error) {
		f, err = Start(o)
		return err
	}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func xdpAttached(t *testing.T, ns *netnstest.NS, name string) bool {
	t.Helper()
	return strings.Contains(ns.Run("ip", "link", "show", "dev", name), "xdp")
}

// TestForward sends every kind of frame through the forwarder, in each
// mode, and checks the bytes that arrive, the counters and the detach.
func TestForward(t *testing.T) {
	for _, mode := range []Mode{ModeNative, ModeGeneric} {
		t.Run(string(mode), func(t *testing.T) {
			tp := newTopo(t, true)
			f := start(t, tp, Options{In: "din", Out: "dout", DstMAC: tp.rcvMAC, Mode: mode})
			if !xdpAttached(t, tp.dut, "din") {
				t.Fatal("no XDP program on din after Start")
			}
			if xdpAttached(t, tp.dut, "dout") {
				t.Fatal("XDP program on dout without Both")
			}
			frames, wantPassed, wantDropped := testFrames(tp.dinMAC, tp.genMAC)
			rfd, _ := packetSocket(t, tp.rcv, "r0")
			send(t, tp, frames)
			got := receive(t, rfd)
			checkForwarded(t, tp, frames, got)

			c, err := f.Counters()
			if err != nil {
				t.Fatal(err)
			}
			wantRedirected := uint64(0)
			for _, f := range frames {
				if f.forward {
					wantRedirected++
				}
			}
			// The hosts' own IPv6 ND/MLD (multicast) adds to passed.
			if c.Redirected != wantRedirected || c.Passed < wantPassed || c.Dropped != wantDropped {
				t.Errorf("counters %+v, want redirected %d, passed ≥ %d, dropped %d", c, wantRedirected, wantPassed, wantDropped)
			}
			if err := f.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if xdpAttached(t, tp.dut, "din") {
				t.Fatal("XDP program still on din after Close")
			}
		})
	}
}

// TestNativeRedirectNeedsPeerNAPI pins down the kernel behaviour the
// package doc describes: in native mode, frames redirected into a veth
// whose peer has neither GRO nor an XDP program vanish (the program counts
// them redirected), and an XDP program on the output veth (Both) does not
// change that; generic mode delivers them.
func TestNativeRedirectNeedsPeerNAPI(t *testing.T) {
	for _, tc := range []struct {
		mode    Mode
		both    bool
		deliver bool
	}{
		{ModeNative, false, false},
		{ModeNative, true, false},
		{ModeGeneric, false, true},
	} {
		t.Run(fmt.Sprintf("%s/both=%v", tc.mode, tc.both), func(t *testing.T) {
			tp := newTopo(t, false)
			f := start(t, tp, Options{In: "din", Out: "dout", DstMAC: tp.rcvMAC, Mode: tc.mode, Both: tc.both})
			if hasNote := len(f.Notes()) > 0; hasNote != (tc.mode == ModeNative) {
				t.Errorf("Notes() = %q; want the veth peer advice exactly in native mode", f.Notes())
			}
			if tc.both && !xdpAttached(t, tp.dut, "dout") {
				t.Fatal("Both: no XDP program on dout")
			}
			var frames []sentFrame
			for i := 0; i < 50; i++ {
				frames = append(frames, sentFrame{ipv4Frame(tp.dinMAC, tp.genMAC, uint32(i), 64, uint16(i)), true})
			}
			rfd, _ := packetSocket(t, tp.rcv, "r0")
			send(t, tp, frames)
			got := receive(t, rfd)
			c, err := f.Counters()
			if err != nil {
				t.Fatal(err)
			}
			if c.Redirected != 50 {
				t.Errorf("redirected %d, want 50", c.Redirected)
			}
			if tc.deliver && len(got) != 50 || !tc.deliver && len(got) != 0 {
				t.Errorf("%d of 50 redirected frames arrived; want %v", len(got), map[bool]string{true: "all", false: "none"}[tc.deliver])
			}
			_ = f.Close()
			if xdpAttached(t, tp.dut, "din") || xdpAttached(t, tp.dut, "dout") {
				t.Fatal("XDP program left attached after Close")
			}
		})
	}
}

// TestStartErrors: bad options and interfaces that refuse native XDP give
// errors that say why, and leave nothing attached.
func TestStartErrors(t *testing.T) {
	tp := newTopo(t, true)
	mac := tp.rcvMAC
	tp.gen.Run("ip", "link", "set", "g0", "mtu", "4000") // din's peer: native XDP refuses (ERANGE)
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{In: "nosuch", Out: "dout", DstMAC: mac}, `input interface "nosuch"`},
		{Options{In: "din", Out: "nosuch", DstMAC: mac}, `output interface "nosuch"`},
		{Options{In: "din", Out: "dout"}, "destination MAC"},
		{Options{In: "din", Out: "dout", DstMAC: mac, Mode: "fast"}, `unknown XDP mode "fast"`},
		{Options{In: "din", Out: "dout", DstMAC: mac}, "MTU must be at most 3506"},
	} {
		err := tp.dut.Do(func() error {
			f, err := Start(tc.o)
			if err == nil {
				f.Close()
			}
			return err
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Start(%+v) = %v, want an error containing %q", tc.o, err, tc.want)
		}
	}
	if xdpAttached(t, tp.dut, "din") {
		t.Error("XDP program left on din after failed Starts")
	}
}

// TestCommand runs `bench xdpfwd` the way the benchmark does, inside the
// dut namespace: it prints "ready", forwards, and on SIGTERM detaches,
// prints its counters as JSON and exits 0.
func TestCommand(t *testing.T) {
	tp := newTopo(t, true)
	bin := filepath.Join(t.TempDir(), "bench")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/nexthop-router/nexthop/bench/cmd/bench").CombinedOutput(); err != nil {
		t.Fatalf("go build bench: %v\n%s", err, out)
	}
	cmd := tp.dut.Command(bin, "xdpfwd", "-in", "din", "-out", "dout", "-dst-mac", tp.rcvMAC.String())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := false
	defer func() {
		if !done {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("first line %q, want ready; stderr: %s", lines.Text(), stderr.String())
	}
	if !xdpAttached(t, tp.dut, "din") {
		t.Fatal("no XDP program on din after ready")
	}
	frames, wantPassed, wantDropped := testFrames(tp.dinMAC, tp.genMAC)
	rfd, _ := packetSocket(t, tp.rcv, "r0")
	send(t, tp, frames)
	checkForwarded(t, tp, frames, receive(t, rfd))

	// `ip netns exec` execs the binary, so the signal reaches it directly.
	if err := cmd.Process.Signal(unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for lines.Scan() {
		rest = append(rest, lines.Text())
	}
	err = cmd.Wait()
	done = true
	if err != nil {
		t.Fatalf("exit: %v; stderr: %s", err, stderr.String())
	}
	if len(rest) != 1 {
		t.Fatalf("after SIGTERM printed %q, want one JSON line", rest)
	}
	var c Counters
	dec := json.NewDecoder(strings.NewReader(rest[0]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("counters line %q: %v", rest[0], err)
	}
	var wantRedirected uint64
	for _, f := range frames {
		if f.forward {
			wantRedirected++
		}
	}
	if c.Redirected != wantRedirected || c.Passed < wantPassed || c.Dropped != wantDropped {
		t.Errorf("counters %s, want redirected %d, passed ≥ %d, dropped %d", rest[0], wantRedirected, wantPassed, wantDropped)
	}
	if xdpAttached(t, tp.dut, "din") {
		t.Fatal("XDP program still on din after the command exited")
	}
	if !strings.Contains(stderr.String(), "gro on") {
		t.Errorf("stderr %q does not give the veth peer advice", stderr.String())
	}
}

// TestRate measures roughly how many 58-byte IPv4 frames per second the
// forwarder delivers from a single plain write(2) sender (not asserted; the
// sender is the bottleneck well before the forwarder). Run it with
// XDPFWD_RATE=1 go test -run TestRate -v.
func TestRate(t *testing.T) {
	if os.Getenv("XDPFWD_RATE") == "" {
		t.Skip("a measurement: set XDPFWD_RATE=1 to run it")
	}
	for _, mode := range []Mode{ModeNative, ModeGeneric} {
		t.Run(string(mode), func(t *testing.T) {
			tp := newTopo(t, true)
			f := start(t, tp, Options{In: "din", Out: "dout", DstMAC: tp.rcvMAC, Mode: mode})
			fd, _ := packetSocket(t, tp.gen, "g0")
			frame := ipv4Frame(tp.dinMAC, tp.genMAC, 0, 64, 0x1234)
			rx := func() uint64 {
				var v uint64
				out := tp.rcv.Run("cat", "/sys/class/net/r0/statistics/rx_packets")
				fmt.Sscan(out, &v)
				return v
			}
			before := rx()
			var sent uint64
			start := time.Now()
			for time.Since(start) < 2*time.Second {
				for range 256 {
					if _, err := unix.Write(fd, frame); err == nil {
						sent++
					}
				}
			}
			elapsed := time.Since(start)
			time.Sleep(100 * time.Millisecond)
			got := rx() - before
			c, _ := f.Counters()
			t.Logf("%s: sent %.2f Mpps, delivered %.2f Mpps (%d of %d), counters %+v",
				mode, float64(sent)/elapsed.Seconds()/1e6, float64(got)/elapsed.Seconds()/1e6, got, sent, c)
		})
	}
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}
