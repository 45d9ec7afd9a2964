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
	"syscall"
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
	rp := tp.startRouter(t, baseConfig)
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
		// atLeast: the counter may rise by more (link-level counters
		// also see ARP/NDP and the router's own frames).
		atLeast bool
	}
	counters := []counter{
		{`router_ip_forwarded_packets_total{interface="r1",ip="4"}`, nForwarded, false},
		{`router_ip_forwarded_bytes_total{interface="r1",ip="4"}`, nForwarded * pingPacket, false},
		{`router_ip_forwarded_packets_total{interface="r2",ip="4"}`, nForwarded, false}, // the replies
		{`router_ip_dropped_packets_total{interface="r1",ip="4",reason="exhausted_ttl"}`, nTTL, false},
		{`router_ip_dropped_packets_total{interface="r1",ip="4",reason="unrouteable"}`, nUnroutable, false},
		{`router_icmp_messages_sent_total{interface="r1",ip="4",type="time_exceeded"}`, nTTL, false},
		{`router_icmp_messages_sent_total{interface="r1",ip="4",type="dst_unreachable"}`, nUnroutable, false},
		{`router_ip_packets_received_total{interface="r1",ip="4"}`, nForwarded + nTTL + nUnroutable, false},
		{`sum(router_ip_dropped_packets_total{interface="r1",ip="4"})`, nTTL + nUnroutable, false},
		{`router_ip_dropped_packets_total{interface="r2",ip="4",reason="exhausted_ttl"}`, 0, false},
		// Every packet A sent came through r1's link.
		{`sum by (interface) (router_link_rx_packets_total{interface="r1"})`, nForwarded + nTTL + nUnroutable, true},
		{`sum by (interface) (router_link_rx_packets_total{interface="r2"})`, nForwarded, true}, // B's replies
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
		if got := v - base[i]; c.atLeast && got < c.delta {
			t.Errorf("%s rose by %v (from %v to %v), want at least %v", c.query, got, base[i], v, c.delta)
		} else if !c.atLeast && got != c.delta {
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

	// Reloads: a file that does not parse, then a good one; each SIGHUP
	// moves its result's counter by one.
	reloads := func() (ok, failed float64) {
		t.Helper()
		ok, okOK := p.query(t, `router_config_reloads_total{result="success"}`)
		failed, failedOK := p.query(t, `router_config_reloads_total{result="failure"}`)
		if !okOK || !failedOK {
			t.Fatal("no router_config_reloads_total samples")
		}
		return ok, failed
	}
	ok0, failed0 := reloads()
	cfg := cfgPath(t, rp)
	for _, step := range []struct {
		file, log          string
		wantOK, wantFailed float64
		lastSuccessful     float64
	}{
		{"interfaces: [\n", "configuration rejected", 0, 1, 0},
		{baseConfig, "configuration reloaded", 1, 1, 1},
	} {
		if err := os.WriteFile(cfg, []byte(step.file), 0o644); err != nil {
			t.Fatal(err)
		}
		before := strings.Count(rp.stderr.String(), step.log)
		if err := rp.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		if !waitFor(5*time.Second, func() bool { return strings.Count(rp.stderr.String(), step.log) > before }) {
			t.Fatalf("no %q logged after SIGHUP:\n%s", step.log, rp.stderr.String())
		}
		p.waitScrapeAfter(t, time.Now())
		ok, failed := reloads()
		if ok-ok0 != step.wantOK || failed-failed0 != step.wantFailed {
			t.Errorf("after %q: reloads rose by %v success and %v failure, want %v and %v",
				step.log, ok-ok0, failed-failed0, step.wantOK, step.wantFailed)
		}
		// Exported once forwarder tells the last result (see
		// lastReloadResulter in metrics.go).
		if v, has := p.query(t, `router_config_last_reload_successful`); has && v != step.lastSuccessful {
			t.Errorf("after %q: router_config_last_reload_successful = %v, want %v", step.log, v, step.lastSuccessful)
		}
	}
	if elapsed := time.Since(start); elapsed > 40*time.Second {
		t.Errorf("traffic and scrapes took %v; the test must stay well under 60 s", elapsed)
	}
}
