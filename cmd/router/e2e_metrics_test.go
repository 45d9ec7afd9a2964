//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// promServer is a real Prometheus (Debian's /usr/bin/prometheus) running
// inside the router namespace, scraping the router's 127.0.0.1:9469 every
// second into its own temporary data directory.
type promServer struct {
	tp *topo
}

const promAPI = "http://127.0.0.1:9090"

func startPrometheus(t *testing.T, tp *topo, bin string) *promServer {
	t.Helper()
	cfg := filepath.Join(tp.dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: nexthop
    static_configs:
      - targets: ["127.0.0.1:9469"]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	log := &lockedBuffer{}
	cmd := tp.r.Command(bin,
		"--config.file="+cfg,
		"--storage.tsdb.path="+t.TempDir(),
		"--web.listen-address=127.0.0.1:9090",
		"--web.enable-lifecycle",
	)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("prometheus (pid %d) did not exit after SIGKILL", cmd.Process.Pid)
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", log.String())
		}
	})
	p := &promServer{tp: tp}
	// Ready, and the router scraped successfully at least once.
	if !waitFor(15*time.Second, func() bool {
		v, ok := p.query(t, `up{job="nexthop"}`)
		return ok && v == 1
	}) {
		t.Fatalf("prometheus did not scrape the router within 15 s\n%s", log.String())
	}
	return p
}

// query runs an instant query through the HTTP API (curl inside the
// namespace) and returns the value of its single sample.
func (p *promServer) query(t *testing.T, q string) (float64, bool) {
	t.Helper()
	out, err := p.tp.r.Try("curl", "-s", "--max-time", "2", "--get", "--data-urlencode", "query="+q, promAPI+"/api/v1/query")
	if err != nil {
		return 0, false
	}
	var res struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.Unmarshal([]byte(out), &res) != nil || res.Status != "success" || len(res.Data.Result) != 1 {
		return 0, false
	}
	s, ok := res.Data.Result[0].Value[1].(string)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// waitScrapeAfter waits until Prometheus holds a scrape that started after
// ts, so every counter it read includes what happened before ts.
func (p *promServer) waitScrapeAfter(t *testing.T, ts time.Time) {
	t.Helper()
	want := float64(ts.UnixNano()) / 1e9
	if !waitFor(10*time.Second, func() bool {
		v, ok := p.query(t, `timestamp(up{job="nexthop"})`)
		return ok && v > want
	}) {
		t.Fatalf("no scrape of the router after %v within 10 s", ts)
	}
}

// TestEndToEndMetricsPrometheus runs a real Prometheus against the real
// router between namespaces, sends a known number of forwarded,
// TTL-expired and unroutable pings from host A, and checks through the
// Prometheus HTTP API that each counter rose by exactly that number.
func TestEndToEndMetricsPrometheus(t *testing.T) {
	tp := newTopo(t)
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus not installed (make deps installs Debian's prometheus package)")
	}
	tp.startRouter(t, baseConfig)
	// Resolve A↔router and router↔B before the baseline, so the counted
	// traffic is only what follows.
	if out, err := tp.a.Try("ping", "-c", "1", "-W", "2", "198.18.2.2"); err != nil {
		t.Fatalf("warm-up ping A→B: %v\n%s", err, out)
	}
	p := startPrometheus(t, tp, bin)

	const (
		nForwarded  = 5 // echo requests A→B, forwarded; B's replies too
		nTTL        = 3 // TTL 1: Time Exceeded from the router
		nUnroutable = 4 // 198.19.1.1: no route (only 198.19.0.0/24 is routed)
		// An ICMP echo request of ping's default 56 data bytes:
		// 20 (IPv4) + 8 (ICMP) + 56.
		pingPacket = 84
	)
	type counter struct {
		query string
		delta float64
	}
	counters := []counter{
		{`router_ip_forwarded_packets_total{interface="r1",ip="4"}`, nForwarded},
		{`router_ip_forwarded_bytes_total{interface="r1",ip="4"}`, nForwarded * pingPacket},
		{`router_ip_forwarded_packets_total{interface="r2",ip="4"}`, nForwarded}, // the replies
		{`router_ip_dropped_packets_total{interface="r1",ip="4",reason="exhausted_ttl"}`, nTTL},
		{`router_ip_dropped_packets_total{interface="r1",ip="4",reason="unrouteable"}`, nUnroutable},
		{`router_icmp_messages_sent_total{interface="r1",ip="4",type="time_exceeded"}`, nTTL},
		{`router_icmp_messages_sent_total{interface="r1",ip="4",type="dst_unreachable"}`, nUnroutable},
		{`router_ip_packets_received_total{interface="r1",ip="4"}`, nForwarded + nTTL + nUnroutable},
		{`sum(router_ip_dropped_packets_total{interface="r1",ip="4"})`, nTTL + nUnroutable},
		{`router_ip_dropped_packets_total{interface="r2",ip="4",reason="exhausted_ttl"}`, 0},
	}

	start := time.Now()
	p.waitScrapeAfter(t, start)
	base := make([]float64, len(counters))
	for i, c := range counters {
		v, ok := p.query(t, c.query)
		if !ok {
			t.Fatalf("baseline: no single sample for %s", c.query)
		}
		base[i] = v
	}

	if out, err := tp.a.Try("ping", "-c", strconv.Itoa(nForwarded), "-i", "0.1", "-W", "2", "198.18.2.2"); err != nil ||
		!strings.Contains(out, fmt.Sprintf("%d received", nForwarded)) {
		t.Fatalf("ping A→B: %v\n%s", err, out)
	}
	// Both pings below get errors back, so ping exits non-zero.
	out, _ := tp.a.Try("ping", "-c", strconv.Itoa(nTTL), "-i", "0.1", "-W", "1", "-t", "1", "198.18.2.2")
	if n := strings.Count(out, "Time to live exceeded"); n != nTTL {
		t.Errorf("TTL 1 pings: %d Time Exceeded answers, want %d\n%s", n, nTTL, out)
	}
	out, _ = tp.a.Try("ping", "-c", strconv.Itoa(nUnroutable), "-i", "0.1", "-W", "1", "198.19.1.1")
	if n := strings.Count(out, "Destination Net Unreachable"); n != nUnroutable {
		t.Errorf("unroutable pings: %d Net Unreachable answers, want %d\n%s", n, nUnroutable, out)
	}
	end := time.Now()

	p.waitScrapeAfter(t, end)
	for i, c := range counters {
		v, ok := p.query(t, c.query)
		if !ok {
			t.Errorf("after traffic: no single sample for %s", c.query)
			continue
		}
		if got := v - base[i]; got != c.delta {
			t.Errorf("%s rose by %v (from %v to %v), want exactly %v", c.query, got, base[i], v, c.delta)
		} else {
			t.Logf("%s rose by %v (from %v to %v)", c.query, got, base[i], v)
		}
	}
	// The whole live exposition (Go and process collectors, build info and
	// the router's families) passes promtool's lint, like the golden file.
	if promtool, err := exec.LookPath("promtool"); err == nil {
		scrape := tp.r.Run("curl", "-s", "--max-time", "5", "http://127.0.0.1:9469/metrics")
		check := exec.Command(promtool, "check", "metrics")
		check.Stdin = strings.NewReader(scrape)
		if out, err := check.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics on the live /metrics: %v\n%s", err, out)
		}
		for _, family := range []string{"router_build_info", "go_goroutines", "process_cpu_seconds_total", "router_link_kernel_drops_total", "router_worker_busy_ratio"} {
			if !strings.Contains(scrape, "\n"+family+"{") && !strings.Contains(scrape, "\n"+family+" ") {
				t.Errorf("live /metrics lacks %s", family)
			}
		}
	}
	if elapsed := time.Since(start); elapsed > 40*time.Second {
		t.Errorf("traffic and scrapes took %v; the test must stay well under 60 s", elapsed)
	}
}
