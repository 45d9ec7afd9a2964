package forwarder_test

import (
	"bufio"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nexthop-router/nexthop/forwarder"
)

// fullConfig uses every key. Line numbers matter: the expected Config
// below records them.
const fullConfig = `interfaces:
  - name: eth1
    addresses: [198.18.0.1/24, "2001:db8:1::1/64", "fe80::1/64"]
    mode: auto
    queues: 4
    mtu: 9000
    router_advertisements:
      interval: 30s
      lifetime: 0s
      prefixes: ["2001:db8:1::/64", "2001:db8:100::/56"]
  - name: eth2
    addresses:
      - 198.19.0.1/30
      - "2001:db8:2::1/64"
      - "fe80::1/64" # link-local: may repeat on another link
    mode: afxdp
  - name: eth3
    mode: packetmmap
    mtu: 576
    addresses: [198.19.1.0/31] # RFC 3021: both /31 addresses are hosts
routes:
  - prefix: 198.18.128.0/17
    via: 198.19.0.2
  - prefix: "::/0"
    via: "fe80::2"
    interface: eth2
  - prefix: 198.18.1.0/24
    interface: eth1
  - prefix: 198.19.128.0/17
    type: blackhole
  - {prefix: 198.19.64.0/18, type: unreachable}
  - {prefix: "2001:db8:dead::/48", type: prohibit}
neighbors:
  - {interface: eth2, address: 198.19.0.2, mac: "02:00:00:00:00:02"}
  - interface: eth2
    address: "fe80::2"
    mac: 02-00-00-00-00-03
kernel_routes: false
ipv4:
  directed_broadcast: true
  icmp_rate_limit: 0
  icmp_burst: 10
ipv6:
  icmp_rate_limit: 200
  icmp_burst: 20
metrics:
  listen: "[::1]:9100"
`

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }

func TestParseConfigFull(t *testing.T) {
	got, err := forwarder.ParseConfig([]byte(fullConfig), "router.yaml")
	if err != nil {
		t.Fatalf("ParseConfig(fullConfig) = %v", err)
	}
	want := &forwarder.Config{
		File: "router.yaml",
		Interfaces: []forwarder.InterfaceConfig{
			{
				Name:      "eth1",
				Addresses: []netip.Prefix{pfx("198.18.0.1/24"), pfx("2001:db8:1::1/64"), pfx("fe80::1/64")},
				Mode:      "auto",
				Queues:    4,
				MTU:       9000,
				RA: &forwarder.RAConfig{
					Enabled:  true,
					Interval: 30 * time.Second,
					Lifetime: 0,
					Prefixes: []netip.Prefix{pfx("2001:db8:1::/64"), pfx("2001:db8:100::/56")},
					Line:     7,
				},
				Line: 2,
			},
			{
				Name:      "eth2",
				Addresses: []netip.Prefix{pfx("198.19.0.1/30"), pfx("2001:db8:2::1/64"), pfx("fe80::1/64")},
				Mode:      "afxdp",
				Line:      11,
			},
			{
				Name:      "eth3",
				Addresses: []netip.Prefix{pfx("198.19.1.0/31")},
				Mode:      "packetmmap",
				MTU:       576,
				Line:      17,
			},
		},
		Routes: []forwarder.RouteConfig{
			{Prefix: pfx("198.18.128.0/17"), Via: addr("198.19.0.2"), Type: "unicast", Line: 22},
			{Prefix: pfx("::/0"), Via: addr("fe80::2"), Interface: "eth2", Type: "unicast", Line: 24},
			{Prefix: pfx("198.18.1.0/24"), Interface: "eth1", Type: "unicast", Line: 27},
			{Prefix: pfx("198.19.128.0/17"), Type: "blackhole", Line: 29},
			{Prefix: pfx("198.19.64.0/18"), Type: "unreachable", Line: 31},
			{Prefix: pfx("2001:db8:dead::/48"), Type: "prohibit", Line: 32},
		},
		Neighbors: []forwarder.NeighborConfig{
			{Interface: "eth2", Address: addr("198.19.0.2"), MAC: [6]byte{2, 0, 0, 0, 0, 2}, Line: 34},
			{Interface: "eth2", Address: addr("fe80::2"), MAC: [6]byte{2, 0, 0, 0, 0, 3}, Line: 35},
		},
		IPv4:    forwarder.IPv4Config{DirectedBroadcast: true, ICMPRateLimit: 0, ICMPBurst: 10},
		IPv6:    forwarder.IPv6Config{ICMPRateLimit: 200, ICMPBurst: 20},
		Metrics: forwarder.MetricsConfig{Listen: "[::1]:9100"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseConfig(fullConfig):\n got %+v\nwant %+v", got, want)
		for i := range min(len(got.Interfaces), len(want.Interfaces)) {
			if !reflect.DeepEqual(got.Interfaces[i], want.Interfaces[i]) {
				t.Errorf("interfaces[%d]:\n got %+v (RA %+v)\nwant %+v (RA %+v)", i, got.Interfaces[i], got.Interfaces[i].RA, want.Interfaces[i], want.Interfaces[i].RA)
			}
		}
	}
}

func TestParseConfigDefaults(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		check      func(t *testing.T, c *forwarder.Config)
	}{
		{"minimal", "interfaces:\n  - name: eth1\n", func(t *testing.T, c *forwarder.Config) {
			want := &forwarder.Config{
				File:       "router.yaml",
				Interfaces: []forwarder.InterfaceConfig{{Name: "eth1", Mode: "auto", Line: 2}},
				IPv4:       forwarder.IPv4Config{ICMPRateLimit: 1000, ICMPBurst: 50},
				IPv6:       forwarder.IPv6Config{ICMPRateLimit: 1000, ICMPBurst: 50},
				Metrics:    forwarder.MetricsConfig{Listen: "127.0.0.1:9469"},
			}
			if !reflect.DeepEqual(c, want) {
				t.Errorf("got %+v\nwant %+v", c, want)
			}
		}},
		{"metrics disabled", "interfaces: [{name: eth1}]\nmetrics:\n  listen: \"\"\n", func(t *testing.T, c *forwarder.Config) {
			if c.Metrics.Listen != "" {
				t.Errorf("Metrics.Listen = %q, want \"\" (disabled)", c.Metrics.Listen)
			}
		}},
		{"null values mean defaults", "interfaces: [{name: eth1, mode: ~}]\nroutes:\nmetrics:\n  listen:\nipv4:\n", func(t *testing.T, c *forwarder.Config) {
			if c.Interfaces[0].Mode != "auto" || c.Metrics.Listen != "127.0.0.1:9469" || c.IPv4.ICMPRateLimit != 1000 || c.Routes != nil {
				t.Errorf("got %+v", c)
			}
		}},
		{"ra block defaults", "interfaces:\n  - name: eth1\n    router_advertisements: {}\n", func(t *testing.T, c *forwarder.Config) {
			want := &forwarder.RAConfig{Enabled: true, Interval: 200 * time.Second, Lifetime: 1800 * time.Second, Line: 3}
			if !reflect.DeepEqual(c.Interfaces[0].RA, want) {
				t.Errorf("RA = %+v, want %+v", c.Interfaces[0].RA, want)
			}
		}},
		{"ra default lifetime follows a long interval", "interfaces:\n  - name: eth1\n    router_advertisements: {interval: 1800s}\n", func(t *testing.T, c *forwarder.Config) {
			if ra := c.Interfaces[0].RA; ra.Lifetime < ra.Interval {
				t.Errorf("RA lifetime %v < interval %v", ra.Lifetime, ra.Interval)
			}
		}},
		{"ra disabled", "interfaces:\n  - name: eth1\n    router_advertisements: {enabled: false}\n", func(t *testing.T, c *forwarder.Config) {
			if c.Interfaces[0].RA == nil || c.Interfaces[0].RA.Enabled {
				t.Errorf("RA = %+v, want present and disabled", c.Interfaces[0].RA)
			}
		}},
		{"anchors and aliases", "interfaces:\n  - &e1 {name: eth1, addresses: [198.18.0.1/24]}\nroutes:\n  - {prefix: 198.19.0.0/16, via: 198.18.0.2}\n", func(t *testing.T, c *forwarder.Config) {
			if len(c.Interfaces) != 1 || len(c.Routes) != 1 {
				t.Errorf("got %+v", c)
			}
		}},
		{"trailing empty document", "interfaces: [{name: eth1}]\n---\n", func(t *testing.T, c *forwarder.Config) {
			if len(c.Interfaces) != 1 {
				t.Errorf("got %+v", c)
			}
		}},
		{"section order does not matter", "routes:\n  - {prefix: 198.19.0.0/16, interface: eth1}\ninterfaces: [{name: eth1}]\n", func(t *testing.T, c *forwarder.Config) {
			if c.Routes[0].Interface != "eth1" {
				t.Errorf("got %+v", c.Routes)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := forwarder.ParseConfig([]byte(tc.yaml), "router.yaml")
			if err != nil {
				t.Fatalf("ParseConfig = %v", err)
			}
			tc.check(t, c)
		})
	}
}

// iface is a valid interfaces block that bad route and neighbour cases
// share; it takes lines 1-7.
const iface = `interfaces:
  - name: eth1
    addresses: [198.18.0.1/24, "2001:db8:1::1/64"]
  - name: eth2
    addresses:
      - 198.19.0.1/24
      - "2001:db8:2::1/64"
`

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		// Structure.
		{"empty file", "", `router.yaml: no interfaces configured`},
		{"comments only", "# nothing yet\n", `router.yaml: no interfaces configured`},
		{"empty interfaces", "interfaces: []\n", `router.yaml:1: interfaces: no interfaces configured`},
		{"no interfaces key", "routes: []\n", `router.yaml:1: no interfaces configured`},
		{"top level is a list", "- name: eth1\n", `router.yaml:1: want a mapping of keys (interfaces, routes, neighbors, kernel_routes, ipv4, ipv6, metrics), got a list`},
		{"second document", "interfaces: [{name: eth1}]\n---\ninterfaces: [{name: eth2}]\n", `router.yaml:2: a second YAML document`},
		{"second document after an empty one", "interfaces: [{name: eth1}]\n---\n---\nroutes: []\n", `router.yaml:3: a second YAML document`},
		{"syntax error unclosed list", "interfaces:\n  - name: eth1\n    addresses: [198.18.0.1/24\n", `router.yaml:3: YAML syntax: did not find expected ',' or ']'`},
		{"syntax error on line 1", "interfaces: name: eth1\n", `router.yaml:1: YAML syntax: mapping values are not allowed in this context`},
		{"syntax error tab", "interfaces:\n\t- name: eth1\n", `router.yaml:2: YAML syntax: found character that cannot start any token`},
		{"unknown top-level key", "interfaces: [{name: eth1}]\nneighbours: []\n", `router.yaml:2: unknown key "neighbours" (known: interfaces, routes, neighbors, kernel_routes, ipv4, ipv6, metrics); did you mean "neighbors"?`},
		{"unknown interface key", "interfaces:\n  - name: eth1\n    addresses: [198.18.0.1/24]\n  - name: eth2\n    mode: auto\n    queues: 1\n    adresses: [198.19.0.1/24]\n",
			`router.yaml:7: interfaces[1]: unknown key "adresses" (known: name, addresses, mode, queues, mtu, router_advertisements)`},
		{"unknown ra key", "interfaces:\n  - name: eth1\n    router_advertisements:\n      prefix: [\"2001:db8:1::/64\"]\n", `router.yaml:4: interfaces[0].router_advertisements: unknown key "prefix" (known: enabled, interval, lifetime, prefixes); did you mean "prefixes"?`},
		{"duplicate key", "interfaces:\n  - name: eth1\n    mode: auto\n    mode: afxdp\n", `router.yaml:4: interfaces[0]: duplicate key "mode" (first at line 3)`},
		{"interface item not a mapping", "interfaces:\n  - eth1\n", `router.yaml:2: interfaces[0]: want a mapping of keys (name, addresses, mode, queues, mtu, router_advertisements), got "eth1"`},

		// Interfaces.
		{"missing name", "interfaces:\n  - mode: auto\n", `router.yaml:2: interfaces[0]: missing "name"`},
		{"empty name", "interfaces:\n  - name: \"\"\n", `router.yaml:2: interfaces[0].name: the interface name is empty`},
		{"name too long", "interfaces:\n  - name: enp0s31f6-uplink0\n", `router.yaml:2: interfaces[0].name: "enp0s31f6-uplink0" is longer than Linux's limit of 15 bytes (IFNAMSIZ-1)`},
		{"name with slash", "interfaces:\n  - name: eth/1\n", `router.yaml:2: interfaces[0].name: "eth/1" is not a valid interface name`},
		{"duplicate name", "interfaces:\n  - name: eth1\n  - name: eth1\n", `router.yaml:3: interfaces[1].name: "eth1" is already configured at line 2 (interfaces[0])`},
		{"bad mode", "interfaces:\n  - name: eth1\n    mode: xdp\n", `router.yaml:3: interfaces[0].mode: "xdp" is not a mode (want one of auto, packetmmap, afxdp)`},
		{"negative queues", "interfaces:\n  - name: eth1\n    queues: -1\n", `router.yaml:3: interfaces[0].queues: -1 is negative (0 means the default: for afxdp every RX queue in use, for packetmmap one per CPU the router may run on)`},
		{"queues not a number", "interfaces:\n  - name: eth1\n    queues: four\n", `router.yaml:3: interfaces[0].queues: want a whole number, got "four"`},
		{"mtu below IPv6 minimum", "interfaces:\n  - name: eth1\n    addresses: [\"2001:db8::1/64\"]\n    mtu: 1000\n", `router.yaml:4: interfaces[0].mtu: 1000 is below the IPv6 minimum of 1280 (RFC 8200 §5)`},
		{"mtu below IPv4 minimum", "interfaces:\n  - name: eth1\n    mtu: 40\n", `router.yaml:3: interfaces[0].mtu: 40 is below the IPv4 minimum of 68 (RFC 791)`},
		{"mtu too big", "interfaces:\n  - name: eth1\n    mtu: 65536\n", `router.yaml:3: interfaces[0].mtu: 65536 is out of range`},

		// Addresses.
		{"addresses is a string", "interfaces:\n  - name: eth1\n    addresses: 198.18.0.1/24\n", `router.yaml:3: interfaces[0].addresses: want a list such as [198.18.0.1/24, "2001:db8::1/64"], got "198.18.0.1/24"`},
		{"invalid prefix", "interfaces:\n  - name: eth1\n    addresses: [\"2001:db8::1/64\", 198.18.0.300/24]\n", `router.yaml:3: interfaces[0].addresses[1]: "198.18.0.300/24" is not a valid prefix (want e.g. 198.18.0.1/24)`},
		{"bare address", "interfaces:\n  - name: eth1\n    addresses: [198.18.0.1]\n", `router.yaml:3: interfaces[0].addresses[0]: "198.18.0.1" has no prefix length (want 198.18.0.1/32 for a single address`},
		{"bare IPv6 address", "interfaces:\n  - name: eth1\n    addresses: [\"2001:db8::1\"]\n", `"2001:db8::1" has no prefix length (want 2001:db8::1/128 for a single address`},
		{"duplicate address", "interfaces:\n  - name: eth1\n    addresses:\n      - 198.18.0.1/24\n  - name: eth2\n    addresses:\n      - 198.18.0.1/25\n", `router.yaml:7: interfaces[1].addresses[0]: 198.18.0.1 is already assigned at line 4 (interfaces[0].addresses[0])`},
		{"duplicate link-local on one interface", "interfaces:\n  - name: eth1\n    addresses: [\"fe80::1/64\", \"fe80::1/10\"]\n", `router.yaml:3: interfaces[0].addresses[1]: fe80::1 is already assigned at line 3 (interfaces[0].addresses[0])`},
		{"network address", "interfaces:\n  - name: eth1\n    addresses: [198.18.0.0/24]\n", `router.yaml:3: interfaces[0].addresses[0]: 198.18.0.0 is the network address of 198.18.0.0/24; use a host address such as 198.18.0.1/24`},
		{"broadcast address", "interfaces:\n  - name: eth1\n    addresses: [198.18.0.255/24]\n", `router.yaml:3: interfaces[0].addresses[0]: 198.18.0.255 is the broadcast address of 198.18.0.0/24`},
		{"IPv4-mapped IPv6", "interfaces:\n  - name: eth1\n    addresses: [\"::ffff:198.18.0.1/120\"]\n", `router.yaml:3: interfaces[0].addresses[0]: "::ffff:198.18.0.1/120" is an IPv4-mapped IPv6 prefix; write it as IPv4 (198.18.0.1/24)`},
		{"IPv6 subnet-router anycast", "interfaces:\n  - name: eth1\n    addresses: [\"2001:db8::/64\"]\n", `router.yaml:3: interfaces[0].addresses[0]: 2001:db8:: is the Subnet-Router anycast address of 2001:db8::/64`},
		{"multicast address", "interfaces:\n  - name: eth1\n    addresses: [224.0.0.5/24]\n", `router.yaml:3: interfaces[0].addresses[0]: 224.0.0.5 is a multicast address, not an interface address`},

		// Router advertisements.
		{"ra interval too short", "interfaces:\n  - name: eth1\n    router_advertisements: {interval: 2s}\n", `router.yaml:3: interfaces[0].router_advertisements.interval: 2s is out of range (RFC 4861 §6.2.1: MaxRtrAdvInterval is 4s..1800s)`},
		{"ra interval without unit", "interfaces:\n  - name: eth1\n    router_advertisements: {interval: 200}\n", `router.yaml:3: interfaces[0].router_advertisements.interval: want a duration with a unit such as 200s, got number 200`},
		{"ra lifetime below interval", "interfaces:\n  - name: eth1\n    router_advertisements:\n      interval: 600s\n      lifetime: 300s\n", `router.yaml:5: interfaces[0].router_advertisements.lifetime: 5m0s is out of range (RFC 4861 §6.2.1: 0, or the interval 10m0s..9000s)`},
		{"ra IPv4 prefix", "interfaces:\n  - name: eth1\n    router_advertisements:\n      prefixes: [198.18.0.0/24]\n", `router.yaml:4: interfaces[0].router_advertisements.prefixes[0]: 198.18.0.0/24 is not an IPv6 prefix`},
		{"ra enabled not bool", "interfaces:\n  - name: eth1\n    router_advertisements: {enabled: \"yes\"}\n", `router.yaml:3: interfaces[0].router_advertisements.enabled: want true or false, got "yes"`},

		// Routes.
		{"route missing prefix", iface + "routes:\n  - via: 198.19.0.2\n", `router.yaml:9: routes[0]: missing "prefix"`},
		{"route unmasked", iface + "routes:\n  - prefix: 198.18.0.1/15\n    interface: eth1\n", `router.yaml:9: routes[0].prefix: "198.18.0.1/15" has host bits set; did you mean 198.18.0.0/15?`},
		{"route bare address", iface + "routes:\n  - prefix: 198.18.5.5\n    via: 198.19.0.2\n", `router.yaml:9: routes[0].prefix: "198.18.5.5" has no prefix length (want 198.18.5.5/32 for a single address`},
		{"route needs via or interface", iface + "routes:\n  - prefix: 198.18.128.0/17\n", `router.yaml:9: routes[0]: a unicast route needs via (the next hop) or interface (on-link)`},
		{"route via wrong family", iface + "routes:\n  - prefix: \"2001:db8:9::/48\"\n    via: 198.19.0.2\n", `router.yaml:10: routes[0].via: next hop 198.19.0.2 is IPv4 but the prefix 2001:db8:9::/48 is IPv6`},
		{"route via not an address", iface + "routes:\n  - prefix: 198.18.128.0/17\n    via: 198.19.0.2/24\n", `router.yaml:10: routes[0].via: "198.19.0.2/24" is a prefix; a next hop is a single address such as 198.19.0.2`},
		{"route via link-local without interface", iface + "routes:\n  - prefix: \"::/0\"\n    via: \"fe80::2\"\n", `router.yaml:10: routes[0].via: next hop fe80::2 is link-local; add ` + "`interface:`"},
		{"route via own address", iface + "routes:\n  - prefix: 198.18.128.0/17\n    via: 198.19.0.1\n", `router.yaml:10: routes[0].via: next hop 198.19.0.1 is this router's own address (line 6, interfaces[1].addresses[0])`},
		{"route unknown interface", iface + "routes:\n  - prefix: 198.18.128.0/17\n    interface: eth9\n", `router.yaml:10: routes[0].interface: "eth9" is not a configured interface (configured: eth1, eth2)`},
		{"route for a connected subnet", iface + "routes:\n  - prefix: 198.19.0.0/24\n    via: 198.18.0.2\n", `router.yaml:9: routes[0].prefix: 198.19.0.0/24 is already routed at line 4 (the connected subnet of interfaces[1] eth2)`},
		{"route via off-subnet next hop", iface + "routes:\n  - prefix: 198.20.0.0/16\n    via: 198.18.99.1\n", `router.yaml:9: routes[0].via: next hop 198.18.99.1 is not on the subnet of any interface`},
		{"duplicate route", iface + "routes:\n  - prefix: 198.18.128.0/17\n    via: 198.19.0.2\n  - prefix: 198.18.128.0/17\n    interface: eth1\n", `router.yaml:11: routes[1].prefix: 198.18.128.0/17 is already routed at line 9 (routes[0])`},
		{"blackhole with via", iface + "routes:\n  - prefix: 198.18.128.0/17\n    type: blackhole\n    via: 198.19.0.2\n", `router.yaml:9: routes[0]: a blackhole route takes neither via nor interface`},
		{"bad route type", iface + "routes:\n  - prefix: 198.18.128.0/17\n    type: drop\n", `router.yaml:10: routes[0].type: "drop" is not a route type (want one of unicast, blackhole, unreachable, prohibit)`},
		{"routes is a mapping", iface + "routes:\n  prefix: 198.18.128.0/17\n", `router.yaml:9: routes: want a list of routes`},

		// Neighbours.
		{"neighbor unknown interface", iface + "neighbors:\n  - {interface: eth3, address: 198.19.0.9, mac: \"02:00:00:00:00:09\"}\n", `router.yaml:9: neighbors[0].interface: "eth3" is not a configured interface (configured: eth1, eth2)`},
		{"neighbor missing mac", iface + "neighbors:\n  - {interface: eth2, address: 198.19.0.9}\n", `router.yaml:9: neighbors[0]: missing "mac"`},
		{"neighbor bad address", iface + "neighbors:\n  - {interface: eth2, address: 198.19.0.999, mac: \"02:00:00:00:00:09\"}\n", `router.yaml:9: neighbors[0].address: "198.19.0.999" is not a valid IP address`},
		{"neighbor multicast mac", iface + "neighbors:\n  - {interface: eth2, address: 198.19.0.9, mac: \"01:00:5e:00:00:01\"}\n", `router.yaml:9: neighbors[0].mac: "01:00:5e:00:00:01" is a multicast or broadcast MAC address`},
		{"neighbor broadcast mac", iface + "neighbors:\n  - {interface: eth2, address: 198.19.0.9, mac: \"ff:ff:ff:ff:ff:ff\"}\n", `is a multicast or broadcast MAC address`},
		{"neighbor zero mac", iface + "neighbors:\n  - {interface: eth2, address: 198.19.0.9, mac: \"00:00:00:00:00:00\"}\n", `router.yaml:9: neighbors[0].mac: "00:00:00:00:00:00" is the all-zero MAC address`},
		{"neighbor EUI-64 mac", iface + "neighbors:\n  - {interface: eth2, address: 198.19.0.9, mac: \"02:00:00:00:00:00:00:09\"}\n", `router.yaml:9: neighbors[0].mac: "02:00:00:00:00:00:00:09" is not a 6-byte Ethernet address`},
		{"neighbor bad mac", iface + "neighbors:\n  - {interface: eth2, address: 198.19.0.9, mac: \"02:00:00:00:00\"}\n", `router.yaml:9: neighbors[0].mac: "02:00:00:00:00" is not a MAC address`},
		{"duplicate neighbor", iface + "neighbors:\n  - {interface: eth2, address: 198.19.0.9, mac: \"02:00:00:00:00:09\"}\n  - {interface: eth2, address: 198.19.0.9, mac: \"02:00:00:00:00:0a\"}\n", `router.yaml:10: neighbors[1].address: 198.19.0.9 on eth2 already has an entry at line 9 (neighbors[0])`},

		// Top-level settings.
		{"kernel_routes true", iface + "kernel_routes: true\n", `router.yaml:8: kernel_routes: mirroring the kernel FIB is not built yet; remove the key or set it to false`},
		{"kernel_routes not bool", iface + "kernel_routes: maybe\n", `router.yaml:8: kernel_routes: want true or false, got "maybe"`},
		{"icmp burst zero", iface + "ipv4:\n  icmp_burst: 0\n", `router.yaml:9: ipv4.icmp_burst: 0 is out of range (1..1000000 errors at once)`},
		{"icmp rate negative", iface + "ipv6:\n  icmp_rate_limit: -5\n", `router.yaml:9: ipv6.icmp_rate_limit: -5 is out of range`},
		{"top-level key nested", "interfaces:\n  - name: eth1\n    kernel_routes: false\n", `router.yaml:3: interfaces[0]: unknown key "kernel_routes" (known: name, addresses, mode, queues, mtu, router_advertisements); kernel_routes belongs at the top level`},
		{"directed_broadcast on ipv6", iface + "ipv6:\n  directed_broadcast: true\n", `router.yaml:9: ipv6: unknown key "directed_broadcast" (known: icmp_rate_limit, icmp_burst)`},
		{"metrics no port", iface + "metrics:\n  listen: localhost\n", `router.yaml:9: metrics.listen: "localhost" is not host:port`},
		{"metrics port out of range", iface + "metrics:\n  listen: 127.0.0.1:70000\n", `router.yaml:9: metrics.listen: "127.0.0.1:70000": port "70000" is not a number in 1..65535`},
		{"metrics port zero", iface + "metrics:\n  listen: \":0\"\n", `port "0" is not a number in 1..65535`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := forwarder.ParseConfig([]byte(tc.yaml), "router.yaml")
			if err == nil {
				t.Fatalf("ParseConfig = %+v, nil; want error containing %q", c, tc.want)
			}
			if c != nil {
				t.Errorf("ParseConfig returned a Config with an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseConfig error:\n  %v\nwant it to contain:\n  %s", err, tc.want)
			}
			var ce *forwarder.ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("errors.As(%v, *ConfigError) = false", err)
			} else if ce.File != "router.yaml" {
				t.Errorf("ConfigError.File = %q, want router.yaml", ce.File)
			}
		})
	}
}

// TestParseConfigManyErrors checks that one run reports every problem,
// ordered by line, with the first one reachable through errors.As, and
// that a bad interface does not cause a second error where it is used.
func TestParseConfigManyErrors(t *testing.T) {
	const y = `routes:
  - {prefix: 198.19.0.0/16, interface: eth-with-a-long-name}
interfaces:
  - name: eth-with-a-long-name
    adresses: []
kernel_routes: true
`
	_, err := forwarder.ParseConfig([]byte(y), "r.yaml")
	if err == nil {
		t.Fatal("ParseConfig = nil error")
	}
	want := `r.yaml:4: interfaces[0].name: "eth-with-a-long-name" is longer than Linux's limit of 15 bytes (IFNAMSIZ-1)
r.yaml:5: interfaces[0]: unknown key "adresses" (known: name, addresses, mode, queues, mtu, router_advertisements); did you mean "addresses"?
r.yaml:6: kernel_routes: mirroring the kernel FIB is not built yet; remove the key or set it to false`
	if err.Error() != want {
		t.Errorf("ParseConfig error:\n%v\nwant:\n%s", err, want)
	}
	var ce *forwarder.ConfigError
	if !errors.As(err, &ce) || ce.Line != 4 || ce.Field != "interfaces[0].name" {
		t.Errorf("errors.As = %+v, want the line 4 error", ce)
	}
}

func TestConfigErrorString(t *testing.T) {
	for _, tc := range []struct {
		e    forwarder.ConfigError
		want string
	}{
		{forwarder.ConfigError{File: "router.yaml", Line: 4, Field: "interfaces[0].addresses[1]", Msg: "bad"}, "router.yaml:4: interfaces[0].addresses[1]: bad"},
		{forwarder.ConfigError{Line: 4, Field: "kernel_routes", Msg: "bad"}, "<config>:4: kernel_routes: bad"},
		{forwarder.ConfigError{File: "r.yaml", Msg: "no interfaces configured"}, "r.yaml: no interfaces configured"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v.Error() = %q, want %q", tc.e, got, tc.want)
		}
	}
}

// goldenBad maps each testdata file to the error it must produce. The
// first line of each file says the same thing, for people and for the
// end-to-end test of the binary; TestConfigTestdata keeps the two in step.
var goldenBad = map[string]string{
	"bad-unknown-key.yaml":       `bad-unknown-key.yaml:7: interfaces[1]: unknown key "adresses" (known: name, addresses, mode, queues, mtu, router_advertisements)`,
	"bad-prefix.yaml":            `bad-prefix.yaml:4: interfaces[0].addresses[1]: "198.18.0.300/24" is not a valid prefix (want e.g. 198.18.0.1/24)`,
	"bad-duplicate-address.yaml": `bad-duplicate-address.yaml:8: interfaces[1].addresses[0]: 198.18.0.1 is already assigned at line 5 (interfaces[0].addresses[0])`,
	"bad-kernel-routes.yaml":     `bad-kernel-routes.yaml:5: kernel_routes: mirroring the kernel FIB is not built yet; remove the key or set it to false`,
	"bad-route-unmasked.yaml":    `bad-route-unmasked.yaml:6: routes[0].prefix: "198.18.0.1/15" has host bits set; did you mean 198.18.0.0/15?`,
}

func TestConfigTestdata(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			// Relative to testdata, so messages read like `router -check`
			// run from that directory.
			t.Chdir("testdata")
			c, err := forwarder.LoadConfig(name)
			want, bad := goldenBad[name]
			if !bad {
				if !strings.HasPrefix(name, "good") {
					t.Fatalf("%s: not in goldenBad and not good*.yaml", name)
				}
				if err != nil {
					t.Fatalf("LoadConfig(%s) = %v", name, err)
				}
				if len(c.Interfaces) == 0 {
					t.Errorf("LoadConfig(%s): no interfaces", name)
				}
				return
			}
			if err == nil {
				t.Fatalf("LoadConfig(%s) = nil error, want %q", name, want)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("LoadConfig(%s) = %v\nwant it to contain %s", name, err, want)
			}
			if comment := expectComment(t, name); comment != want {
				t.Errorf("%s: first-line comment says\n  %s\nbut goldenBad says\n  %s", name, comment, want)
			}
		})
	}
	for name := range goldenBad {
		if _, err := os.Stat(filepath.Join("testdata", name)); err != nil {
			t.Errorf("goldenBad names %s: %v", name, err)
		}
	}
}

// expectComment returns the text after "# Expect: " on a file's first line.
func expectComment(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Scan()
	line, ok := strings.CutPrefix(s.Text(), "# Expect: ")
	if !ok {
		t.Errorf("%s: first line %q does not start with \"# Expect: \"", path, s.Text())
	}
	return line
}

func TestLoadConfigMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := forwarder.LoadConfig(path)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadConfig(missing) = %v, want fs.ErrNotExist", err)
	}
	if !strings.HasPrefix(err.Error(), path+": config file not found") {
		t.Errorf("LoadConfig(missing) = %q, want it to start with the path and say not found", err)
	}
}

func TestExampleConfig(t *testing.T) {
	c, err := forwarder.LoadConfig(filepath.Join("..", "router.example.yaml"))
	if err != nil {
		t.Fatalf("router.example.yaml: %v", err)
	}
	if len(c.Interfaces) != 2 {
		t.Errorf("router.example.yaml: %d interfaces, want 2", len(c.Interfaces))
	}
	// Only the benchmarking and documentation ranges, so the example can
	// never collide with a real network.
	bench, doc := pfx("198.18.0.0/15"), pfx("2001:db8::/32")
	inRange := func(a netip.Addr) bool {
		return bench.Contains(a) || doc.Contains(a) || a.IsLinkLocalUnicast()
	}
	for _, ic := range c.Interfaces {
		for _, a := range ic.Addresses {
			if !inRange(a.Addr()) {
				t.Errorf("example address %s is outside 198.18.0.0/15 and 2001:db8::/32", a)
			}
		}
	}
	for _, r := range c.Routes {
		if (r.Prefix.Bits() > 0 && !inRange(r.Prefix.Addr())) || (r.Via.IsValid() && !inRange(r.Via)) {
			t.Errorf("example route %s via %s is outside the example ranges", r.Prefix, r.Via)
		}
	}
	sum := c.Summary()
	for _, want := range []string{
		"interface eth1: mode auto, all queues, 198.18.0.1/24, 2001:db8:1::1/64, router advertisements every 200s for 2001:db8:1::/64\n",
		"interface eth2: mode packetmmap, 2 queues, mtu 1500, 198.19.0.1/24, 2001:db8:2::1/64\n",
		"routes: 5 static (3 IPv4, 2 IPv6); static neighbours: 1\n",
		"metrics: http://127.0.0.1:9469/metrics\n",
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("Summary() =\n%s\nwant it to contain %q", sum, want)
		}
	}
}

// FuzzParseConfig checks that no input makes the parser panic, and that
// whatever it accepts is something the forwarder can apply blindly.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(fullConfig))
	f.Add([]byte(iface + "routes:\n  - {prefix: \"::/0\", via: \"fe80::1\", interface: eth1}\n"))
	f.Add([]byte("interfaces: [{name: eth1, addresses: [198.18.0.1/24]}]\n"))
	f.Add([]byte("interfaces:\n  - &a {name: eth1}\n  - *a\n"))
	f.Add([]byte("interfaces: [{name: eth1}]\n---\n"))
	f.Add([]byte(""))
	for _, glob := range []string{"testdata/*.yaml", "../router.example.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, path := range files {
			if b, err := os.ReadFile(path); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := forwarder.ParseConfig(data, "fuzz.yaml")
		if err != nil {
			if c != nil {
				t.Fatal("non-nil Config with an error")
			}
			var ce *forwarder.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			return
		}
		if len(c.Interfaces) == 0 {
			t.Fatal("accepted a config without interfaces")
		}
		names := map[string]bool{}
		for _, ic := range c.Interfaces {
			if ic.Name == "" || len(ic.Name) > 15 || names[ic.Name] {
				t.Fatalf("accepted interface name %q", ic.Name)
			}
			names[ic.Name] = true
			for _, a := range ic.Addresses {
				if !a.IsValid() || a.Bits() == 0 || a.Addr().Is4In6() || a.Addr().Zone() != "" {
					t.Fatalf("accepted address %v on %s", a, ic.Name)
				}
			}
			if ic.Mode != "auto" && ic.Mode != "packetmmap" && ic.Mode != "afxdp" {
				t.Fatalf("accepted mode %q", ic.Mode)
			}
		}
		for _, r := range c.Routes {
			if !r.Prefix.IsValid() || r.Prefix != r.Prefix.Masked() {
				t.Fatalf("accepted route prefix %v", r.Prefix)
			}
			if r.Interface != "" && !names[r.Interface] {
				t.Fatalf("accepted route via unknown interface %q", r.Interface)
			}
			if r.Via.IsValid() && r.Via.Is4() != r.Prefix.Addr().Is4() {
				t.Fatalf("accepted route %v via %v", r.Prefix, r.Via)
			}
		}
		for _, n := range c.Neighbors {
			if !names[n.Interface] || !n.Address.IsValid() || n.MAC[0]&1 != 0 {
				t.Fatalf("accepted neighbour %+v", n)
			}
		}
		if c.KernelRoutes {
			t.Fatal("accepted kernel_routes: true")
		}
		_ = c.Summary()
	})
}
