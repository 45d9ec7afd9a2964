// Package netnstest gives root-only integration tests their own network
// namespaces: unique names per run, commands run inside them, Go code run
// on a thread switched into them, and removal even when a test fails.
package netnstest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// RequireRoot skips the test, saying why, unless it runs as root.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("integration test: needs root (network namespaces, veth, AF_PACKET); run `make test` as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		tb.Skip("integration test: needs iproute2's `ip` (make deps)")
	}
}

// NS is a network namespace made for one test.
type NS struct {
	Name string
	tb   testing.TB
}

// UniqueSuffix is a short random string for names that must not collide
// between parallel test packages (interface names are limited to 15 bytes).
func UniqueSuffix() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// New creates a namespace named "nh<tag>-<random>", with loopback up, and
// removes it (and with it every interface inside) when the test ends.
func New(tb testing.TB, tag string) *NS {
	tb.Helper()
	name := "nh" + tag + "-" + UniqueSuffix()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		tb.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	ns := &NS{Name: name, tb: tb}
	tb.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	ns.Run("ip", "link", "set", "lo", "up")
	return ns
}

// Run runs a command inside the namespace and fails the test on error.
func (ns *NS) Run(args ...string) string {
	ns.tb.Helper()
	out, err := ns.Try(args...)
	if err != nil {
		ns.tb.Fatalf("in %s: %s: %v\n%s", ns.Name, strings.Join(args, " "), err, out)
	}
	return out
}

// Try runs a command inside the namespace and returns its combined output.
func (ns *NS) Try(args ...string) (string, error) {
	full := append([]string{"netns", "exec", ns.Name}, args...)
	out, err := exec.Command("ip", full...).CombinedOutput()
	return string(out), err
}

// Command prepares a command to run inside the namespace.
func (ns *NS) Command(args ...string) *exec.Cmd {
	full := append([]string{"netns", "exec", ns.Name}, args...)
	return exec.Command("ip", full...)
}

// Do runs f on an OS thread switched into the namespace, so sockets f opens
// belong to it. The thread is switched back afterwards; if that fails it
// stays locked, so the runtime discards it rather than reuse it.
func (ns *NS) Do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- fmt.Errorf("get current netns: %w", err)
			return
		}
		defer orig.Close()
		target, err := netns.GetFromName(ns.Name)
		if err != nil {
			errc <- fmt.Errorf("open netns %s: %w", ns.Name, err)
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			errc <- fmt.Errorf("enter netns %s: %w", ns.Name, err)
			return
		}
		ferr := f()
		if err := netns.Set(orig); err != nil {
			errc <- fmt.Errorf("leave netns %s: %w (thread left locked)", ns.Name, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// Veth creates a veth pair a (in ns) — b (in peer), both up.
func Veth(tb testing.TB, ns *NS, a string, peer *NS, b string) {
	tb.Helper()
	ns.Run("ip", "link", "add", a, "type", "veth", "peer", "name", b, "netns", peer.Name)
	ns.Run("ip", "link", "set", a, "up")
	peer.Run("ip", "link", "set", b, "up")
}

// MAC returns the link-layer address of interface name inside ns, so a
// test can address frames to a port it did not configure itself.
func (ns *NS) MAC(tb testing.TB, name string) net.HardwareAddr {
	tb.Helper()
	var mac net.HardwareAddr
	if err := ns.Do(func() error {
		ifc, err := net.InterfaceByName(name)
		if err == nil {
			mac = ifc.HardwareAddr
		}
		return err
	}); err != nil {
		tb.Fatalf("MAC of %s in %s: %v", name, ns.Name, err)
	}
	return mac
}

// PacketSocket opens an AF_PACKET socket for EtherType proto (host order;
// unix.ETH_P_ALL for every frame) bound to interface dev inside ns, so a
// test can see the frames on the wire; it is closed when the test ends.
// With timeout > 0 reads give up after it.
func (ns *NS) PacketSocket(tb testing.TB, dev string, proto uint16, timeout time.Duration) int {
	tb.Helper()
	nproto := proto<<8 | proto>>8
	fd := -1
	if err := ns.Do(func() error {
		ifc, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(nproto)); err != nil {
			return err
		}
		if timeout > 0 {
			tv := unix.NsecToTimeval(timeout.Nanoseconds())
			if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
				return err
			}
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: nproto, Ifindex: ifc.Index})
	}); err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		tb.Fatalf("packet socket on %s in %s: %v", dev, ns.Name, err)
	}
	tb.Cleanup(func() { unix.Close(fd) })
	return fd
}
