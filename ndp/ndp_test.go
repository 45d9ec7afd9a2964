package ndp_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/nexthop-router/nexthop/ndp"
	"github.com/nexthop-router/nexthop/stack"
)

func TestAddresses(t *testing.T) {
	a := netip.MustParseAddr("2001:db8::1:2345:6789").As16()
	if got, want := netip.AddrFrom16(ndp.SolicitedNode(a)), netip.MustParseAddr("ff02::1:ff45:6789"); got != want {
		t.Errorf("SolicitedNode = %v, want %v", got, want)
	}
	if !ndp.IsSolicitedNode(ndp.SolicitedNode(a)) || ndp.IsSolicitedNode(ndp.AllNodes.As16()) {
		t.Errorf("IsSolicitedNode wrong")
	}
	if got, want := ndp.MulticastLinkAddress(ndp.SolicitedNode(a)), (stack.LinkAddress{0x33, 0x33, 0xff, 0x45, 0x67, 0x89}); got != want {
		t.Errorf("MulticastLinkAddress = %v, want %v", got, want)
	}
	mac := stack.LinkAddress{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	if got, want := ndp.LinkLocalEUI64(mac), netip.MustParseAddr("fe80::5054:ff:fe12:3456"); got != want {
		t.Errorf("LinkLocalEUI64 = %v, want %v", got, want)
	}
	s1, s2 := ndp.LinkLocalStable("eth1", mac), ndp.LinkLocalStable("eth2", mac)
	if !s1.IsLinkLocalUnicast() || s1 == s2 || s1 != ndp.LinkLocalStable("eth1", mac) {
		t.Errorf("LinkLocalStable: %v %v: want distinct, stable, link-local", s1, s2)
	}
}

func TestRAConfigValidate(t *testing.T) {
	p := netip.MustParsePrefix("2001:db8:1::/64")
	tests := []struct {
		name, field string
		c           ndp.RAConfig
	}{
		{"disabled is always valid", "", ndp.RAConfig{MaxInterval: time.Hour * 99}},
		{"defaults", "", ndp.RAConfig{Enabled: true, Prefixes: []ndp.RAPrefix{{Prefix: p}}}},
		{"max too small", "MaxInterval", ndp.RAConfig{Enabled: true, MaxInterval: time.Second}},
		{"min above 0.75 max", "MinInterval", ndp.RAConfig{Enabled: true, MaxInterval: 10 * time.Second, MinInterval: 9 * time.Second}},
		{"lifetime", "RouterLifetime", ndp.RAConfig{Enabled: true, RouterLifetime: 3 * time.Hour}},
		{"link-local prefix", "Prefixes[0]", ndp.RAConfig{Enabled: true, Prefixes: []ndp.RAPrefix{{Prefix: netip.MustParsePrefix("fe80::/64")}}}},
		{"IPv4 prefix", "Prefixes[0]", ndp.RAConfig{Enabled: true, Prefixes: []ndp.RAPrefix{{Prefix: netip.MustParsePrefix("198.18.0.0/24")}}}},
		{"preferred > valid", "Prefixes[0]", ndp.RAConfig{Enabled: true, Prefixes: []ndp.RAPrefix{{Prefix: p, ValidLifetime: time.Hour, PreferredLifetime: 2 * time.Hour}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			if tc.field == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("Validate() = %v, want an error naming %s", err, tc.field)
			}
		})
	}
}
