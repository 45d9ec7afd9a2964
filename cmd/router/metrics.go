package main

import (
	"strconv"
	"time"

	"github.com/nexthop-router/nexthop/forwarder"
	"github.com/nexthop-router/nexthop/metrics"
	"github.com/nexthop-router/nexthop/stack"
)

// metricsSource adapts a *forwarder.Router to metrics.Source. It lives
// here, not in metrics, because metrics must not import forwarder
// (DESIGN.md §1: forwarder → metrics).
type metricsSource struct{ r routerStats }

// routerStats is the part of *forwarder.Router the adapter reads; tests
// stand in for it with fixed values.
type routerStats interface {
	Stack() *stack.Stack
	Healthy() bool
	Workers() []forwarder.WorkerStats
	ReloadStats() (ok, failed uint64, lastSuccess time.Time)
	Links() []forwarder.LinkStats
}

var _ routerStats = (*forwarder.Router)(nil)

// lastReloadResulter is the accessor behind
// router_config_last_reload_successful: whether the most recent reload
// attempt (the start counts) was applied. The counters and the success
// timestamp cannot tell the order of a failure and a success between two
// scrapes; forwarder.Router records it. Stub routers in tests may lack it,
// and then the gauge is not exported.
type lastReloadResulter interface{ LastReloadSucceeded() bool }

var _ lastReloadResulter = (*forwarder.Router)(nil)

var _ metrics.Source = metricsSource{}

// Stack implements metrics.Source.
func (m metricsSource) Stack() *stack.Stack { return m.r.Stack() }

// Healthy implements metrics.Source.
func (m metricsSource) Healthy() bool { return m.r.Healthy() }

// Workers implements metrics.Source.
func (m metricsSource) Workers() []metrics.WorkerSample {
	ws := m.r.Workers()
	out := make([]metrics.WorkerSample, len(ws))
	for i, w := range ws {
		out[i] = metrics.WorkerSample{Queue: w.Queue, Busy: w.Busy, Idle: w.Idle, Packets: w.Packets, Batches: w.Batches}
	}
	return out
}

// Reloads implements metrics.Source. A router that never recorded a
// success reports time.Unix(0, 0); that becomes the zero time, so no 1970
// timestamp is exported.
func (m metricsSource) Reloads() metrics.ReloadSample {
	ok, failed, last := m.r.ReloadStats()
	if last.Unix() <= 0 {
		last = time.Time{}
	}
	s := metrics.ReloadSample{Succeeded: ok, Failed: failed, LastSuccess: last}
	if lr, has := m.r.(lastReloadResulter); has {
		s.Last = metrics.ReloadFailed
		if lr.LastReloadSucceeded() {
			s.Last = metrics.ReloadSucceeded
		}
	}
	return s
}

// Links implements metrics.Source.
func (m metricsSource) Links() []metrics.LinkSample {
	links := m.r.Links()
	out := make([]metrics.LinkSample, 0, len(links))
	for _, l := range links {
		s := metrics.LinkSample{Interface: l.Interface, Mode: l.Mode, HasFillRing: l.HasFillRing}
		for q, st := range l.RX {
			s.RX = append(s.RX, metrics.RXQueueSample{
				Queue:   strconv.Itoa(q),
				Packets: st.Packets, Bytes: st.Bytes,
				Truncated: st.Truncated, Outgoing: st.Outgoing, KernelDrops: st.KernelDrops,
				FillRingEmpty: st.FillRingEmpty,
			})
		}
		for i, st := range l.TX {
			s.TX = append(s.TX, metrics.TXQueueSample{
				Queue:   txRingQueue(i),
				Packets: st.Packets, Bytes: st.Bytes,
				RingFull: st.RingFull, TooBig: st.TooBig, Errors: st.Errors,
				KernelGSO: st.KernelGSO,
			})
		}
		out = append(out, s)
	}
	return out
}

// txRingQueue names TX ring i by the worker that writes it. Rings are
// indexed by stack worker ID (for AF_XDP, entry 0 is the slow path the
// control worker writes through): ID 0 is the stack's control worker, and the
// forwarder reserves the data workers in RX queue order right after it
// (stack.NewWorker hands out the lowest free ID), so ring q+1 belongs to
// the worker of RX queue q. The `queue` label then matches the RX and
// worker series of the same worker.
func txRingQueue(i int) string {
	if i == 0 {
		return "control"
	}
	return strconv.Itoa(i - 1)
}
