package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/nexthop-router/nexthop/forwarder"
	"github.com/nexthop-router/nexthop/metrics"
	"github.com/nexthop-router/nexthop/stack"
)

// stubRouter serves fixed router statistics to the adapter.
type stubRouter struct {
	healthy     bool
	workers     []forwarder.WorkerStats
	ok, failed  uint64
	lastSuccess time.Time
	links       []forwarder.LinkStats
}

func (s *stubRouter) Stack() *stack.Stack              { return nil }
func (s *stubRouter) Healthy() bool                    { return s.healthy }
func (s *stubRouter) Workers() []forwarder.WorkerStats { return s.workers }
func (s *stubRouter) Links() []forwarder.LinkStats     { return s.links }
func (s *stubRouter) ReloadStats() (uint64, uint64, time.Time) {
	return s.ok, s.failed, s.lastSuccess
}

// stubRouterWithResult also knows the last reload's outcome, as
// forwarder.Router will once it has LastReloadSucceeded.
type stubRouterWithResult struct {
	stubRouter
	lastOK bool
}

func (s *stubRouterWithResult) LastReloadSucceeded() bool { return s.lastOK }

// TestMetricsSource checks the adapter field by field: worker, reload and
// link samples of both link kinds (TX rings named by their worker's RX
// queue, "control" for ring 0; the fill-ring flag and counter of AF_XDP), the 1970 timestamp of a router without a success, and the last
// reload's outcome only when the router can tell it.
func TestMetricsSource(t *testing.T) {
	start := time.Unix(1767225600, 0)
	link := forwarder.LinkStats{
		Interface: "eth1", Mode: "packetmmap",
		RX: []forwarder.RXQueueStats{
			{Packets: 10, Bytes: 1000, Truncated: 1, KernelDrops: 2},
			{Packets: 20, Bytes: 2000},
		},
		TX: []forwarder.TXQueueStats{
			{Packets: 3, Bytes: 300},
			{Packets: 4, Bytes: 400, RingFull: 5, TooBig: 6, Errors: 7},
			{Packets: 8, Bytes: 800},
		},
	}
	wantLink := metrics.LinkSample{
		Interface: "eth1", Mode: "packetmmap",
		RX: []metrics.RXQueueSample{
			{Queue: "0", Packets: 10, Bytes: 1000, Truncated: 1, KernelDrops: 2},
			{Queue: "1", Packets: 20, Bytes: 2000},
		},
		TX: []metrics.TXQueueSample{
			{Queue: "control", Packets: 3, Bytes: 300},
			{Queue: "0", Packets: 4, Bytes: 400, RingFull: 5, TooBig: 6, Errors: 7},
			{Queue: "1", Packets: 8, Bytes: 800},
		},
	}
	xdpLink := forwarder.LinkStats{
		Interface: "eth2", Mode: "afxdp", HasFillRing: true,
		RX: []forwarder.RXQueueStats{{Packets: 11, Bytes: 1100, KernelDrops: 3, FillRingEmpty: 9}},
		TX: []forwarder.TXQueueStats{{Packets: 1, Bytes: 60, Errors: 1}, {Packets: 12, Bytes: 1200, RingFull: 2, TooBig: 1, Errors: 4}},
	}
	wantXDPLink := metrics.LinkSample{
		Interface: "eth2", Mode: "afxdp", HasFillRing: true,
		RX: []metrics.RXQueueSample{{Queue: "0", Packets: 11, Bytes: 1100, KernelDrops: 3, FillRingEmpty: 9}},
		TX: []metrics.TXQueueSample{
			{Queue: "control", Packets: 1, Bytes: 60, Errors: 1},
			{Queue: "0", Packets: 12, Bytes: 1200, RingFull: 2, TooBig: 1, Errors: 4},
		},
	}
	for _, tc := range []struct {
		name    string
		r       routerStats
		healthy bool
		workers []metrics.WorkerSample
		reloads metrics.ReloadSample
		links   []metrics.LinkSample
	}{
		{
			name:    "empty",
			r:       &stubRouter{lastSuccess: time.Unix(0, 0)},
			workers: []metrics.WorkerSample{},
			reloads: metrics.ReloadSample{}, // no 1970 timestamp, outcome unknown
			links:   []metrics.LinkSample{},
		},
		{
			name: "running",
			r: &stubRouter{
				healthy: true,
				workers: []forwarder.WorkerStats{
					{Queue: 0, Busy: time.Second, Idle: 3 * time.Second, Packets: 100, Batches: 10},
					{Queue: 1, Idle: time.Second},
				},
				ok: 3, failed: 1, lastSuccess: start,
				links: []forwarder.LinkStats{link, xdpLink},
			},
			healthy: true,
			workers: []metrics.WorkerSample{
				{Queue: 0, Busy: time.Second, Idle: 3 * time.Second, Packets: 100, Batches: 10},
				{Queue: 1, Idle: time.Second},
			},
			reloads: metrics.ReloadSample{Succeeded: 3, Failed: 1, LastSuccess: start},
			links:   []metrics.LinkSample{wantLink, wantXDPLink},
		},
		{
			name:    "last reload rejected",
			r:       &stubRouterWithResult{stubRouter: stubRouter{ok: 1, failed: 2, lastSuccess: start}, lastOK: false},
			workers: []metrics.WorkerSample{},
			reloads: metrics.ReloadSample{Succeeded: 1, Failed: 2, LastSuccess: start, Last: metrics.ReloadFailed},
			links:   []metrics.LinkSample{},
		},
		{
			name:    "last reload applied",
			r:       &stubRouterWithResult{stubRouter: stubRouter{ok: 2, failed: 2, lastSuccess: start}, lastOK: true},
			workers: []metrics.WorkerSample{},
			reloads: metrics.ReloadSample{Succeeded: 2, Failed: 2, LastSuccess: start, Last: metrics.ReloadSucceeded},
			links:   []metrics.LinkSample{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := metricsSource{tc.r}
			if m.Stack() != nil {
				t.Error("Stack() not passed through")
			}
			if got := m.Healthy(); got != tc.healthy {
				t.Errorf("Healthy() = %v, want %v", got, tc.healthy)
			}
			if got := m.Workers(); !reflect.DeepEqual(got, tc.workers) {
				t.Errorf("Workers() = %+v, want %+v", got, tc.workers)
			}
			if got := m.Reloads(); !reflect.DeepEqual(got, tc.reloads) {
				t.Errorf("Reloads() = %+v, want %+v", got, tc.reloads)
			}
			if got := m.Links(); !reflect.DeepEqual(got, tc.links) {
				t.Errorf("Links() = %+v, want %+v", got, tc.links)
			}
		})
	}
}

func TestTXRingQueue(t *testing.T) {
	for i, want := range []string{"control", "0", "1", "9"} {
		if i == 3 {
			i = 10
		}
		if got := txRingQueue(i); got != want {
			t.Errorf("txRingQueue(%d) = %q, want %q", i, got, want)
		}
	}
}
