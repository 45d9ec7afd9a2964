package forwarder

// The router's configuration file (DESIGN.md §4, "The user's contract").
//
// The file is read into a yaml.Node tree rather than straight into structs,
// so that every value keeps its line: unknown keys, repeated keys, wrong
// types and bad values all come back as "file:line: field: message", which
// is what an operator needs to fix a router config at 3 a.m. Validation is
// complete before anything touches an interface: ParseConfig either returns
// a Config the forwarder can apply as is, or every problem it found.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is a parsed, validated router configuration. It is plain data: the
// forwarder applies it, and Reload compares two of them field by field.
type Config struct {
	// File is the path the configuration was read from, for error
	// messages; "" when it was parsed from bytes without a name.
	File string
	// Interfaces are the links the router takes over, in file order. There
	// is at least one.
	Interfaces []InterfaceConfig
	// Routes are the static routes, in file order; prefixes are unique.
	Routes []RouteConfig
	// Neighbors are static neighbour entries (like `ip neigh add ...
	// nud permanent`), unique per interface and address.
	Neighbors []NeighborConfig
	// KernelRoutes is the planned mirroring of the kernel FIB. It is not
	// built yet, so a valid Config always has it false: `kernel_routes:
	// true` is rejected rather than silently ignored.
	KernelRoutes bool
	// IPv4 holds the IPv4 protocol settings.
	IPv4 IPv4Config
	// IPv6 holds the IPv6 protocol settings.
	IPv6 IPv6Config
	// Metrics says where /metrics and /healthz are served.
	Metrics MetricsConfig
}

// InterfaceConfig is one interface the router takes over.
type InterfaceConfig struct {
	// Name is the Linux interface name: 1 to 15 bytes (IFNAMSIZ-1), unique
	// in the file.
	Name string
	// Addresses are the router's own addresses with their subnet lengths,
	// as written (198.18.0.1/24, not 198.18.0.0/24). An IP appears once in
	// the whole file, except that IPv6 link-local addresses may repeat on
	// different interfaces, since each is scoped to its own link.
	Addresses []netip.Prefix
	// Mode is the link kind: "auto" (the default: afxdp, else packetmmap),
	// "packetmmap" or "afxdp". The parser accepts all three; the forwarder
	// decides whether afxdp is available.
	Mode string
	// Queues is how many RX queues to serve; 0 means every RX queue the
	// interface uses (AF_XDP), or one per CPU the router may run on, at
	// most the interface's RX queues (PACKET_MMAP, whose fanout spreads
	// flows over any number of sockets).
	Queues int
	// MTU overrides the interface's MTU; 0 means use the interface's own.
	// Otherwise it is 68..65535 (RFC 791), or 1280..65535 when the
	// interface has an IPv6 address (RFC 8200 §5).
	MTU int
	// RA is the Router Advertisement configuration; nil when the
	// router_advertisements key is absent (no advertisements).
	RA *RAConfig
	// Line is the line of the interface's list item, so that errors found
	// later (interface not found, not Ethernet) can point at it.
	Line int
}

// RAConfig is the router_advertisements block of an interface (RFC 4861
// §6.2.1). Writing the block turns advertisements on unless it says
// `enabled: false`, so a block with prefixes never silently does nothing.
type RAConfig struct {
	// Enabled is AdvSendAdvertisements. It defaults to true when the
	// block is present.
	Enabled bool
	// Interval is MaxRtrAdvInterval: 4s..1800s, default 200s.
	Interval time.Duration
	// Lifetime is AdvDefaultLifetime, whole seconds: 0 (advertise the
	// prefixes but not this router as a default router) or Interval..9000s;
	// default 1800s.
	Lifetime time.Duration
	// Prefixes are advertised as Prefix Information options: masked IPv6
	// prefixes, neither link-local nor multicast, at most maxRAPrefixes.
	Prefixes []netip.Prefix
	// Line is the line of the router_advertisements key.
	Line int
}

// RouteConfig is one static route.
type RouteConfig struct {
	// Prefix is the destination, masked (198.18.0.0/15, never
	// 198.18.0.1/15), unique among the routes.
	Prefix netip.Prefix
	// Via is the next hop, of the same family as Prefix; the zero Addr
	// when the route is on-link or not unicast. An IPv6 link-local next
	// hop comes with Interface, since it means nothing without a link.
	Via netip.Addr
	// Interface, when set, is the configured interface the route leaves
	// by: the whole route for an on-link route, or pins Via's interface.
	Interface string
	// Type is "unicast" (the default), "blackhole" (drop silently),
	// "unreachable" (ICMP unreachable) or "prohibit" (ICMP administratively
	// prohibited). Only unicast routes have Via or Interface.
	Type string
	// Line is the line of the route's list item.
	Line int
}

// NeighborConfig is a static neighbour entry: the forwarder never resolves
// Address on Interface, it uses MAC. It is comparable, which Reload relies on.
type NeighborConfig struct {
	// Interface is a configured interface.
	Interface string
	// Address is the neighbour's IPv4 or IPv6 address, without a zone.
	Address netip.Addr
	// MAC is a unicast Ethernet address (not multicast, broadcast or zero).
	MAC [6]byte
	// Line is the line of the neighbour's list item.
	Line int
}

// IPv4Config holds the IPv4 protocol settings.
type IPv4Config struct {
	// DirectedBroadcast forwards packets to a connected subnet's broadcast
	// address; off by default as RFC 2644 requires.
	DirectedBroadcast bool
	// ICMPRateLimit caps the ICMP errors sent per second (default 1000,
	// Linux's default); 0 means unlimited.
	ICMPRateLimit int
	// ICMPBurst is how many ICMP errors may go at once (default 50).
	ICMPBurst int
}

// IPv6Config holds the IPv6 protocol settings.
type IPv6Config struct {
	// ICMPRateLimit caps the ICMPv6 errors sent per second (default 1000;
	// RFC 4443 §2.4(f) requires a limit); 0 means unlimited.
	ICMPRateLimit int
	// ICMPBurst is how many ICMPv6 errors may go at once (default 50).
	ICMPBurst int
}

// MetricsConfig says where the Prometheus endpoint listens.
type MetricsConfig struct {
	// Listen is host:port for /metrics and /healthz; default
	// "127.0.0.1:9469", and "" (written `listen: ""`) disables the server.
	Listen string
}

// ConfigError is one problem in a configuration, located by file, line and
// field, so the operator can go straight to it. The forwarder returns it too
// for problems only found when the config is applied (an interface that
// does not exist), using the Line fields of the Config.
type ConfigError struct {
	File  string // "" prints as "<config>"
	Line  int    // 0 when unknown
	Field string // a path such as interfaces[0].addresses[1]; "" for the whole file
	Msg   string
}

// Error formats the error as file:line: field: message, like a compiler,
// so editors can jump to it.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.fileName())
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Defaults. The ICMP rate matches Linux (net.ipv4.icmp_ratelimit and
// icmp_msgs_burst), so a benchmark against the kernel compares like with
// like; the metrics port is nexthop's own.
const (
	defaultMode          = "auto"
	defaultRouteType     = "unicast"
	defaultICMPRateLimit = 1000
	defaultICMPBurst     = 50
	defaultMetricsListen = "127.0.0.1:9469"
	defaultRAInterval    = 200 * time.Second
	defaultRALifetime    = 1800 * time.Second
)

// Limits.
const (
	// maxIfNameLen is IFNAMSIZ-1: Linux names are at most 15 bytes.
	maxIfNameLen = 15
	// RFC 4861 §6.2.1: MaxRtrAdvInterval is 4..1800 s and
	// AdvDefaultLifetime is 0 or MaxRtrAdvInterval..9000 s.
	minRAInterval = 4 * time.Second
	maxRAInterval = 1800 * time.Second
	maxRALifetime = 9000 * time.Second
	// maxRAPrefixes keeps one advertisement within the IPv6 minimum MTU;
	// it equals ndp.MaxRAPrefixes (40 + 32 + 32*36 < 1280), repeated here
	// so the config stays free of protocol packages.
	maxRAPrefixes = 36
	// maxQueues and maxRate only keep numbers sane: no NIC has more
	// queues, and the stack's token bucket works in whole nanoseconds.
	maxQueues = 65535
	maxRate   = 1_000_000
	// maxErrors bounds the report for a file that is not a config at all.
	maxErrors = 50
)

// The keys each mapping accepts, in the order error messages list them.
var (
	topKeys       = []string{"interfaces", "routes", "neighbors", "kernel_routes", "ipv4", "ipv6", "metrics"}
	interfaceKeys = []string{"name", "addresses", "mode", "queues", "mtu", "router_advertisements"}
	raKeys        = []string{"enabled", "interval", "lifetime", "prefixes"}
	routeKeys     = []string{"prefix", "via", "interface", "type"}
	neighborKeys  = []string{"interface", "address", "mac"}
	ipv4Keys      = []string{"directed_broadcast", "icmp_rate_limit", "icmp_burst"}
	ipv6Keys      = []string{"icmp_rate_limit", "icmp_burst"}
	metricsKeys   = []string{"listen"}

	modes      = []string{"auto", "packetmmap", "afxdp"}
	routeTypes = []string{"unicast", "blackhole", "unreachable", "prohibit"}
)

// LoadConfig reads and validates the configuration file at path. Errors
// name the file and line; a missing file says so plainly and matches
// errors.Is(err, fs.ErrNotExist).
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in front of the message
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: config file not found (router.example.yaml is a commented example): %w", path, err)
		}
		return nil, fmt.Errorf("%s: cannot read the config file: %w", path, err)
	}
	return ParseConfig(data, path)
}

// ParseConfig parses and validates a configuration; file names it in error
// messages. On failure the error is a *ConfigError, or an errors.Join of
// them ordered by line, so errors.As finds the first problem in the file
// and Error() lists them all, one per line.
func ParseConfig(data []byte, file string) (*Config, error) {
	p := &parser{file: file}
	root, ok := p.decode(data)
	cfg := &Config{File: file}
	if ok {
		p.config(root, cfg)
	}
	if len(p.errs) == 0 {
		return cfg, nil
	}
	slices.SortStableFunc(p.errs, func(a, b *ConfigError) int { return a.Line - b.Line })
	if len(p.errs) == 1 {
		return nil, p.errs[0]
	}
	errs := make([]error, 0, min(len(p.errs), maxErrors)+1)
	for i, e := range p.errs {
		if i == maxErrors {
			errs = append(errs, fmt.Errorf("%s: %d more errors not shown", (&ConfigError{File: file}).fileName(), len(p.errs)-maxErrors))
			break
		}
		errs = append(errs, e)
	}
	return nil, errors.Join(errs...)
}

func (e *ConfigError) fileName() string {
	if e.File == "" {
		return "<config>"
	}
	return e.File
}

// parser accumulates errors while walking the YAML tree. The walk goes on
// after a bad value, so one run of `router -check` shows every problem.
type parser struct {
	file string
	errs []*ConfigError

	// Cross-references, filled as the interfaces are read. names holds
	// every name written, valid or not, so that a route to an interface
	// whose name has an error of its own does not report a second one.
	names      []string
	ifaceSites []site           // where each of names was defined
	owned      map[addrKey]site // the router's own addresses
}

// site is where something was defined, for "already ... at line N" errors.
type site struct {
	line  int
	field string
}

// addrKey identifies an own address. IPv6 link-local addresses are scoped
// to their link (RFC 4291 §2.5.6), so for them the interface is part of
// the key and fe80::1 may be configured on every interface.
type addrKey struct {
	addr  netip.Addr
	iface string
}

func ownKey(a netip.Addr, iface string) addrKey {
	if a.Is6() && a.IsLinkLocalUnicast() {
		return addrKey{a, iface}
	}
	return addrKey{addr: a}
}

func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &ConfigError{File: p.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// yamlLine matches the syntax errors of go.yaml.in/yaml/v3, which carry
// the line as text ("yaml: line 3: mapping values are not allowed ...").
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlParserProblems are the messages of the library's parser (parserc.go)
// as opposed to its scanner (scannerc.go). decode.go's (*parser).fail
// prints a parser error's mark as is, which is 0-based, adds one only for
// scanner errors, and leaves out "line 0" altogether; syntaxError undoes
// that so every syntax error points at a 1-based line like the others.
var yamlParserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// yamlScannerPrefixes start the scanner's messages; without a line they
// are about the first line.
var yamlScannerPrefixes = []string{"found ", "did not find ", "could not find ", "mapping values ", "block sequence entries "}

func (p *parser) syntaxError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	switch {
	case yamlParserProblems[msg]:
		line++
	case line == 0 && slices.ContainsFunc(yamlScannerPrefixes, func(p string) bool { return strings.HasPrefix(msg, p) }):
		line = 1
	}
	p.errs = append(p.errs, &ConfigError{File: p.file, Line: line, Msg: "YAML syntax: " + msg})
}

// decode parses the YAML and returns the top-level node of its single
// document; nil when the file holds no document at all.
func (p *parser) decode(data []byte) (root *yaml.Node, ok bool) {
	defer func() {
		// A config parser must not take the router down: turn a panic in
		// the YAML library into an error about the file.
		if r := recover(); r != nil {
			p.errorf(nil, "", "YAML parser failed: %v", r)
			root, ok = nil, false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil, true
	case err != nil:
		p.syntaxError(err)
		return nil, false
	}
	for {
		// A stray empty document (a trailing ---) is harmless; a second
		// config is not, since only one of the two would be used.
		var extra yaml.Node
		err := dec.Decode(&extra)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.syntaxError(err)
			return nil, false
		}
		if len(extra.Content) == 1 && !isNull(extra.Content[0]) {
			p.errorf(&extra, "", "a second YAML document; the config is one document (remove the --- line)")
			return nil, false
		}
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], true
	}
	return nil, true
}

// config reads the top-level mapping. Interfaces go first whatever their
// place in the file, because routes and neighbours refer to them.
func (p *parser) config(root *yaml.Node, cfg *Config) {
	p.owned = map[addrKey]site{}
	cfg.IPv4 = IPv4Config{ICMPRateLimit: defaultICMPRateLimit, ICMPBurst: defaultICMPBurst}
	cfg.IPv6 = IPv6Config{ICMPRateLimit: defaultICMPRateLimit, ICMPBurst: defaultICMPBurst}
	cfg.Metrics.Listen = defaultMetricsListen

	root = deref(root)
	if root == nil || isNull(root) {
		p.errorf(root, "", "no interfaces configured (want an `interfaces:` list; see router.example.yaml)")
		return
	}
	top, ok := p.mapping(root, "", topKeys)
	if !ok {
		return
	}

	if n := top.vals["interfaces"]; n == nil {
		p.errorf(root, "", "no interfaces configured (want an `interfaces:` list; see router.example.yaml)")
	} else if items, ok := p.list(n, "interfaces", "a list of interfaces such as [{name: eth1, addresses: [198.18.0.1/24]}]"); ok {
		if len(items) == 0 {
			p.errorf(n, "interfaces", "no interfaces configured")
		}
		cfg.Interfaces = make([]InterfaceConfig, 0, len(items))
		for i, item := range items {
			if ic, ok := p.iface(item, index("interfaces", i)); ok {
				cfg.Interfaces = append(cfg.Interfaces, ic)
			}
		}
	}

	if n := top.vals["routes"]; n != nil {
		if items, ok := p.list(n, "routes", "a list of routes such as [{prefix: 198.20.0.0/16, via: 198.19.0.2}]"); ok {
			// A static route for an interface's own subnet would fight the
			// connected route the address installs.
			seen := map[netip.Prefix]site{}
			for i, ic := range cfg.Interfaces {
				for _, a := range ic.Addresses {
					if !a.Addr().IsLinkLocalUnicast() {
						seen[a.Masked()] = site{ic.Line, fmt.Sprintf("the connected subnet of interfaces[%d] %s", i, ic.Name)}
					}
				}
			}
			for i, item := range items {
				if rc, ok := p.route(item, index("routes", i), seen); ok {
					if rc.Via.IsValid() && rc.Interface == "" && !onAnySubnet(cfg.Interfaces, rc.Via) {
						p.errs = append(p.errs, &ConfigError{File: p.file, Line: rc.Line, Field: index("routes", i) + ".via",
							Msg: fmt.Sprintf("next hop %s is not on the subnet of any interface (add an address on its subnet, or `interface:`)", rc.Via)})
						continue
					}
					cfg.Routes = append(cfg.Routes, rc)
				}
			}
		}
	}

	if n := top.vals["neighbors"]; n != nil {
		if items, ok := p.list(n, "neighbors", `a list such as [{interface: eth1, address: 198.18.0.9, mac: "02:00:00:00:00:09"}]`); ok {
			seen := map[addrKey]site{}
			for i, item := range items {
				if nc, ok := p.neighbor(item, index("neighbors", i), seen); ok {
					cfg.Neighbors = append(cfg.Neighbors, nc)
				}
			}
		}
	}

	if n := top.vals["kernel_routes"]; n != nil {
		if v, ok := p.boolean(n, "kernel_routes"); ok && v {
			p.errorf(n, "kernel_routes", "mirroring the kernel FIB is not built yet; remove the key or set it to false")
		}
	}

	if n := top.vals["ipv4"]; n != nil {
		if m, ok := p.mapping(n, "ipv4", ipv4Keys); ok {
			if v := m.vals["directed_broadcast"]; v != nil {
				cfg.IPv4.DirectedBroadcast, _ = p.boolean(v, "ipv4.directed_broadcast")
			}
			p.icmpLimits(m, "ipv4", &cfg.IPv4.ICMPRateLimit, &cfg.IPv4.ICMPBurst)
		}
	}
	if n := top.vals["ipv6"]; n != nil {
		if m, ok := p.mapping(n, "ipv6", ipv6Keys); ok {
			p.icmpLimits(m, "ipv6", &cfg.IPv6.ICMPRateLimit, &cfg.IPv6.ICMPBurst)
		}
	}

	if n := top.vals["metrics"]; n != nil {
		if m, ok := p.mapping(n, "metrics", metricsKeys); ok {
			if v := m.vals["listen"]; v != nil {
				if s, ok := p.str(v, "metrics.listen"); ok {
					if msg := checkListen(s); msg != "" {
						p.errorf(v, "metrics.listen", "%s", msg)
					}
					cfg.Metrics.Listen = s
				}
			}
		}
	}
}

// iface reads one item of the interfaces list.
func (p *parser) iface(n *yaml.Node, path string) (InterfaceConfig, bool) {
	ic := InterfaceConfig{Mode: defaultMode, Line: n.Line}
	m, ok := p.mapping(n, path, interfaceKeys)
	if !ok {
		return ic, false
	}
	good := true

	if v := m.vals["name"]; v == nil {
		p.errorf(n, path, `missing "name" (the Linux interface name, e.g. eth1)`)
		good = false
	} else if s, ok := p.str(v, path+".name"); !ok {
		good = false
	} else {
		ic.Name = s
		if msg := checkIfName(s); msg != "" {
			p.errorf(v, path+".name", "%s", msg)
			good = false
		}
		if prev, dup := p.ifaceSite(s); dup {
			p.errorf(v, path+".name", "%q is already configured at line %d (%s)", s, prev.line, prev.field)
			good = false
		} else if s != "" {
			p.names = append(p.names, s)
			p.ifaceSites = append(p.ifaceSites, site{v.Line, path})
		}
	}

	if v := m.vals["addresses"]; v != nil {
		items, ok := p.list(v, path+".addresses", "a list such as [198.18.0.1/24, \"2001:db8::1/64\"]")
		good = good && ok
		for i, item := range items {
			f := index(path+".addresses", i)
			s, ok := p.str(item, f)
			if !ok {
				good = false
				continue
			}
			pfx, msg := ifaceAddress(s)
			if msg != "" {
				p.errorf(item, f, "%s", msg)
				good = false
				continue
			}
			k := ownKey(pfx.Addr(), ic.Name)
			if prev, dup := p.owned[k]; dup {
				p.errorf(item, f, "%s is already assigned at line %d (%s)", pfx.Addr(), prev.line, prev.field)
				good = false
				continue
			}
			p.owned[k] = site{item.Line, f}
			ic.Addresses = append(ic.Addresses, pfx)
		}
	}

	if v := m.vals["mode"]; v != nil {
		if s, ok := p.str(v, path+".mode"); ok {
			if !slices.Contains(modes, s) {
				p.errorf(v, path+".mode", "%q is not a mode (want one of %s)", s, strings.Join(modes, ", "))
				good = false
			}
			ic.Mode = s
		} else {
			good = false
		}
	}

	if v := m.vals["queues"]; v != nil {
		q, ok := p.integer(v, path+".queues")
		switch {
		case !ok:
			good = false
		case q < 0:
			p.errorf(v, path+".queues", "%d is negative (0 means the default: for afxdp every RX queue in use, for packetmmap one per CPU the router may run on)", q)
			good = false
		case q > maxQueues:
			p.errorf(v, path+".queues", "%d is more queues than any interface has (at most %d; 0 means the default)", q, maxQueues)
			good = false
		default:
			ic.Queues = int(q)
		}
	}

	if v := m.vals["mtu"]; v != nil {
		mtu, ok := p.integer(v, path+".mtu")
		has6 := slices.ContainsFunc(ic.Addresses, func(a netip.Prefix) bool { return a.Addr().Is6() })
		switch {
		case !ok:
			good = false
		case mtu == 0:
		case mtu < 0 || mtu > 65535:
			p.errorf(v, path+".mtu", "%d is out of range (68..65535, or 0 for the interface's own MTU)", mtu)
			good = false
		case mtu < 68:
			// RFC 791: every internet module must forward a 68-byte datagram.
			p.errorf(v, path+".mtu", "%d is below the IPv4 minimum of 68 (RFC 791)", mtu)
			good = false
		case mtu < 1280 && has6:
			p.errorf(v, path+".mtu", "%d is below the IPv6 minimum of 1280 (RFC 8200 §5), and the interface has an IPv6 address", mtu)
			good = false
		default:
			ic.MTU = int(mtu)
		}
	}

	if v := m.vals["router_advertisements"]; v != nil {
		ra, ok := p.ra(v, m.keys["router_advertisements"], path+".router_advertisements")
		good = good && ok
		ic.RA = ra
	}
	return ic, good
}

func (p *parser) ifaceSite(name string) (site, bool) {
	if i := slices.Index(p.names, name); i >= 0 {
		return p.ifaceSites[i], true
	}
	return site{}, false
}

// ra reads an interface's router_advertisements block.
func (p *parser) ra(n, key *yaml.Node, path string) (*RAConfig, bool) {
	ra := &RAConfig{Enabled: true, Interval: defaultRAInterval, Lifetime: defaultRALifetime, Line: key.Line}
	m, ok := p.mapping(n, path, raKeys)
	if !ok {
		return ra, false
	}
	good := true
	if v := m.vals["enabled"]; v != nil {
		ra.Enabled, ok = p.boolean(v, path+".enabled")
		good = good && ok
	}
	if v := m.vals["interval"]; v != nil {
		d, ok := p.duration(v, path+".interval")
		switch {
		case !ok:
			good = false
		case d < minRAInterval || d > maxRAInterval:
			p.errorf(v, path+".interval", "%v is out of range (RFC 4861 §6.2.1: MaxRtrAdvInterval is 4s..1800s)", d)
			good = false
		default:
			ra.Interval = d
		}
	}
	if v := m.vals["lifetime"]; v != nil {
		d, ok := p.duration(v, path+".lifetime")
		switch {
		case !ok:
			good = false
		case d%time.Second != 0:
			p.errorf(v, path+".lifetime", "%v is not a whole number of seconds (the Router Lifetime field counts seconds)", d)
			good = false
		case d != 0 && (d < ra.Interval || d > maxRALifetime):
			p.errorf(v, path+".lifetime", "%v is out of range (RFC 4861 §6.2.1: 0, or the interval %v..9000s)", d, ra.Interval)
			good = false
		default:
			ra.Lifetime = d
		}
	} else if ra.Lifetime < ra.Interval {
		ra.Lifetime = ra.Interval // the default must stay valid for a long interval
	}
	if v := m.vals["prefixes"]; v != nil {
		items, ok := p.list(v, path+".prefixes", `a list such as ["2001:db8:1::/64"]`)
		good = good && ok
		if len(items) > maxRAPrefixes {
			p.errorf(v, path+".prefixes", "%d prefixes do not fit one advertisement (at most %d)", len(items), maxRAPrefixes)
			good = false
		}
		seen := map[netip.Prefix]site{}
		for i, item := range items {
			f := index(path+".prefixes", i)
			s, ok := p.str(item, f)
			if !ok {
				good = false
				continue
			}
			pfx, msg := raPrefix(s)
			if msg == "" {
				if prev, dup := seen[pfx]; dup {
					msg = fmt.Sprintf("%s is already listed at line %d (%s)", pfx, prev.line, prev.field)
				}
			}
			if msg != "" {
				p.errorf(item, f, "%s", msg)
				good = false
				continue
			}
			seen[pfx] = site{item.Line, f}
			ra.Prefixes = append(ra.Prefixes, pfx)
		}
	}
	return ra, good
}

// route reads one item of the routes list.
func (p *parser) route(n *yaml.Node, path string, seen map[netip.Prefix]site) (RouteConfig, bool) {
	rc := RouteConfig{Type: defaultRouteType, Line: n.Line}
	m, ok := p.mapping(n, path, routeKeys)
	if !ok {
		return rc, false
	}
	good := true

	prefixOK := false
	if v := m.vals["prefix"]; v == nil {
		p.errorf(n, path, `missing "prefix" (the destination, e.g. 198.20.0.0/16 or "::/0")`)
		good = false
	} else if s, ok := p.str(v, path+".prefix"); !ok {
		good = false
	} else if pfx, msg := routePrefix(s); msg != "" {
		p.errorf(v, path+".prefix", "%s", msg)
		good = false
	} else if prev, dup := seen[pfx]; dup {
		p.errorf(v, path+".prefix", "%s is already routed at line %d (%s)", pfx, prev.line, prev.field)
		good = false
	} else {
		seen[pfx] = site{v.Line, path}
		rc.Prefix, prefixOK = pfx, true
	}

	if v := m.vals["type"]; v != nil {
		if s, ok := p.str(v, path+".type"); !ok {
			good = false
		} else if !slices.Contains(routeTypes, s) {
			p.errorf(v, path+".type", "%q is not a route type (want one of %s)", s, strings.Join(routeTypes, ", "))
			good = false
		} else {
			rc.Type = s
		}
	}

	viaNode, ifNode := m.vals["via"], m.vals["interface"]
	if rc.Type != "unicast" {
		if viaNode != nil || ifNode != nil {
			p.errorf(n, path, "a %s route takes neither via nor interface", rc.Type)
			good = false
		}
		return rc, good
	}
	if viaNode == nil && ifNode == nil {
		p.errorf(n, path, "a unicast route needs via (the next hop) or interface (on-link), or both")
		return rc, false
	}

	if ifNode != nil {
		if s, ok := p.str(ifNode, path+".interface"); !ok {
			good = false
		} else if !p.knownIface(ifNode, path+".interface", s) {
			good = false
		} else {
			rc.Interface = s
		}
	}

	if viaNode != nil {
		s, ok := p.str(viaNode, path+".via")
		if !ok {
			return rc, false
		}
		a, msg := nextHop(s)
		switch {
		case msg != "":
		case prefixOK && a.Is4() != rc.Prefix.Addr().Is4():
			msg = fmt.Sprintf("next hop %s is %s but the prefix %s is %s", a, family(a), rc.Prefix, family(rc.Prefix.Addr()))
		case a.Is6() && a.IsLinkLocalUnicast() && ifNode == nil:
			msg = fmt.Sprintf("next hop %s is link-local; add `interface:` to say which link it is on", a)
		default:
			if prev, own := p.owned[ownKey(a, rc.Interface)]; own {
				msg = fmt.Sprintf("next hop %s is this router's own address (line %d, %s)", a, prev.line, prev.field)
			}
		}
		if msg != "" {
			p.errorf(viaNode, path+".via", "%s", msg)
			return rc, false
		}
		rc.Via = a
	}
	return rc, good
}

// neighbor reads one item of the neighbors list.
func (p *parser) neighbor(n *yaml.Node, path string, seen map[addrKey]site) (NeighborConfig, bool) {
	nc := NeighborConfig{Line: n.Line}
	m, ok := p.mapping(n, path, neighborKeys)
	if !ok {
		return nc, false
	}
	good := true
	for _, k := range neighborKeys {
		if m.vals[k] == nil {
			p.errorf(n, path, "missing %q (a static neighbour needs interface, address and mac)", k)
			good = false
		}
	}

	if v := m.vals["interface"]; v != nil {
		if s, ok := p.str(v, path+".interface"); ok && p.knownIface(v, path+".interface", s) {
			nc.Interface = s
		} else {
			good = false
		}
	}

	if v := m.vals["address"]; v != nil {
		if s, ok := p.str(v, path+".address"); !ok {
			good = false
		} else if a, msg := neighborAddress(s); msg != "" {
			p.errorf(v, path+".address", "%s", msg)
			good = false
		} else if prev, own := p.owned[ownKey(a, nc.Interface)]; own {
			p.errorf(v, path+".address", "%s is this router's own address (line %d, %s)", a, prev.line, prev.field)
			good = false
		} else if prev, dup := seen[addrKey{a, nc.Interface}]; dup {
			p.errorf(v, path+".address", "%s on %s already has an entry at line %d (%s)", a, nc.Interface, prev.line, prev.field)
			good = false
		} else {
			seen[addrKey{a, nc.Interface}] = site{n.Line, path}
			nc.Address = a
		}
	}

	if v := m.vals["mac"]; v != nil {
		if s, ok := p.str(v, path+".mac"); !ok {
			good = false
		} else if mac, msg := unicastMAC(s); msg != "" {
			p.errorf(v, path+".mac", "%s", msg)
			good = false
		} else {
			nc.MAC = mac
		}
	}
	return nc, good
}

// knownIface reports whether name is a configured interface, reporting
// an error at n if not. A configured interface with errors of its own
// counts as known, so one mistake is reported once.
func (p *parser) knownIface(n *yaml.Node, field, name string) bool {
	if slices.Contains(p.names, name) {
		return true
	}
	p.errorf(n, field, "%q is not a configured interface (configured: %s)", name, strings.Join(p.names, ", "))
	return false
}

// icmpLimits reads icmp_rate_limit and icmp_burst of ipv4 or ipv6.
func (p *parser) icmpLimits(m fields, path string, rate, burst *int) {
	if v := m.vals["icmp_rate_limit"]; v != nil {
		f := path + ".icmp_rate_limit"
		if r, ok := p.integer(v, f); !ok {
		} else if r < 0 || r > maxRate {
			p.errorf(v, f, "%d is out of range (0..%d errors per second; 0 means unlimited)", r, maxRate)
		} else {
			*rate = int(r)
		}
	}
	if v := m.vals["icmp_burst"]; v != nil {
		f := path + ".icmp_burst"
		if b, ok := p.integer(v, f); !ok {
		} else if b < 1 || b > maxRate {
			p.errorf(v, f, "%d is out of range (1..%d errors at once)", b, maxRate)
		} else {
			*burst = int(b)
		}
	}
}

// fields is a YAML mapping that passed the generic checks: every key is
// known and appears once. Keys whose value is null (`key:` or `key: ~`)
// are left out, as if absent.
type fields struct {
	vals map[string]*yaml.Node // values by key
	keys map[string]*yaml.Node // the key nodes, for errors about a block
}

// mapping checks that n is a mapping whose keys are all in known and
// unique. Unknown and repeated keys are reported but do not stop the
// walk; ok is false only when n is not a mapping.
func (p *parser) mapping(n *yaml.Node, path string, known []string) (fields, bool) {
	f := fields{vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping of keys (%s), got %s", strings.Join(known, ", "), describe(n))
		return f, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, path, "a key must be a plain word, got %s", describe(k))
			continue
		}
		if prev, dup := f.keys[k.Value]; dup {
			p.errorf(k, path, "duplicate key %q (first at line %d)", k.Value, prev.Line)
			continue
		}
		if !slices.Contains(known, k.Value) {
			msg := fmt.Sprintf("unknown key %q (known: %s)", k.Value, strings.Join(known, ", "))
			if s := suggest(k.Value, known); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			if path != "" && slices.Contains(topKeys, k.Value) {
				msg += fmt.Sprintf("; %s belongs at the top level", k.Value)
			}
			p.errorf(k, path, "%s", msg)
			f.keys[k.Value] = k
			continue
		}
		f.keys[k.Value] = k
		if !isNull(v) {
			f.vals[k.Value] = v
		}
	}
	return f, true
}

// list checks that n is a sequence; example shows the expected form.
func (p *parser) list(n *yaml.Node, path, example string) ([]*yaml.Node, bool) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, path, "want %s, got %s", example, describe(n))
		return nil, false
	}
	items := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		items[i] = deref(c)
	}
	return items, true
}

// str returns a scalar's text as written. Numbers are accepted as text
// (an interface may be called "1234"); booleans, null and collections are not.
func (p *parser) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str", "!!int", "!!float":
			return n.Value, true
		}
	}
	p.errorf(n, path, "want a string, got %s", describe(n))
	return "", false
}

func (p *parser) integer(n *yaml.Node, path string) (int64, bool) {
	var v int64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		p.errorf(n, path, "want a whole number, got %s", describe(n))
		return 0, false
	}
	return v, true
}

func (p *parser) boolean(n *yaml.Node, path string) (bool, bool) {
	var v bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
		p.errorf(n, path, "want true or false, got %s", describe(n))
		return false, false
	}
	return v, true
}

// duration parses a Go duration such as "200s". A bare number is refused
// rather than guessed at: seconds and milliseconds are both plausible.
func (p *parser) duration(n *yaml.Node, path string) (time.Duration, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		if d, err := time.ParseDuration(n.Value); err == nil && d >= 0 {
			return d, true
		}
	}
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		p.errorf(n, path, "want a duration with a unit such as %ss, got %s", n.Value, describe(n))
		return 0, false
	}
	p.errorf(n, path, "want a duration such as 200s or 30m, got %s", describe(n))
	return 0, false
}

// describe names what a node is, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!bool":
			return "boolean " + n.Value
		case "!!int", "!!float":
			return "number " + n.Value
		case "!!str":
			return strconv.Quote(n.Value)
		}
		return fmt.Sprintf("%s %q", n.ShortTag(), n.Value)
	}
	return "an unsupported YAML node"
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func family(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// suggest returns the known key closest to an unknown one, if it is a
// plausible typo (edit distance at most 2).
func suggest(key string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64 // no typo is that long; keep the fuzzer fast
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkIfName applies Linux's dev_valid_name (net/core/dev.c): 1..15
// bytes, not "." or "..", no '/', ':' or whitespace.
func checkIfName(s string) string {
	switch {
	case s == "":
		return "the interface name is empty"
	case len(s) > maxIfNameLen:
		return fmt.Sprintf("%q is longer than Linux's limit of %d bytes (IFNAMSIZ-1)", s, maxIfNameLen)
	case s == "." || s == "..":
		return fmt.Sprintf("%q is not a valid interface name", s)
	case strings.ContainsAny(s, "/: \t\n\v\f\r"):
		return fmt.Sprintf("%q is not a valid interface name (no '/', ':' or spaces)", s)
	}
	return ""
}

// prefixSyntax parses a prefix, explaining the usual slips: a missing
// length, a zone, an IPv4-mapped IPv6 form. example is what the field
// looks like when right, for the given family.
func prefixSyntax(s string, example func(v6 bool) string) (netip.Prefix, string) {
	pfx, err := netip.ParsePrefix(s)
	if err == nil {
		if a := pfx.Addr(); a.Is4In6() {
			v4 := netip.PrefixFrom(a.Unmap(), max(pfx.Bits()-96, 0))
			return pfx, fmt.Sprintf("%q is an IPv4-mapped IPv6 prefix; write it as IPv4 (%s)", s, v4)
		}
		return pfx, ""
	}
	if strings.Contains(s, "%") {
		return pfx, fmt.Sprintf("%q has a zone; leave it out (the interface is the zone)", s)
	}
	if !strings.Contains(s, "/") {
		if a, err := netip.ParseAddr(s); err == nil {
			bits := 32
			if a.Is6() {
				bits = 128
			}
			return pfx, fmt.Sprintf("%q has no prefix length (want %s/%d for a single address, or the subnet's length as in %s)", s, a, bits, example(a.Is6()))
		}
	}
	return pfx, fmt.Sprintf("%q is not a valid prefix (want e.g. %s)", s, example(strings.Contains(s, ":")))
}

// ifaceAddress parses and checks one of an interface's own addresses.
func ifaceAddress(s string) (netip.Prefix, string) {
	pfx, msg := prefixSyntax(s, func(v6 bool) string {
		if v6 {
			return "2001:db8::1/64"
		}
		return "198.18.0.1/24"
	})
	if msg != "" {
		return pfx, msg
	}
	a, bits := pfx.Addr(), pfx.Bits()
	if why := unusable(a); why != "" {
		return pfx, fmt.Sprintf("%s is %s, not an interface address", a, why)
	}
	if bits == 0 {
		return pfx, fmt.Sprintf("%q has prefix length /0; give the subnet's length, e.g. %s/24", s, a)
	}
	subnet := pfx.Masked()
	if a.Is4() && bits < 31 {
		// RFC 3021 lets /31 (and /32) use every address; shorter prefixes
		// reserve the first (network) and last (broadcast).
		host := uint32(1)<<(32-bits) - 1
		v := binary.BigEndian.Uint32(a.AsSlice())
		switch v & host {
		case 0:
			return pfx, fmt.Sprintf("%s is the network address of %s; use a host address such as %s/%d", a, subnet, subnet.Addr().Next(), bits)
		case host:
			return pfx, fmt.Sprintf("%s is the broadcast address of %s; use a host address such as %s/%d", a, subnet, subnet.Addr().Next(), bits)
		}
	}
	if a.Is6() && bits < 127 && a == subnet.Addr() {
		// RFC 4291 §2.6.1: the all-zero interface identifier is the
		// Subnet-Router anycast address, which a router answers anyway.
		return pfx, fmt.Sprintf("%s is the Subnet-Router anycast address of %s (RFC 4291 §2.6.1); use a host address such as %s/%d", a, subnet, subnet.Addr().Next(), bits)
	}
	return pfx, ""
}

// unusable says why an address can be neither an interface address, a
// next hop nor a neighbour; "" if it can.
func unusable(a netip.Addr) string {
	switch {
	case a.IsUnspecified():
		return "the unspecified address"
	case a.IsLoopback():
		return "a loopback address"
	case a.IsMulticast():
		return "a multicast address"
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "the limited broadcast address"
	}
	return ""
}

// routePrefix parses a route destination, which must be masked.
func routePrefix(s string) (netip.Prefix, string) {
	pfx, msg := prefixSyntax(s, func(v6 bool) string {
		if v6 {
			return "2001:db8::/32"
		}
		return "198.18.0.0/15"
	})
	if msg != "" {
		return pfx, msg
	}
	if m := pfx.Masked(); m != pfx {
		return pfx, fmt.Sprintf("%q has host bits set; did you mean %s?", s, m)
	}
	return pfx, ""
}

// raPrefix parses a prefix to advertise in Router Advertisements.
func raPrefix(s string) (netip.Prefix, string) {
	pfx, msg := prefixSyntax(s, func(bool) string { return "2001:db8:1::/64" })
	switch {
	case msg != "":
	case !pfx.Addr().Is6():
		msg = fmt.Sprintf("%s is not an IPv6 prefix (Router Advertisements carry IPv6 prefixes)", pfx)
	case pfx.Masked() != pfx:
		msg = fmt.Sprintf("%q has host bits set; did you mean %s?", s, pfx.Masked())
	case pfx.Addr().IsLinkLocalUnicast() || pfx.Addr().IsMulticast():
		// RFC 4862 §5.5.3(b): hosts ignore a link-local prefix.
		msg = fmt.Sprintf("%s is link-local or multicast; advertise a global or unique-local prefix", pfx)
	}
	return pfx, msg
}

// nextHop parses a route's via.
func nextHop(s string) (netip.Addr, string) {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil && strings.Contains(s, "/"):
		return a, fmt.Sprintf("%q is a prefix; a next hop is a single address such as %s", s, strings.SplitN(s, "/", 2)[0])
	case err != nil:
		return a, fmt.Sprintf("%q is not a valid IP address (want e.g. 198.19.0.2 or 2001:db8:1::2)", s)
	case a.Zone() != "":
		return a, fmt.Sprintf("%q has a zone; write via: %s and interface: %s", s, a.WithZone(""), a.Zone())
	case a.Is4In6():
		return a, fmt.Sprintf("%q is an IPv4-mapped IPv6 address; write it as %s", s, a.Unmap())
	}
	if why := unusable(a); why != "" {
		return a, fmt.Sprintf("%s is %s, not a next hop", a, why)
	}
	return a, ""
}

// neighborAddress parses a static neighbour's IP address.
func neighborAddress(s string) (netip.Addr, string) {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return a, fmt.Sprintf("%q is not a valid IP address (want e.g. 198.18.0.9 or 2001:db8::9)", s)
	case a.Zone() != "":
		return a, fmt.Sprintf("%q has a zone; leave it out (the interface key is the zone)", s)
	case a.Is4In6():
		return a, fmt.Sprintf("%q is an IPv4-mapped IPv6 address; write it as %s", s, a.Unmap())
	}
	if why := unusable(a); why != "" {
		return a, fmt.Sprintf("%s is %s, not a neighbour", a, why)
	}
	return a, ""
}

// unicastMAC parses an Ethernet address a neighbour can have.
func unicastMAC(s string) ([6]byte, string) {
	var mac [6]byte
	hw, err := net.ParseMAC(s)
	switch {
	case err != nil:
		return mac, fmt.Sprintf("%q is not a MAC address (want e.g. \"02:00:00:00:00:09\")", s)
	case len(hw) != 6:
		return mac, fmt.Sprintf("%q is not a 6-byte Ethernet address", s)
	}
	copy(mac[:], hw)
	switch {
	case mac == [6]byte{}:
		return mac, fmt.Sprintf("%q is the all-zero MAC address", s)
	case mac[0]&1 != 0: // the I/G bit: group (multicast or broadcast)
		return mac, fmt.Sprintf("%q is a multicast or broadcast MAC address; a neighbour has a unicast one", s)
	}
	return mac, ""
}

// checkListen validates metrics.listen: "" (disabled) or host:port with a
// numeric port; the host may be empty (every address), an IP or a name.
func checkListen(s string) string {
	if s == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("%q is not host:port (want e.g. 127.0.0.1:9469, \"[::1]:9469\" or \"\" to disable)", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("%q: port %q is not a number in 1..65535", s, port)
	}
	if strings.ContainsAny(host, " \t/") {
		return fmt.Sprintf("%q: %q is not a host name or IP address", s, host)
	}
	return ""
}

// Summary describes the configuration in a few lines, for `router -check`:
// what the router would take over and how, and what it would route.
func (c *Config) Summary() string {
	var b strings.Builder
	for _, ic := range c.Interfaces {
		fmt.Fprintf(&b, "interface %s: mode %s", ic.Name, ic.Mode)
		if ic.Queues == 0 {
			b.WriteString(", all queues")
		} else {
			fmt.Fprintf(&b, ", %d queues", ic.Queues)
		}
		if ic.MTU != 0 {
			fmt.Fprintf(&b, ", mtu %d", ic.MTU)
		}
		if len(ic.Addresses) == 0 {
			b.WriteString(", no addresses")
		}
		for _, a := range ic.Addresses {
			fmt.Fprintf(&b, ", %s", a)
		}
		if ic.RA != nil && ic.RA.Enabled {
			fmt.Fprintf(&b, ", router advertisements every %gs", ic.RA.Interval.Seconds())
			for i, p := range ic.RA.Prefixes {
				if i == 0 {
					b.WriteString(" for")
				}
				fmt.Fprintf(&b, " %s", p)
			}
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "routes: %d static", len(c.Routes))
	var v4, v6 int
	for _, r := range c.Routes {
		if r.Prefix.Addr().Is4() {
			v4++
		} else {
			v6++
		}
	}
	if len(c.Routes) > 0 {
		fmt.Fprintf(&b, " (%d IPv4, %d IPv6)", v4, v6)
	}
	fmt.Fprintf(&b, "; static neighbours: %d\n", len(c.Neighbors))
	if c.Metrics.Listen == "" {
		b.WriteString("metrics: disabled\n")
	} else {
		fmt.Fprintf(&b, "metrics: http://%s/metrics\n", c.Metrics.Listen)
	}
	return b.String()
}

// onAnySubnet reports whether a is on the subnet of one of the interfaces'
// addresses, i.e. whether the router can reach it as a next hop.
func onAnySubnet(ifs []InterfaceConfig, a netip.Addr) bool {
	for _, ic := range ifs {
		for _, p := range ic.Addresses {
			if p.Contains(a) {
				return true
			}
		}
	}
	return false
}
