package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nexthop-router/nexthop/stack"
)

// namespace prefixes every metric name (DESIGN.md §4).
const namespace = "router"

// Label names (DESIGN.md §4).
const (
	labelInterface = "interface"
	labelIP        = "ip"
	labelReason    = "reason"
	labelState     = "state"
	labelQueue     = "queue"
	labelType      = "type"
	labelMode      = "mode"
	labelResult    = "result"
)

// metric is one exported family: its descriptor and value type.
type metric struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
}

// emit sends one const sample of m; labels follow the order m was built
// with.
func (m metric) emit(ch chan<- prometheus.Metric, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(m.desc, m.typ, v, labels...)
}

// family declares the metric families of one concern and remembers every
// descriptor for Describe.
type family struct {
	all *[]*prometheus.Desc
}

func (f family) new(typ prometheus.ValueType, name, help string, labels ...string) metric {
	d := prometheus.NewDesc(namespace+"_"+name, help, labels, nil)
	*f.all = append(*f.all, d)
	return metric{desc: d, typ: typ}
}

func (f family) counter(name, help string, labels ...string) metric {
	return f.new(prometheus.CounterValue, name, help, labels...)
}

func (f family) gauge(name, help string, labels ...string) metric {
	return f.new(prometheus.GaugeValue, name, help, labels...)
}

// Collector is a prometheus.Collector for the whole router. It keeps no
// state between scrapes: Collect reads the counters the data path keeps
// (summing per-worker copies) and emits const metrics, so nothing of
// Prometheus runs on the packet path. Create it with NewCollector and
// register it once.
type Collector struct {
	src   Source
	descs []*prometheus.Desc

	ip     ipMetrics
	icmp   icmpMetrics
	neigh  neighborMetrics
	arp    arpMetrics
	ndp    ndpMetrics
	nic    nicMetrics
	route  metric
	worker workerMetrics
	link   linkMetrics
	reload reloadMetrics
	health metric
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a Collector that reads src at every scrape.
func NewCollector(src Source) *Collector {
	c := &Collector{src: src}
	f := family{all: &c.descs}
	c.ip = newIPMetrics(f)
	c.icmp = newICMPMetrics(f)
	c.neigh = newNeighborMetrics(f)
	c.arp = newARPMetrics(f)
	c.ndp = newNDPMetrics(f)
	c.nic = newNICMetrics(f)
	c.route = f.gauge("routes", "Routes installed in the route table, by address family and route type (unicast, blackhole, unreachable, prohibit).", labelIP, labelType)
	c.worker = newWorkerMetrics(f)
	c.link = newLinkMetrics(f)
	c.reload = newReloadMetrics(f)
	c.health = f.gauge("healthy", "1 when every interface is up and forwarding (what /healthz answers 200 for), else 0.")
	return c
}

// Describe implements prometheus.Collector: every family the Collector
// can emit, so a registry checks names and labels at registration.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector. It runs on the scrape
// goroutine; the reads it makes are the lock-free counter sums and the
// control path's short critical sections (neighbour state counts).
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if s := c.src.Stack(); s != nil {
		for _, nic := range s.NICs() {
			c.collectNIC(ch, nic)
		}
		c.collectRoutes(ch, s.Routes().Count())
	}
	c.collectWorkers(ch, c.src.Workers())
	c.collectLinks(ch, c.src.Links())
	c.collectReloads(ch, c.src.Reloads())
	c.health.emit(ch, boolFloat(c.src.Healthy()))
}

// collectNIC emits everything that belongs to one NIC: link-level frame
// counters, then per IP version the IP, ICMP and neighbour counters, then
// ARP and NDP.
func (c *Collector) collectNIC(ch chan<- prometheus.Metric, nic *stack.NIC) {
	name := nic.Name()
	c.nic.collect(ch, nic)
	for _, v := range ipVersions {
		ep := nic.NetworkEndpoint(v.proto)
		if ep == nil {
			continue
		}
		c.ip.collect(ch, name, v.label, ep.Stats())
		c.icmp.collect(ch, name, v.label, ep)
		if nc := nic.Neighbors(v.proto); nc != nil {
			c.neigh.collect(ch, name, v.label, nc)
		}
	}
	c.arp.collect(ch, nic)
	c.ndp.collect(ch, nic)
}

// collectRoutes emits the route count of every family and type, zeros
// included.
func (c *Collector) collectRoutes(ch chan<- prometheus.Metric, rc stack.RouteCounts) {
	for t := range stack.RouteType(stack.NumRouteTypes) {
		c.route.emit(ch, float64(rc.IPv4[t]), "4", t.String())
		c.route.emit(ch, float64(rc.IPv6[t]), "6", t.String())
	}
}

// ipVersions are the IP protocols exported with their `ip` label.
var ipVersions = []struct {
	proto stack.NetworkProtocolNumber
	label string
}{
	{stack.IPv4ProtocolNumber, "4"},
	{stack.IPv6ProtocolNumber, "6"},
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
