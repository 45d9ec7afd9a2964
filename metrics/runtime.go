package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// workerMetrics export the data-path workers' load.
type workerMetrics struct {
	busy, idle, ratio, packets, batches metric
}

func newWorkerMetrics(f family) workerMetrics {
	return workerMetrics{
		busy:    f.counter("worker_busy_seconds_total", "Time the worker of an RX queue spent in poll rounds that moved frames.", labelQueue),
		idle:    f.counter("worker_idle_seconds_total", "Time the worker of an RX queue spent in empty poll rounds and asleep in poll(2).", labelQueue),
		ratio:   f.gauge("worker_busy_ratio", "busy/(busy+idle) of the worker over the process lifetime; use rate() of the seconds counters for recent load.", labelQueue),
		packets: f.counter("worker_packets_total", "Frames the worker received from its RX queues.", labelQueue),
		batches: f.counter("worker_batches_total", "Non-empty poll rounds of the worker; packets/batches is the mean batch size.", labelQueue),
	}
}

func (c *Collector) collectWorkers(ch chan<- prometheus.Metric, ws []WorkerSample) {
	m := &c.worker
	for _, w := range ws {
		q := strconv.Itoa(w.Queue)
		ratio := 0.0
		if total := w.Busy + w.Idle; total > 0 {
			ratio = float64(w.Busy) / float64(total)
		}
		m.busy.emit(ch, w.Busy.Seconds(), q)
		m.idle.emit(ch, w.Idle.Seconds(), q)
		m.ratio.emit(ch, ratio, q)
		m.packets.emit(ch, float64(w.Packets), q)
		m.batches.emit(ch, float64(w.Batches), q)
	}
}

// linkMetrics export the link endpoints' ring counters per queue.
type linkMetrics struct {
	info                                       metric
	rxPackets, rxBytes, rxTruncated, kernDrops metric
	rxOutgoing, fillEmpty                      metric
	txPackets, txBytes, txRingFull, txTooBig   metric
	txErrors, txKernelGSO                      metric
}

func newLinkMetrics(f family) linkMetrics {
	l := []string{labelInterface, labelQueue}
	return linkMetrics{
		info:        f.gauge("link_info", "Always 1; mode says which link the interface runs on (afxdp or packetmmap).", labelInterface, labelMode),
		rxPackets:   f.counter("link_rx_packets_total", "Frames the link read from an RX queue.", l...),
		rxBytes:     f.counter("link_rx_bytes_total", "Bytes of the frames the link read from an RX queue (Ethernet header included).", l...),
		rxTruncated: f.counter("link_rx_truncated_total", "Frames longer than a ring frame, dropped by the link.", l...),
		rxOutgoing:  f.counter("link_rx_outgoing_total", "Frames the host itself sent on the interface that the kernel (older than Linux 6.2) also handed to the RX rings; the link dropped them (PACKET_MMAP).", l...),
		kernDrops:   f.counter("link_kernel_drops_total", "Frames the kernel dropped because the RX ring was full (PACKET_STATISTICS or XDP_STATISTICS).", l...),
		fillEmpty:   f.counter("link_rx_fill_ring_empty_total", "Times the kernel found the AF_XDP fill ring empty (exported for AF_XDP links only).", l...),
		txPackets:   f.counter("link_tx_packets_total", "Frames the link handed to the kernel to send (TX ring, or the PACKET_MMAP super-packet socket; queue is the owning worker's RX queue, or control).", l...),
		txBytes:     f.counter("link_tx_bytes_total", "Bytes of the frames the link handed to the kernel to send (TX ring, or the PACKET_MMAP super-packet socket).", l...),
		txRingFull:  f.counter("link_tx_ring_full_total", "Frames dropped because the TX ring had no free slot (or the PACKET_MMAP super-packet socket no room: EAGAIN, ENOBUFS).", l...),
		txTooBig:    f.counter("link_tx_too_big_total", "Frames dropped because they did not fit a ring frame or the MTU.", l...),
		txErrors:    f.counter("link_tx_errors_total", "Failed TX doorbells (sendto errors other than EAGAIN), and frames the PACKET_MMAP super-packet socket failed to send for another reason.", l...),
		txKernelGSO: f.counter("link_tx_kernel_gso_total", "Super-packets handed to the kernel's software segmentation because the device lacks the offload (PACKET_MMAP).", l...),
	}
}

func (c *Collector) collectLinks(ch chan<- prometheus.Metric, links []LinkSample) {
	m := &c.link
	for _, l := range links {
		m.info.emit(ch, 1, l.Interface, l.Mode)
		for _, q := range l.RX {
			m.rxPackets.emit(ch, float64(q.Packets), l.Interface, q.Queue)
			m.rxBytes.emit(ch, float64(q.Bytes), l.Interface, q.Queue)
			m.rxTruncated.emit(ch, float64(q.Truncated), l.Interface, q.Queue)
			m.kernDrops.emit(ch, float64(q.KernelDrops), l.Interface, q.Queue)
			if l.Mode == "packetmmap" {
				m.rxOutgoing.emit(ch, float64(q.Outgoing), l.Interface, q.Queue)
			}
			if l.HasFillRing {
				m.fillEmpty.emit(ch, float64(q.FillRingEmpty), l.Interface, q.Queue)
			}
		}
		for _, q := range l.TX {
			m.txPackets.emit(ch, float64(q.Packets), l.Interface, q.Queue)
			m.txBytes.emit(ch, float64(q.Bytes), l.Interface, q.Queue)
			m.txRingFull.emit(ch, float64(q.RingFull), l.Interface, q.Queue)
			m.txTooBig.emit(ch, float64(q.TooBig), l.Interface, q.Queue)
			m.txErrors.emit(ch, float64(q.Errors), l.Interface, q.Queue)
			if l.Mode == "packetmmap" { // the only link that hands super-packets to the kernel
				m.txKernelGSO.emit(ch, float64(q.KernelGSO), l.Interface, q.Queue)
			}
		}
	}
}

// reloadMetrics export configuration reloads.
type reloadMetrics struct {
	reloads, lastSuccess, lastOK metric
}

func newReloadMetrics(f family) reloadMetrics {
	return reloadMetrics{
		reloads:     f.counter("config_reloads_total", "Configuration reloads (SIGHUP), by result (success, failure); a failed reload keeps the running configuration.", labelResult),
		lastSuccess: f.gauge("config_last_reload_success_timestamp_seconds", "Unix time the configuration was last applied (start-up counts); absent, never 0, when the router does not know."),
		lastOK:      f.gauge("config_last_reload_successful", "1 when the last configuration reload (SIGHUP; start-up counts) was applied, 0 when it was rejected and the router runs an older configuration; absent when the router cannot tell."),
	}
}

func (c *Collector) collectReloads(ch chan<- prometheus.Metric, r ReloadSample) {
	c.reload.reloads.emit(ch, float64(r.Succeeded), "success")
	c.reload.reloads.emit(ch, float64(r.Failed), "failure")
	if !r.LastSuccess.IsZero() && r.LastSuccess.Unix() > 0 {
		c.reload.lastSuccess.emit(ch, float64(r.LastSuccess.UnixNano())/1e9)
	}
	if r.Last != ReloadUnknown {
		c.reload.lastOK.emit(ch, boolFloat(r.Last == ReloadSucceeded))
	}
}
