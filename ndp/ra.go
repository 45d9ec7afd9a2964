package ndp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/nexthop-router/nexthop/header"
	"github.com/nexthop-router/nexthop/stack"
)

// Router Advertisement constants of RFC 4861 §10.
const (
	// MaxInitialRtrAdvertInterval caps the interval of the first
	// MaxInitialRtrAdvertisements advertisements, so hosts on a link
	// that just came up learn the router quickly.
	MaxInitialRtrAdvertInterval = 16 * time.Second
	MaxInitialRtrAdvertisements = 3
	// MinDelayBetweenRAs is the least time between two multicast
	// advertisements, also when they answer solicitations.
	MinDelayBetweenRAs = 3 * time.Second
	// MaxRADelayTime bounds the random delay of every advertisement
	// that answers a Router Solicitation (§6.2.6), so that routers on a
	// link do not all answer at once.
	MaxRADelayTime = 500 * time.Millisecond
)

// RAConfig is the Router Advertisement configuration of one interface
// (RFC 4861 §6.2.1). The zero value sends nothing.
type RAConfig struct {
	// Enabled turns advertisements on (AdvSendAdvertisements); off by
	// default so the router never announces itself as a default router
	// unless asked to.
	Enabled bool
	// MaxInterval is MaxRtrAdvInterval, 4 s to 1800 s; 0 means 600 s.
	MaxInterval time.Duration
	// MinInterval is MinRtrAdvInterval, 3 s to 0.75*MaxInterval; 0 means
	// MaxInterval/3.
	MinInterval time.Duration
	// RouterLifetime is AdvDefaultLifetime, up to 9000 s; 0 means
	// 3*MaxInterval. NotDefaultRouter advertises 0 instead: hosts use the
	// prefixes but not the router as their default route.
	RouterLifetime   time.Duration
	NotDefaultRouter bool
	// CurHopLimit is the hop limit advertised to hosts; 0 means 64.
	CurHopLimit uint8
	// MTU is sent as an MTU option when non-zero.
	MTU uint32
	// Managed and Other are the M and O flags (DHCPv6).
	Managed, Other bool
	// ReachableTime and RetransTimer are advertised to hosts; 0 means
	// unspecified (hosts keep their own).
	ReachableTime, RetransTimer time.Duration
	// Prefixes are sent as Prefix Information options, at most
	// MaxRAPrefixes.
	Prefixes []RAPrefix
}

// MaxRAPrefixes bounds the prefixes of one advertisement so it always fits
// the IPv6 minimum MTU (40 + 32 + 32*36 < 1280).
const MaxRAPrefixes = 36

// RAPrefix is one advertised prefix (a Prefix Information option).
type RAPrefix struct {
	// Prefix is the advertised prefix; hosts autoconfigure only /64s.
	Prefix netip.Prefix
	// NoOnLink and NoAutonomous clear the L and A flags; the zero value
	// sets both, the RFC 4861 §6.2.1 defaults.
	NoOnLink, NoAutonomous bool
	// ValidLifetime and PreferredLifetime default (0) to 30 and 7 days;
	// InfiniteLifetime means forever.
	ValidLifetime, PreferredLifetime time.Duration
}

// InfiniteLifetime as a prefix lifetime is sent as 0xffffffff (forever).
const InfiniteLifetime = time.Duration(math.MaxInt64)

// Validate checks the configuration, naming the field at fault.
func (c *RAConfig) Validate() error {
	if !c.Enabled {
		return nil
	}
	max := c.maxInterval()
	if max < 4*time.Second || max > 1800*time.Second {
		return fmt.Errorf("ndp: RAConfig.MaxInterval %v: must be 4s..1800s", max)
	}
	if min := c.minInterval(); min < 3*time.Second || min > max*3/4 {
		return fmt.Errorf("ndp: RAConfig.MinInterval %v: must be 3s..0.75*MaxInterval", min)
	}
	if c.RouterLifetime < 0 || c.RouterLifetime > 9000*time.Second {
		return fmt.Errorf("ndp: RAConfig.RouterLifetime %v: must be 0..9000s", c.RouterLifetime)
	}
	if len(c.Prefixes) > MaxRAPrefixes {
		return fmt.Errorf("ndp: RAConfig.Prefixes: %d prefixes, at most %d", len(c.Prefixes), MaxRAPrefixes)
	}
	for i, p := range c.Prefixes {
		if !p.Prefix.IsValid() || !p.Prefix.Addr().Is6() || p.Prefix.Addr().Is4In6() {
			return fmt.Errorf("ndp: RAConfig.Prefixes[%d] %v: not an IPv6 prefix", i, p.Prefix)
		}
		if p.Prefix.Addr().IsLinkLocalUnicast() || p.Prefix.Addr().IsMulticast() {
			return fmt.Errorf("ndp: RAConfig.Prefixes[%d] %v: link-local or multicast prefix", i, p.Prefix)
		}
		if p.ValidLifetime < 0 || p.PreferredLifetime < 0 {
			return fmt.Errorf("ndp: RAConfig.Prefixes[%d]: negative lifetime", i)
		}
		if seconds(p.PreferredLifetime, 7*24*time.Hour) > seconds(p.ValidLifetime, 30*24*time.Hour) {
			return fmt.Errorf("ndp: RAConfig.Prefixes[%d]: PreferredLifetime exceeds ValidLifetime", i)
		}
	}
	return nil
}

func (c *RAConfig) maxInterval() time.Duration {
	if c.MaxInterval == 0 {
		return 600 * time.Second
	}
	return c.MaxInterval
}

func (c *RAConfig) minInterval() time.Duration {
	if c.MinInterval == 0 {
		return c.maxInterval() / 3
	}
	return c.MinInterval
}

// seconds converts a lifetime to the 32-bit seconds of the wire, with def
// for 0 and 0xffffffff for InfiniteLifetime.
func seconds(d, def time.Duration) uint32 {
	if d == 0 {
		d = def
	}
	if d == InfiniteLifetime || d/time.Second >= math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(d / time.Second)
}

func millis(d time.Duration) uint32 {
	if ms := d / time.Millisecond; ms < math.MaxUint32 {
		return uint32(ms)
	}
	return math.MaxUint32
}

// raFields is guarded by raState.mu.
type raFields struct {
	nic     *stack.NIC
	cfg     RAConfig
	fields  header.NDPRouterAdvertFields
	size    int   // ICMPv6 message size
	next    int64 // next periodic advertisement; 0: at the next Tick
	initial int   // advertisements sent since enabled
	lastMC  int64 // time of the last multicast advertisement
	rng     *rand.Rand
	// unicast limits unicast answers to solicitations, so a flood of
	// solicitations cannot turn into a flood of advertisements.
	unicast *stack.RateLimiter
	// pending are the unicast answers waiting out their random delay;
	// the first npending are in use.
	pending  [maxPendingRAs]pendingRA
	npending int
}

// pendingRA is a unicast Router Advertisement due at time at.
type pendingRA struct {
	dst     [16]byte
	mac     stack.LinkAddress
	haveMAC bool
	at      int64
}

// maxPendingRAs bounds the unicast answers waiting for their delay; more
// solicitations at once get the multicast answer instead.
const maxPendingRAs = 8

// unicastRARate and unicastRABurst bound unicast answers to Router
// Solicitations per interface; past them a multicast answer is scheduled,
// which MinDelayBetweenRAs limits.
const (
	unicastRARate  = 10
	unicastRABurst = 5
)

func (r *raState) init(nic *stack.NIC, cfg RAConfig) {
	r.nic = nic
	r.rng = rand.New(rand.NewPCG(uint64(nic.ID()), 0x6e6470))
	r.unicast = stack.NewRateLimiter(unicastRARate, unicastRABurst)
	r.setLocked(cfg)
}

// setLocked installs cfg and restarts the schedule.
//
// Precondition: r.mu is locked (or r is not shared yet).
func (r *raState) setLocked(cfg RAConfig) {
	r.cfg = cfg
	r.next, r.initial, r.lastMC = 0, 0, 0
	r.npending = 0
	lifetime := cfg.RouterLifetime
	if lifetime == 0 {
		lifetime = 3 * cfg.maxInterval()
	}
	if cfg.NotDefaultRouter {
		lifetime = 0
	}
	hop := cfg.CurHopLimit
	if hop == 0 {
		hop = 64
	}
	f := header.NDPRouterAdvertFields{
		CurHopLimit:    hop,
		Managed:        cfg.Managed,
		Other:          cfg.Other,
		RouterLifetime: uint16(min(lifetime/time.Second, 9000)),
		ReachableTime:  millis(cfg.ReachableTime),
		RetransTimer:   millis(cfg.RetransTimer),
		SourceLinkAddr: r.nic.LinkAddress(),
		MTU:            cfg.MTU,
	}
	for _, p := range cfg.Prefixes {
		f.Prefixes = append(f.Prefixes, header.NDPPrefix{
			Prefix:            p.Prefix.Masked().Addr().As16(),
			Length:            uint8(p.Prefix.Bits()),
			OnLink:            !p.NoOnLink,
			Autonomous:        !p.NoAutonomous,
			ValidLifetime:     seconds(p.ValidLifetime, 30*24*time.Hour),
			PreferredLifetime: seconds(p.PreferredLifetime, 7*24*time.Hour),
		})
	}
	r.fields = f
	r.size = header.ICMPv6HeaderSize + header.NDPRouterAdvertMinimumSize +
		header.NDPLinkLayerAddressOptionSize + header.NDPPrefixInformationOptionSize*len(f.Prefixes)
	if f.MTU != 0 {
		r.size += header.NDPMTUOptionSize
	}
}

// SetRAConfig replaces the interface's Router Advertisement configuration;
// when enabled, the first advertisement goes out at the next Tick.
func (e *Endpoint) SetRAConfig(cfg RAConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	e.ra.mu.Lock()
	defer e.ra.mu.Unlock()
	e.ra.setLocked(cfg)
	return nil
}

// RAConfig returns the interface's Router Advertisement configuration.
func (e *Endpoint) RAConfig() RAConfig {
	e.ra.mu.Lock()
	defer e.ra.mu.Unlock()
	return e.ra.cfg
}

// NextRA is when the next multicast advertisement is due (clock
// nanoseconds; 0: at the next Tick), and false when advertising is off.
func (e *Endpoint) NextRA() (int64, bool) {
	e.ra.mu.Lock()
	defer e.ra.mu.Unlock()
	return e.ra.next, e.ra.cfg.Enabled
}

// SetRand replaces the source of the random advertisement intervals and
// solicitation delays. The default is seeded from the NIC ID, so runs are
// reproducible; tests inject their own seed to predict every draw. Each
// Router Solicitation draws one delay, rng.Int64N(MaxRADelayTime+1), and
// each multicast advertisement sent by Tick one interval,
// rng.Int64N(MaxInterval-MinInterval+1).
func (e *Endpoint) SetRand(rng *rand.Rand) {
	e.ra.mu.Lock()
	defer e.ra.mu.Unlock()
	e.ra.rng = rng
}

// Tick sends the Router Advertisements that are due (RFC 4861 §6.2.4,
// §6.2.6): the periodic multicast one, whose intervals are uniform in
// [MinInterval, MaxInterval] and at most MaxInitialRtrAdvertInterval for
// the first three, and unicast answers to solicitations whose random delay
// ran out. A multicast advertisement also answers every pending
// solicitation. The stack's control path calls it (through the ipv6
// endpoint's stack.Ticker), every 100 ms in the forwarder.
func (e *Endpoint) Tick(w *stack.Worker) {
	r := &e.ra
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.cfg.Enabled || !e.nic.Enabled() {
		return
	}
	now := w.Now()
	if r.next != 0 && now < r.next {
		e.sendDueUnicastLocked(w, now)
		return
	}
	e.sendRALocked(w, AllNodes.As16(), stack.LinkAddress{}, false)
	r.npending = 0 // the multicast advertisement answered them
	r.lastMC = now
	r.initial++
	lo, hi := int64(r.cfg.minInterval()), int64(r.cfg.maxInterval())
	d := lo + r.rng.Int64N(hi-lo+1)
	if r.initial <= MaxInitialRtrAdvertisements {
		d = min(d, int64(MaxInitialRtrAdvertInterval))
	}
	r.next = now + d
}

// sendDueUnicastLocked sends the pending unicast answers due by now.
//
// Precondition: e.ra.mu is locked.
func (e *Endpoint) sendDueUnicastLocked(w *stack.Worker, now int64) {
	r := &e.ra
	kept := 0
	for i := range r.npending {
		p := r.pending[i]
		if p.at <= now {
			e.sendRALocked(w, p.dst, p.mac, p.haveMAC)
			continue
		}
		r.pending[kept] = p
		kept++
	}
	r.npending = kept
}

// handleRS follows RFC 4861 §6.1.1 (validation) and §6.2.6 (answer). Every
// answer waits a random delay in [0, MaxRADelayTime], sent by Tick:
//   - when the next multicast advertisement is due before the delay runs
//     out, it is the answer and nothing else is scheduled;
//   - a solicitation from a unicast source gets a unicast answer (RFC 4861
//     allows it), within a rate limit and maxPendingRAs;
//   - otherwise (from ::, or past those limits) the next multicast
//     advertisement is moved forward to now+delay, or, when one was sent
//     less than MinDelayBetweenRAs ago, to that one's time plus
//     MinDelayBetweenRAs plus the delay.
func (e *Endpoint) handleRS(w *stack.Worker, st *Stats, src [16]byte, rs header.NDPRouterSolicit) bool {
	slla, hasSLLA := linkLayerOption(rs.Options(), header.NDPOptionSourceLinkLayerAddress)
	if isUnspecified(src) && hasSLLA {
		st.Invalid++
		return false
	}
	st.RouterSolicitsReceived++
	r := &e.ra
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.cfg.Enabled {
		return true
	}
	if hasSLLA {
		if c := e.nic.Neighbors(stack.IPv6ProtocolNumber); c != nil {
			c.HandleProbe(w, netip.AddrFrom16(src), slla)
		}
	}
	now := w.Now()
	delay := r.rng.Int64N(int64(MaxRADelayTime) + 1)
	at := now + delay
	if r.next == 0 || r.next <= at {
		// The scheduled multicast advertisement (0: at the next Tick)
		// is sooner: it answers.
		return true
	}
	if !isUnspecified(src) {
		for i := range r.npending {
			if r.pending[i].dst == src {
				// Already answering this host; the delay counts from
				// its first solicitation.
				return true
			}
		}
		if r.npending < len(r.pending) && r.unicast.Allow(now) {
			r.pending[r.npending] = pendingRA{dst: src, mac: slla, haveMAC: hasSLLA, at: at}
			r.npending++
			return true
		}
	}
	if r.lastMC != 0 && now-r.lastMC < int64(MinDelayBetweenRAs) {
		at = r.lastMC + int64(MinDelayBetweenRAs) + delay
	}
	r.next = min(r.next, at)
	return true
}

// sendRALocked sends an advertisement from the NIC's link-local address
// (RFC 4861 §6.1.2 requires it) to dst.
//
// Precondition: e.ra.mu is locked.
func (e *Endpoint) sendRALocked(w *stack.Worker, dst [16]byte, mac stack.LinkAddress, haveMAC bool) {
	var src [16]byte
	found := false
	for _, p := range e.nic.IPv6Addresses() {
		if p.Addr().IsLinkLocalUnicast() {
			src, found = p.Addr().As16(), true
			break
		}
	}
	st := &e.stats[w.ID()]
	if !found {
		st.SendFailed++
		return
	}
	pkt, icmp := newPacket(w, src, dst, e.ra.size)
	header.EncodeNDPRouterAdvert(icmp, e.ra.fields, src, dst)
	st.RouterAdvertsSent++
	switch {
	case isMulticast(dst):
		e.nic.WriteEthernet(w, pkt, MulticastLinkAddress(dst), stack.IPv6ProtocolNumber)
	case haveMAC:
		e.nic.WriteEthernet(w, pkt, mac, stack.IPv6ProtocolNumber)
	default:
		e.nic.WriteToNextHop(w, netip.AddrFrom16(dst), pkt)
	}
}
