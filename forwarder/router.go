//go:build linux

package forwarder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/arp"
	"github.com/nexthop-router/nexthop/ipv4"
	"github.com/nexthop-router/nexthop/ipv6"
	"github.com/nexthop-router/nexthop/link/afxdp"
	"github.com/nexthop-router/nexthop/link/packetmmap"
	"github.com/nexthop-router/nexthop/ndp"
	"github.com/nexthop-router/nexthop/stack"
)

// Options tune a Router beyond its Config. The zero value is right for
// production.
type Options struct {
	// Logger receives the start-up and lifecycle log; nil means slog.Default().
	Logger *slog.Logger
	// TickInterval is how often the control path runs timers (NUD, RAs);
	// 0 means 100 ms.
	TickInterval time.Duration
	// IdlePoll is how long an idle worker sleeps in poll(2) before it
	// checks for shutdown; frames wake it at once. 0 means 50 ms.
	IdlePoll time.Duration
	// AutoAFXDP makes `mode: auto` try the AF_XDP link first and fall
	// back to PACKET_MMAP when it fails. Off (the default), auto means
	// packetmmap: AF_XDP carries no checksum or GSO metadata, so on veth
	// (and with GRO in generic mode) TCP from hosts with offloads on
	// breaks or crawls; see autoWhy.
	AutoAFXDP bool
}

// autoWhy is logged when `mode: auto` picks packetmmap.
const autoWhy = "mode: auto picks packetmmap: AF_XDP cannot carry GSO super-packets or unfinished checksums (veth hosts with offloads on); set mode: afxdp to use it"

// rxLink is a link whose RX queues a worker polls and, when idle, waits on.
type rxLink interface {
	stack.LinkEndpoint
	stack.QueuePoller
	RXFD(q int) int
	SetMTU(mtu uint32)
}

// iface is one owned interface.
type iface struct {
	cfg      InterfaceConfig
	ifindex  int
	mode     string
	queues   int
	link     rxLink
	nic      *stack.NIC
	take     *takeover
	linkUp   atomic.Bool
	fixedMTU bool
}

// Router is a running nexthop: a stack, its links and its workers, built
// from a Config. cmd/router is a thin shell around it.
type Router struct {
	log  *slog.Logger
	opts Options
	s    *stack.Stack

	mu     sync.Mutex // serializes Reload and Close
	cfg    *Config
	ifaces []*iface

	workers int
	// ws are the data workers, made in New so their IDs (queue q's is
	// q+1; the control worker is 0) are known when the links open; Run
	// starts their goroutines.
	ws []*stack.Worker
	// umems are the AF_XDP UMEMs by queue index (nil until an interface
	// on that queue uses AF_XDP), shared by every AF_XDP interface the
	// queue's worker serves. Closed after the links.
	umems       []*afxdp.UMEM
	workerStats []workerStats
	reloads     reloadStats
	stopping    atomic.Bool
	running     atomic.Bool
	wg          sync.WaitGroup
	closeOnce   sync.Once
}

// New discovers the configured interfaces, takes them over, opens their
// links and installs addresses, routes and static neighbours. Nothing
// forwards until Run. On error everything already taken is given back.
func New(cfg *Config, opts Options) (_ *Router, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.TickInterval == 0 {
		opts.TickInterval = 100 * time.Millisecond
	}
	if opts.IdlePoll == 0 {
		opts.IdlePoll = 50 * time.Millisecond
	}
	r := &Router{log: opts.Logger, opts: opts, cfg: cfg}
	defer func() {
		if err != nil {
			r.release()
		}
	}()
	r.s = stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{
			ipv4.NewProtocolWithOptions(ipv4.Options{
				ForwardDirectedBroadcast: cfg.IPv4.DirectedBroadcast,
				ICMPRate:                 rateOption(cfg.IPv4.ICMPRateLimit),
				ICMPBurst:                cfg.IPv4.ICMPBurst,
			}),
			arp.NewProtocol,
			ipv6.NewProtocolWithOptions(ipv6Options(cfg)),
		},
	})

	// Discover every interface first, so a typo fails before anything is
	// touched.
	for _, ic := range cfg.Interfaces {
		l, err := netlink.LinkByName(ic.Name)
		if err != nil {
			return nil, &ConfigError{File: cfg.File, Line: ic.Line, Field: "interfaces", Msg: fmt.Sprintf("interface %q not found (ip link show lists the interfaces)", ic.Name)}
		}
		a := l.Attrs()
		if err := checkLink(cfg, ic, a); err != nil {
			return nil, err
		}
		it := &iface{cfg: ic, ifindex: a.Index, queues: ic.Queues, fixedMTU: ic.MTU != 0}
		if it.queues == 0 {
			it.queues = max(1, a.NumRxQueues)
			// AF_XDP binds only to the queues in use (ethtool -l), which
			// can be fewer than the device has: a veth has one per CPU
			// but uses one. PACKET_MMAP's fanout spreads flows over the
			// sockets it is given, so it gets one per CPU the router may
			// run on (taskset, cgroup cpusets; read once, at start): more
			// workers than that only take turns. It stays capped at the
			// device's RX queues, so that a one-queue port on a big
			// machine does not get a 16 MiB ring and a worker per CPU.
			if ic.Mode == "afxdp" || (opts.AutoAFXDP && (ic.Mode == "" || ic.Mode == "auto")) {
				if n, err := afxdp.ActiveRXQueues(ic.Name); err == nil {
					it.queues = min(it.queues, n)
				}
			} else {
				it.queues = min(it.queues, allowedCPUs())
			}
		}
		it.mode = "packetmmap"
		it.linkUp.Store(a.Flags&net.FlagUp != 0 && (a.OperState == netlink.OperUp || a.OperState == netlink.OperUnknown))
		r.ifaces = append(r.ifaces, it)
		r.workers = max(r.workers, it.queues)
	}

	// The data workers exist before the links: AF_XDP UMEMs and TX rings
	// are keyed by worker ID. stack.NewWorker hands out the lowest free
	// ID, so queue q's worker is q+1 (0 is the control worker).
	for q := 0; q < r.workers; q++ {
		w, err := r.s.NewWorker()
		if err != nil {
			return nil, err
		}
		if w.ID() != q+1 {
			return nil, fmt.Errorf("stack worker for queue %d got ID %d, want %d", q, w.ID(), q+1)
		}
		r.ws = append(r.ws, w)
	}
	r.umems = make([]*afxdp.UMEM, r.workers)

	for i, it := range r.ifaces {
		if it.take, err = takeInterface(it.cfg.Name, it.ifindex); err != nil {
			return nil, err
		}
		why, err := r.openLink(it)
		if err != nil {
			return nil, err
		}
		if it.fixedMTU {
			it.link.SetMTU(uint32(it.cfg.MTU))
		}
		r.log.Info("interface taken over", "interface", it.cfg.Name, "ifindex", it.ifindex,
			"link", it.mode, "why", why, "queues", it.queues, "mtu", it.link.MTU(), "mac", it.link.LinkAddress().String(), "up", it.linkUp.Load())
		if it.nic, err = r.s.CreateNIC(stack.NICID(i+1), it.cfg.Name, it.link); err != nil {
			return nil, err
		}
		for _, a := range it.cfg.Addresses {
			if err := it.nic.AddAddress(a); err != nil {
				return nil, &ConfigError{File: cfg.File, Line: it.cfg.Line, Field: "addresses", Msg: err.Error()}
			}
		}
	}
	if err := r.installNeighbors(cfg, nil); err != nil {
		return nil, err
	}
	if err := r.installRoutes(cfg, nil); err != nil {
		return nil, err
	}
	r.reloads.lastSuccess.Store(time.Now().Unix())
	// Allocated here, not in Run: metrics may scrape Workers() before Run
	// starts, and the slice header must not change under it.
	r.workerStats = make([]workerStats, r.workers)
	return r, nil
}

func rateOption(v int) int {
	if v == 0 {
		return -1 // config 0 = unlimited; ipv4/ipv6 Options 0 = default
	}
	return v
}

// openLink opens it.link in the configured mode and says why that link
// runs: mode: packetmmap and afxdp get what they ask for (afxdp fails with
// the kernel's reason), auto gets packetmmap unless Options.AutoAFXDP, and
// then AF_XDP with packetmmap as the fallback.
func (r *Router) openLink(it *iface) (why string, err error) {
	switch it.cfg.Mode {
	case "afxdp":
		xe, err := r.openAFXDP(it)
		if err != nil {
			return "", fmt.Errorf("interface %q: mode afxdp: %w (mode: packetmmap works without AF_XDP)", it.cfg.Name, err)
		}
		it.link, it.mode = xe, "afxdp"
		return afxdpWhy("mode: afxdp", xe), nil
	case "packetmmap":
		why = "mode: packetmmap"
	default: // "", "auto"
		why = autoWhy
		if r.opts.AutoAFXDP {
			xe, xerr := r.openAFXDP(it)
			if xerr == nil {
				it.link, it.mode = xe, "afxdp"
				return afxdpWhy("mode: auto", xe), nil
			}
			why = fmt.Sprintf("mode: auto; AF_XDP failed, so packetmmap: %v", xerr)
		}
	}
	pm, err := packetmmap.New(packetmmap.Options{
		Interface: it.cfg.Name,
		Queues:    it.queues,
		// Writers: the control worker (ID 0) and every data worker.
		Writers: r.workers + 1,
	})
	if err != nil {
		return "", fmt.Errorf("interface %q: %w", it.cfg.Name, err)
	}
	it.link, it.mode = pm, "packetmmap"
	return why, nil
}

// openAFXDP opens an AF_XDP link on the interface's queues, each bound to the UMEM of
// the queue's worker (made on first use), with the XDP program in driver
// mode when the driver allows it, else generic mode.
func (r *Router) openAFXDP(it *iface) (*afxdp.Endpoint, error) {
	umems := make([]*afxdp.UMEM, it.queues)
	for q := range umems {
		if r.umems[q] == nil {
			u, err := afxdp.NewUMEM(afxdp.UMEMOptions{
				FrameSize: afxdp.DefaultFrameSize,
				NumFrames: r.umemFrames(),
				Worker:    r.ws[q].ID(),
			})
			if err != nil {
				return nil, err
			}
			r.umems[q] = u
		}
		umems[q] = r.umems[q]
	}
	return afxdp.New(afxdp.Options{
		Interface: it.cfg.Name,
		UMEMs:     umems,
		Mode:      afxdp.ModeAuto,
		// Copy mode: a UMEM shared with a second interface whose driver
		// lacks zero-copy cannot bind to a zero-copy UMEM, and veth has
		// none. Zero-copy on capable NICs is left for later.
		ZeroCopy: false,
	})
}

// umemFrames sizes a worker's UMEM: every AF_XDP socket on it can lend a
// full fill ring and a full TX ring to the kernel, and at least as many
// frames again stay free for the stack and for copies.
func (r *Router) umemFrames() int {
	n := afxdp.DefaultNumFrames
	for n < 2*len(r.ifaces)*2*afxdp.DefaultRingSize {
		n *= 2
	}
	return n
}

func afxdpWhy(prefix string, xe *afxdp.Endpoint) string {
	mode, why := xe.Mode()
	copyMode := "copy"
	if xe.ZeroCopy(0) {
		copyMode = "zero-copy"
	}
	return fmt.Sprintf("%s; XDP %v mode (%s), %s sockets", prefix, mode, why, copyMode)
}

// Stack is the router's stack (for metrics and tests).
func (r *Router) Stack() *stack.Stack { return r.s }

// Healthy reports whether every interface is up and forwarding.
func (r *Router) Healthy() bool {
	if !r.running.Load() || r.stopping.Load() {
		return false
	}
	for _, it := range r.ifaces {
		if !it.linkUp.Load() || !it.nic.Enabled() {
			return false
		}
	}
	return true
}

// Run enables the interfaces, starts one worker per RX queue index and the
// control loop, and blocks until ctx is done; then it stops the workers and
// gives every interface back.
func (r *Router) Run(ctx context.Context) error {
	for _, it := range r.ifaces {
		if it.linkUp.Load() {
			if err := it.nic.Enable(); err != nil {
				return err
			}
		} else {
			r.log.Warn("interface is down; it joins when it comes up", "interface", it.cfg.Name)
		}
	}
	// Each worker keeps its P while it sleeps in poll (see idleWait); the
	// control loop, signals and /metrics need Ps of their own.
	if need := r.workers + 2; runtime.GOMAXPROCS(0) < need {
		runtime.GOMAXPROCS(need)
	}
	for q, w := range r.ws {
		r.wg.Add(1)
		go r.worker(w, q)
	}
	updates, done := r.subscribeLinks()
	r.refreshAllOffloads()
	r.running.Store(true)
	r.log.Info("forwarding", "interfaces", len(r.ifaces), "workers", r.workers)
	tick := time.NewTicker(r.opts.TickInterval)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			r.s.Tick()
		case u, ok := <-updates:
			if !ok {
				// The library closes the channel when a receive fails
				// (ENOBUFS after a burst of changes): subscribe again.
				r.log.Warn("netlink link subscription ended; subscribing again")
				close(done)
				updates, done = r.subscribeLinks()
				r.refreshAllOffloads()
				continue
			}
			r.linkUpdate(u)
		}
	}
	close(done)
	r.Close()
	return nil
}

// worker runs RX queue q of every interface that has it, to completion,
// on a locked OS thread; when all its queues are empty it sleeps in
// poll(2) on their descriptors.
func (r *Router) worker(w *stack.Worker, q int) {
	defer r.wg.Done()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var mine []*iface
	var fds []unix.PollFd
	for _, it := range r.ifaces {
		if q < it.queues {
			mine = append(mine, it)
			fds = append(fds, unix.PollFd{Fd: int32(it.link.RXFD(q)), Events: unix.POLLIN})
		}
	}
	timeout := int(r.opts.IdlePoll / time.Millisecond)
	ws := &r.workerStats[q]
	last := time.Now()
	for !r.stopping.Load() {
		n := 0
		for _, it := range mine {
			n += it.link.Poll(w, q)
		}
		// The clock is read once per poll round (a batch per queue), never
		// per packet; the round's time counts as busy when it moved frames.
		now := time.Now()
		if n > 0 {
			ws.busyNanos.Add(int64(now.Sub(last)))
			ws.packets.Add(uint64(n))
			ws.batches.Add(1)
		} else {
			ws.idleNanos.Add(int64(now.Sub(last)))
			idleWait(fds, timeout)
			now2 := time.Now()
			ws.idleNanos.Add(int64(now2.Sub(now)))
			now = now2
		}
		last = now
	}
	r.s.ReleaseWorker(w)
}

// subscribeLinks follows link changes through netlink. The updates channel
// is closed by the library when the subscription fails.
func (r *Router) subscribeLinks() (chan netlink.LinkUpdate, chan struct{}) {
	updates := make(chan netlink.LinkUpdate, 64)
	done := make(chan struct{})
	if err := netlink.LinkSubscribeWithOptions(updates, done, netlink.LinkSubscribeOptions{
		ErrorCallback: func(err error) {
			if !r.stopping.Load() {
				r.log.Warn("netlink link subscription", "err", err)
			}
		},
	}); err != nil {
		r.log.Warn("cannot follow link changes (netlink)", "err", err)
	}
	return updates, done
}

// offloadRefresher is a link that follows the device's offload features
// (packetmmap: which super-packets the device segments itself, and which
// go to the kernel's software segmentation).
type offloadRefresher interface {
	RefreshOffloads() error
}

// refreshOffloads re-reads the offload features, if its link has any to
// follow. Precondition: r.mu is held, or the router is not running yet.
func (r *Router) refreshOffloads(it *iface) {
	if o, ok := it.link.(offloadRefresher); ok {
		if err := o.RefreshOffloads(); err != nil {
			r.log.Warn("cannot read offload features; super-packets are segmented by the kernel in software", "interface", it.cfg.Name, "err", err)
		}
	}
}

// refreshAllOffloads catches feature changes no RTM_NEWLINK told of: those
// made before the subscription started or lost with it.
func (r *Router) refreshAllOffloads() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, it := range r.ifaces {
		r.refreshOffloads(it)
	}
}

// linkUpdate follows an owned interface going down or up, MTU changes and
// offload feature changes (`ethtool -K` sends an RTM_NEWLINK,
// NETDEV_FEAT_CHANGE, with nothing in it saying so: every update re-reads).
func (r *Router) linkUpdate(u netlink.LinkUpdate) {
	if u.Link == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	a := u.Link.Attrs()
	for _, it := range r.ifaces {
		if it.ifindex != a.Index {
			continue
		}
		up := a.Flags&net.FlagUp != 0 && (a.OperState == netlink.OperUp || a.OperState == netlink.OperUnknown)
		if was := it.linkUp.Swap(up); was != up {
			if up {
				r.log.Info("interface up", "interface", it.cfg.Name)
				if err := it.nic.Enable(); err != nil {
					r.log.Error("enable interface", "interface", it.cfg.Name, "err", err)
				}
			} else {
				r.log.Warn("interface down", "interface", it.cfg.Name)
				it.nic.Disable()
				for _, p := range []stack.NetworkProtocolNumber{stack.IPv4ProtocolNumber, stack.IPv6ProtocolNumber} {
					if c := it.nic.Neighbors(p); c != nil {
						c.Flush()
					}
				}
			}
		}
		if !it.fixedMTU && a.MTU > 0 && uint32(a.MTU) != it.link.MTU() {
			r.log.Info("interface MTU changed", "interface", it.cfg.Name, "mtu", a.MTU)
			it.link.SetMTU(uint32(a.MTU))
		}
		r.refreshOffloads(it)
	}
}

// Close stops the workers and gives every interface back: sockets closed,
// TCX programs detached, locks released. It is safe to call twice.
func (r *Router) Close() {
	r.closeOnce.Do(func() {
		r.stopping.Store(true)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.wg.Wait()
		r.running.Store(false)
		r.release()
		r.log.Info("stopped; interfaces given back")
	})
}

func (r *Router) release() {
	for _, it := range r.ifaces {
		if it.nic != nil {
			it.nic.Disable()
			for _, p := range []stack.NetworkProtocolNumber{stack.IPv4ProtocolNumber, stack.IPv6ProtocolNumber} {
				if c := it.nic.Neighbors(p); c != nil {
					c.Flush()
				}
			}
		}
		if it.link != nil {
			it.link.Close()
		}
		it.take.close()
	}
	// UMEMs go after every link that used them: closing an endpoint takes
	// back the frames lent to its sockets.
	for q, u := range r.umems {
		if u == nil {
			continue
		}
		if err := u.Close(); err != nil {
			r.log.Warn("close AF_XDP UMEM", "queue", q, "err", err)
		}
		r.umems[q] = nil
	}
}

// ifaceByName finds an owned interface.
func (r *Router) ifaceByName(name string) *iface {
	for _, it := range r.ifaces {
		if it.cfg.Name == name {
			return it
		}
	}
	return nil
}

// configRoutes turns the config's routes into stack routes, resolving each
// next hop's interface.
func (r *Router) configRoutes(cfg *Config) ([]stack.Route, error) {
	var out []stack.Route
	for _, rc := range cfg.Routes {
		rt := stack.Route{Prefix: rc.Prefix, Source: stack.RouteSourceStatic}
		switch rc.Type {
		case "", "unicast":
			rt.Type = stack.RouteUnicast
		case "blackhole":
			rt.Type = stack.RouteBlackhole
		case "unreachable":
			rt.Type = stack.RouteUnreachable
		case "prohibit":
			rt.Type = stack.RouteProhibit
		}
		if rt.Type == stack.RouteUnicast {
			nh := stack.NextHop{Gateway: rc.Via}
			switch {
			case rc.Interface != "":
				it := r.ifaceByName(rc.Interface)
				if it == nil {
					return nil, &ConfigError{File: cfg.File, Line: rc.Line, Field: "routes", Msg: fmt.Sprintf("interface %q is not configured", rc.Interface)}
				}
				nh.NIC = it.nic.ID()
			default:
				nic := r.onLinkNIC(rc.Via)
				if nic == nil {
					return nil, &ConfigError{File: cfg.File, Line: rc.Line, Field: "routes", Msg: fmt.Sprintf("route %v: next hop %v is not on the subnet of any interface (add `interface:` or an address on its subnet)", rc.Prefix, rc.Via)}
				}
				nh.NIC = nic.ID()
			}
			rt.NextHops = []stack.NextHop{nh}
		}
		out = append(out, rt)
	}
	return out, nil
}

// onLinkNIC is the NIC with an address prefix that contains a.
func (r *Router) onLinkNIC(a netip.Addr) *stack.NIC {
	for _, it := range r.ifaces {
		if _, ok := it.nic.OnLinkPrefix(a); ok {
			return it.nic
		}
	}
	return nil
}

// installRoutes replaces the static routes of old (nil at start) with those
// of cfg in one batch, so lookups see either all old or all new routes.
func (r *Router) installRoutes(cfg, old *Config) error {
	want, err := r.configRoutes(cfg)
	if err != nil {
		return err
	}
	var changes []stack.RouteChange
	wantSet := map[netip.Prefix]bool{}
	for _, rt := range want {
		wantSet[rt.Prefix] = true
		changes = append(changes, stack.RouteChange{Op: stack.RouteReplace, Route: rt})
	}
	if old != nil {
		for _, rc := range old.Routes {
			if !wantSet[rc.Prefix] {
				changes = append(changes, stack.RouteChange{Op: stack.RouteDelete, Route: stack.Route{Prefix: rc.Prefix}})
			}
		}
	}
	if len(changes) == 0 {
		return nil
	}
	if err := r.s.Routes().Apply(changes); err != nil {
		return fmt.Errorf("install routes: %w", err)
	}
	return nil
}

// installNeighbors adds cfg's static neighbours and removes old's that are
// gone.
func (r *Router) installNeighbors(cfg, old *Config) error {
	cache := func(ifname string, a netip.Addr) *stack.NeighborCache {
		it := r.ifaceByName(ifname)
		if it == nil {
			return nil
		}
		p := stack.IPv4ProtocolNumber
		if a.Is6() {
			p = stack.IPv6ProtocolNumber
		}
		return it.nic.Neighbors(p)
	}
	if old != nil {
		for _, n := range old.Neighbors {
			if !slices.ContainsFunc(cfg.Neighbors, func(m NeighborConfig) bool { return m == n }) {
				if c := cache(n.Interface, n.Address); c != nil {
					c.Remove(n.Address)
				}
			}
		}
	}
	for _, n := range cfg.Neighbors {
		c := cache(n.Interface, n.Address)
		if c == nil {
			return &ConfigError{File: cfg.File, Line: n.Line, Field: "neighbors", Msg: fmt.Sprintf("interface %q is not configured or needs no neighbours", n.Interface)}
		}
		c.AddStatic(n.Address, stack.LinkAddress(n.MAC))
	}
	return nil
}

// ErrNeedsRestart is returned by Reload for changes it cannot apply live.
var ErrNeedsRestart = errors.New("change needs a restart")

// Reload applies a new configuration's addresses, routes and static
// neighbours without touching the links, so traffic on unchanged
// interfaces keeps flowing. Adding or removing interfaces, or changing
// their mode or queues, needs a restart.
func (r *Router) Reload(cfg *Config) (err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() { r.reloads.note(err) }()
	if len(cfg.Interfaces) != len(r.ifaces) {
		return fmt.Errorf("reload: the set of interfaces changed: %w", ErrNeedsRestart)
	}
	for i, ic := range cfg.Interfaces {
		it := r.ifaces[i]
		if ic.Name != it.cfg.Name || ic.Mode != it.cfg.Mode || ic.Queues != it.cfg.Queues {
			return fmt.Errorf("reload: interface %q: name, mode or queues changed: %w", ic.Name, ErrNeedsRestart)
		}
	}
	for i, ic := range cfg.Interfaces {
		it := r.ifaces[i]
		for _, a := range it.cfg.Addresses {
			if !slices.Contains(ic.Addresses, a) {
				if err := it.nic.RemoveAddress(a.Addr()); err != nil {
					return fmt.Errorf("reload: %w", err)
				}
			}
		}
		added := false
		for _, a := range ic.Addresses {
			if !slices.Contains(it.cfg.Addresses, a) {
				if err := it.nic.AddAddress(a); err != nil {
					return fmt.Errorf("reload: %w", err)
				}
				added = true
			}
		}
		if added && it.nic.Enabled() {
			r.announce(it.nic)
		}
		if ic.MTU != it.cfg.MTU && ic.MTU != 0 {
			it.link.SetMTU(uint32(ic.MTU))
		}
		it.fixedMTU = ic.MTU != 0
		it.cfg = ic
	}
	if err := r.installNeighbors(cfg, r.cfg); err != nil {
		return err
	}
	if err := r.installRoutes(cfg, r.cfg); err != nil {
		return err
	}
	r.cfg = cfg
	r.log.Info("configuration reloaded", "routes", len(cfg.Routes), "interfaces", len(cfg.Interfaces))
	return nil
}

// CheckInterfaces verifies that every configured interface exists and is
// Ethernet, without touching it (router -check).
func CheckInterfaces(cfg *Config) error {
	for _, ic := range cfg.Interfaces {
		l, err := netlink.LinkByName(ic.Name)
		if err != nil {
			return &ConfigError{File: cfg.File, Line: ic.Line, Field: "interfaces", Msg: fmt.Sprintf("interface %q not found (ip link show lists the interfaces)", ic.Name)}
		}
		if err := checkLink(cfg, ic, l.Attrs()); err != nil {
			return err
		}
	}
	return nil
}

// checkLink holds an interface's configuration against what the kernel
// says about it, so `router -check` and a start reject the same things.
func checkLink(cfg *Config, ic InterfaceConfig, a *netlink.LinkAttrs) error {
	bad := func(format string, args ...any) error {
		return &ConfigError{File: cfg.File, Line: ic.Line, Field: "interfaces", Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case len(a.HardwareAddr) != 6:
		return bad("interface %q is not an Ethernet interface", ic.Name)
	case ic.Queues > max(1, a.NumRxQueues):
		return bad("interface %q: queues: %d, but it has %d RX queues (0 means all of them)", ic.Name, ic.Queues, max(1, a.NumRxQueues))
	case ic.MTU > a.MTU:
		return bad("interface %q: mtu %d is above the interface's MTU %d; raise it first (ip link set %s mtu %d) or leave mtu at 0", ic.Name, ic.MTU, a.MTU, ic.Name, ic.MTU)
	}
	return nil
}

// ipv6Options maps the configuration onto the IPv6 protocol's options.
func ipv6Options(cfg *Config) ipv6.Options {
	o := ipv6.Options{
		ICMPRateLimit: rateOption(cfg.IPv6.ICMPRateLimit),
		ICMPBurst:     cfg.IPv6.ICMPBurst,
	}
	for _, ic := range cfg.Interfaces {
		if ic.RA == nil || !ic.RA.Enabled {
			continue
		}
		if o.RouterAdvertisements == nil {
			o.RouterAdvertisements = map[string]ndp.RAConfig{}
		}
		o.RouterAdvertisements[ic.Name] = ndp.RAConfig{
			Enabled:          true,
			MaxInterval:      ic.RA.Interval,
			RouterLifetime:   ic.RA.Lifetime,
			NotDefaultRouter: ic.RA.Lifetime == 0,
			Prefixes:         raPrefixes(ic.RA.Prefixes),
		}
	}
	return o
}

func raPrefixes(ps []netip.Prefix) []ndp.RAPrefix {
	out := make([]ndp.RAPrefix, len(ps))
	for i, p := range ps {
		out[i] = ndp.RAPrefix{Prefix: p}
	}
	return out
}

// announcer is implemented by protocol endpoints that tell the link about
// the NIC's addresses (gratuitous ARP, unsolicited Neighbor Advertisement).
type announcer interface{ Announce(w *stack.Worker) }

// announce makes neighbours learn addresses added while running, as they
// did for the addresses the interface came up with.
func (r *Router) announce(nic *stack.NIC) {
	r.s.RunControl(func(w *stack.Worker) {
		for _, p := range []stack.NetworkProtocolNumber{stack.ARPProtocolNumber, stack.IPv6ProtocolNumber} {
			if a, ok := nic.NetworkEndpoint(p).(announcer); ok {
				a.Announce(w)
			}
		}
	})
}

// workerStats are one worker's counters, written by the worker and read by
// metrics.
type workerStats struct {
	busyNanos, idleNanos atomic.Int64
	packets, batches     atomic.Uint64
	_                    [64]byte
}

// WorkerStats is a copy of one worker's counters.
type WorkerStats struct {
	// Queue is the RX queue index the worker serves on every interface.
	Queue int
	// Busy is time spent in poll rounds that moved frames; Idle the rest
	// (empty rounds and sleeping in poll(2)). Busy/(Busy+Idle) is the
	// worker's load.
	Busy, Idle time.Duration
	// Packets and Batches count received frames and non-empty rounds.
	Packets, Batches uint64
}

// Workers returns every worker's counters.
func (r *Router) Workers() []WorkerStats {
	out := make([]WorkerStats, len(r.workerStats))
	for i := range r.workerStats {
		ws := &r.workerStats[i]
		out[i] = WorkerStats{
			Queue:   i,
			Busy:    time.Duration(ws.busyNanos.Load()),
			Idle:    time.Duration(ws.idleNanos.Load()),
			Packets: ws.packets.Load(),
			Batches: ws.batches.Load(),
		}
	}
	return out
}

// reloadStats count configuration reloads for metrics.
type reloadStats struct {
	ok, failed  atomic.Uint64
	lastSuccess atomic.Int64 // unix seconds
	lastFailed  atomic.Bool  // the most recent attempt was rejected
}

func (s *reloadStats) note(err error) {
	if err != nil {
		s.failed.Add(1)
		s.lastFailed.Store(true)
		return
	}
	s.ok.Add(1)
	s.lastSuccess.Store(time.Now().Unix())
	s.lastFailed.Store(false)
}

// LastReloadSucceeded reports whether the most recent configuration (the
// start, or the last SIGHUP) was applied, so an alert can tell "running on
// a rejected file" from "fixed since".
func (r *Router) LastReloadSucceeded() bool { return !r.reloads.lastFailed.Load() }

// ReloadStats reports how many reloads succeeded and failed (a file that
// did not parse counts as failed) and when the last one succeeded (the
// start counts as one).
func (r *Router) ReloadStats() (ok, failed uint64, lastSuccess time.Time) {
	return r.reloads.ok.Load(), r.reloads.failed.Load(), time.Unix(r.reloads.lastSuccess.Load(), 0)
}

// ReloadFile reads path and applies it with Reload; either failure is
// counted, and the running configuration stays when it fails.
func (r *Router) ReloadFile(path string) error {
	cfg, err := LoadConfig(path)
	if err != nil {
		r.reloads.note(err)
		return err
	}
	return r.Reload(cfg)
}

// LinkStats are one interface's link counters, the same shape for every
// link kind.
type LinkStats struct {
	// Interface and Mode name the link ("packetmmap" or "afxdp").
	Interface, Mode string
	// HasFillRing is true for AF_XDP links, the only ones whose
	// RXQueueStats.FillRingEmpty means anything.
	HasFillRing bool
	// RX holds one entry per RX queue. TX holds one entry per writer,
	// indexed by stack worker ID: TX[0] is the control worker (AF_XDP: the
	// copying slow path, also used by workers with no socket on the
	// interface), TX[q+1] the worker of RX queue q.
	RX []RXQueueStats
	TX []TXQueueStats
}

// RXQueueStats are one RX queue's counters.
type RXQueueStats struct {
	Packets, Bytes uint64
	// Truncated frames were longer than a ring frame (PACKET_MMAP) and were
	// dropped.
	Truncated uint64
	// Outgoing frames were the host's own, sent on the interface and
	// handed back by a kernel older than Linux 6.2 (PACKET_MMAP); dropped.
	Outgoing uint64
	// KernelDrops are frames the kernel could not place: PACKET_STATISTICS
	// tp_drops, or XDP_STATISTICS rx_dropped + rx_ring_full.
	KernelDrops uint64
	// FillRingEmpty counts the times the kernel found the AF_XDP fill ring
	// empty (XDP_STATISTICS rx_fill_ring_empty_descs).
	FillRingEmpty uint64
}

// TXQueueStats are one writer's TX counters.
type TXQueueStats struct {
	Packets, Bytes uint64
	// RingFull frames found no free TX slot (AF_XDP: or no free UMEM
	// frame to copy into) and were dropped.
	RingFull uint64
	// TooBig frames did not fit a frame or the MTU and were dropped.
	TooBig uint64
	// Errors are failed doorbells (sendto errors other than EAGAIN), plus
	// frames a PACKET_MMAP ring skipped because the device refused them
	// kick after kick, and for AF_XDP TX descriptors the kernel rejected.
	Errors uint64
	// KernelGSO super-packets were handed to the kernel's software
	// segmentation (PACKET_MMAP, on a device without the offload).
	KernelGSO uint64
}

// Links returns every owned interface's link counters.
func (r *Router) Links() []LinkStats {
	var out []LinkStats
	for _, it := range r.ifaces {
		ls := LinkStats{Interface: it.cfg.Name, Mode: it.mode}
		switch l := it.link.(type) {
		case *packetmmap.Endpoint:
			for q := 0; q < l.NumRXQueues(); q++ {
				ls.RX = append(ls.RX, packetmmapRX(l.RXQueueStats(q)))
			}
			for i := 0; i < l.NumTXRings(); i++ {
				ls.TX = append(ls.TX, packetmmapTX(l.TXRingStats(i)))
			}
		case *afxdp.Endpoint:
			ls.HasFillRing = true
			sp := l.SlowPathStats()
			ls.TX = append(ls.TX, TXQueueStats{Packets: sp.TXPackets, Bytes: sp.TXBytes, Errors: sp.TXErrors})
			for q := 0; q < l.NumRXQueues(); q++ {
				rx, tx := afxdpStats(l.QueueStats(q))
				ls.RX = append(ls.RX, rx)
				ls.TX = append(ls.TX, tx)
			}
		default:
			continue
		}
		out = append(out, ls)
	}
	return out
}

func packetmmapRX(s packetmmap.Stats) RXQueueStats {
	return RXQueueStats{Packets: s.RXPackets, Bytes: s.RXBytes, Truncated: s.RXTruncated, Outgoing: s.RXOutgoing, KernelDrops: s.KernelDrops}
}

func packetmmapTX(s packetmmap.Stats) TXQueueStats {
	return TXQueueStats{Packets: s.TXPackets, Bytes: s.TXBytes, RingFull: s.TXRingFull, TooBig: s.TXTooBig, Errors: s.TXErrors + s.TXRefused, KernelGSO: s.TXKernelGSO}
}

// afxdpStats splits one AF_XDP socket's counters into its RX queue's and
// its writer's (socket q is written by the worker of queue q only).
func afxdpStats(s afxdp.Stats) (RXQueueStats, TXQueueStats) {
	return RXQueueStats{
			Packets: s.RXPackets, Bytes: s.RXBytes,
			KernelDrops:   s.Kernel.RXDropped + s.Kernel.RXRingFull,
			FillRingEmpty: s.Kernel.RXFillRingEmptyDescs,
		}, TXQueueStats{
			Packets: s.TXPackets, Bytes: s.TXBytes,
			RingFull: s.TXRingFull + s.TXNoFrame,
			TooBig:   s.TXTooBig,
			Errors:   s.TXErrors + s.Kernel.TXInvalidDescs,
		}
}

// allowedCPUs is how many CPUs the router may run on (its affinity mask),
// at least 1.
func allowedCPUs() int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return runtime.NumCPU()
	}
	return max(1, set.Count())
}
