package metrics

import (
	"time"

	"github.com/nexthop-router/nexthop/stack"
)

// Source is what the Collector reads besides the stack: the state that
// only a running router has. cmd/router implements it over a
// *forwarder.Router; tests implement it with fixed values. Every method
// is called once per scrape from the scrape goroutine and must be safe to
// call concurrently with forwarding.
type Source interface {
	// Stack is the router's stack; nil exports no stack metrics.
	Stack() *stack.Stack
	// Healthy reports whether every interface is up and forwarding.
	Healthy() bool
	// Workers returns one sample per data-path worker (empty before the
	// workers start).
	Workers() []WorkerSample
	// Reloads returns the configuration reload counters.
	Reloads() ReloadSample
	// Links returns one sample per owned interface's link.
	Links() []LinkSample
}

// WorkerSample is one data-path worker's counters, copied at scrape time.
type WorkerSample struct {
	// Queue is the RX queue index the worker serves on every interface;
	// it is the `queue` label.
	Queue int
	// Busy is the time spent in poll rounds that moved frames, Idle the
	// rest of the worker's life (empty rounds, sleeping in poll(2)).
	Busy, Idle time.Duration
	// Packets counts received frames; Batches non-empty poll rounds.
	Packets, Batches uint64
}

// ReloadSample counts configuration reloads.
type ReloadSample struct {
	// Succeeded and Failed count reloads (SIGHUP); a file that does not
	// parse counts as failed.
	Succeeded, Failed uint64
	// LastSuccess is when the configuration was last applied (the start
	// counts); the zero time exports no timestamp.
	LastSuccess time.Time
	// Last is the outcome of the most recent attempt (the start counts as
	// a success); ReloadUnknown exports no
	// router_config_last_reload_successful series.
	Last ReloadResult
}

// ReloadResult is the outcome of a configuration reload attempt.
type ReloadResult uint8

// Reload outcomes; the zero value means the Source cannot tell.
const (
	ReloadUnknown ReloadResult = iota
	ReloadSucceeded
	ReloadFailed
)

// LinkSample is one interface's link (AF_XDP or PACKET_MMAP) counters.
type LinkSample struct {
	// Interface is the interface name, the same as the stack NIC's name.
	Interface string
	// Mode is the link kind: "afxdp" or "packetmmap".
	Mode string
	// HasFillRing is true for links with an AF_XDP fill ring, the only
	// ones whose RXQueueSample.FillRingEmpty means anything; the metric is
	// exported only for them.
	HasFillRing bool
	// RX holds one sample per RX queue, TX one per TX ring.
	RX []RXQueueSample
	TX []TXQueueSample
}

// RXQueueSample are one RX queue's counters.
type RXQueueSample struct {
	// Queue is the `queue` label: the RX queue index.
	Queue string
	// Packets and Bytes the link delivered to the stack.
	Packets, Bytes uint64
	// Truncated frames were longer than a ring frame and were dropped.
	Truncated uint64
	// Outgoing frames were the host's own, handed back by an older kernel
	// and dropped (PACKET_MMAP).
	Outgoing uint64
	// KernelDrops are frames the kernel could not place in the ring
	// (PACKET_STATISTICS tp_drops, or XDP_STATISTICS rx_dropped +
	// rx_ring_full for AF_XDP).
	KernelDrops uint64
	// FillRingEmpty counts the times the kernel found the AF_XDP fill
	// ring empty (XDP_STATISTICS rx_fill_ring_empty_descs).
	FillRingEmpty uint64
}

// TXQueueSample are one TX ring's counters.
type TXQueueSample struct {
	// Queue is the `queue` label: the RX queue of the worker that owns
	// the ring, or "control" for the control path's ring.
	Queue string
	// Packets and Bytes the link accepted for sending.
	Packets, Bytes uint64
	// RingFull frames found no free TX slot and were dropped.
	RingFull uint64
	// TooBig frames did not fit a ring frame or the MTU.
	TooBig uint64
	// Errors are failed doorbells (sendto errors other than EAGAIN).
	Errors uint64
	// KernelGSO super-packets were handed to the kernel's software
	// segmentation.
	KernelGSO uint64
}
