//go:build linux

package packetmmap_test

import (
	"testing"

	"github.com/nexthop-router/nexthop/internal/netnstest"
	"github.com/nexthop-router/nexthop/link/packetmmap"
	"github.com/nexthop-router/nexthop/stack"
)

// TestAcceptsGSOFollowsEthtool: the GSO types the endpoint hands the kernel
// whole follow the device's segmentation offloads as `ethtool -K` sets them,
// after RefreshOffloads (the router calls it on each RTM_NEWLINK).
func TestAcceptsGSOFollowsEthtool(t *testing.T) {
	netnstest.RequireRoot(t)
	rns := netnstest.New(t, "pmo")
	hns := netnstest.New(t, "pmoh")
	netnstest.Veth(t, rns, "r0", hns, "h0")
	open := func(o packetmmap.Options) *packetmmap.Endpoint {
		t.Helper()
		var ep *packetmmap.Endpoint
		if err := rns.Do(func() (err error) {
			ep, err = packetmmap.New(o)
			return err
		}); err != nil {
			t.Fatalf("packetmmap.New(%+v): %v", o, err)
		}
		t.Cleanup(ep.Close)
		return ep
	}
	ep := open(packetmmap.Options{Interface: "r0", RXFrames: 16, TXFrames: 16})
	check := func(step string, v4, v6, udp bool) {
		t.Helper()
		for _, c := range []struct {
			t    stack.GSOType
			want bool
		}{{stack.GSOTCPv4, v4}, {stack.GSOTCPv6, v6}, {stack.GSOUDPL4, udp}, {stack.GSONone, false}, {stack.GSOSW, false}} {
			if got := ep.DeviceGSO(c.t); got != c.want {
				t.Errorf("%s: DeviceGSO(%v) = %v, want %v\n%s", step, c.t, got, c.want, rns.Run("ethtool", "-k", "r0"))
			}
			// The kernel segments what the device does not (the
			// gso sockets), so the stack may hand over any
			// TCP or UDP super-packet while the endpoint is open.
			wantAccept := c.t == stack.GSOTCPv4 || c.t == stack.GSOTCPv6 || c.t == stack.GSOUDPL4
			if step == "closed" {
				wantAccept = false
			}
			if got := ep.AcceptsGSO(c.t); got != wantAccept {
				t.Errorf("%s: AcceptsGSO(%v) = %v, want %v", step, c.t, got, wantAccept)
			}
		}
	}
	refresh := func() {
		t.Helper()
		if err := ep.RefreshOffloads(); err != nil {
			t.Fatalf("RefreshOffloads: %v", err)
		}
	}
	check("veth defaults", true, true, true)

	rns.Run("ethtool", "-K", "r0", "tso", "off")
	check("tso off, not refreshed yet", true, true, true)
	refresh()
	check("tso off", false, false, true)

	rns.Run("ethtool", "-K", "r0", "tx-tcp6-segmentation", "on", "tx-udp-segmentation", "off")
	refresh()
	check("only tcp6 and no udp segmentation", false, true, false)

	rns.Run("ethtool", "-K", "r0", "tso", "on", "tx-udp-segmentation", "on")
	refresh()
	check("tso on again", true, true, true)

	// Turning TX checksumming off takes TSO with it (the kernel's
	// netdev_fix_features); the active bits say so.
	rns.Run("ethtool", "-K", "r0", "tx", "off")
	refresh()
	check("tx checksum off", false, false, false)

	// Without vnet headers nothing goes to the kernel as a super-packet.
	rns.Run("ethtool", "-K", "r0", "tx", "on", "tso", "on")
	if nv := open(packetmmap.Options{Interface: "r0", RXFrames: 16, TXFrames: 16, NoVnetHdr: true}); nv.AcceptsGSO(stack.GSOTCPv4) || nv.DeviceGSO(stack.GSOTCPv4) {
		t.Error("NoVnetHdr endpoint: AcceptsGSO or DeviceGSO(tcpv4) = true, want false")
	}
	refresh()
	check("tx and tso on", true, true, true)
	ep.Close()
	check("closed", false, false, false)
	if err := ep.RefreshOffloads(); err == nil {
		t.Error("RefreshOffloads after Close: no error")
	}
}
