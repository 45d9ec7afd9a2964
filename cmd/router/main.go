// Command router runs nexthop, the user-space IPv4/IPv6 router.
//
//	router -config router.yaml           run
//	router -check -config router.yaml    validate the file (and that its interfaces exist), then exit
//	router -version
//
// Exit codes: 0 after a clean stop, 2 for a bad command line or
// configuration, 1 for anything else (missing privileges, kernel features).
// SIGTERM and SIGINT stop the router; SIGHUP reloads addresses, routes and
// static neighbours from the same file without touching the links.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/forwarder"
	"github.com/nexthop-router/nexthop/metrics"
)

// version is set at build time by the Makefile (-X main.version=…).
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("router", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "path of the YAML configuration file (required)")
	check := fs.Bool("check", false, "validate the configuration and that its interfaces exist, then exit")
	showVersion := fs.Bool("version", false, "print the version and exit")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stdout, "nexthop router %s (%s)\n", version, runtime.Version())
		return 0
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "router: -log-level %q: want debug, info, warn or error\n", *logLevel)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if *configPath == "" {
		fmt.Fprintln(stderr, "router: -config is required (see router.example.yaml)")
		return 2
	}
	cfg, err := forwarder.LoadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "router: %v\n", err)
		return 2
	}
	if *check {
		if err := forwarder.CheckInterfaces(cfg); err != nil {
			fmt.Fprintf(stderr, "router: %v\n", err)
			return 2
		}
		fmt.Fprintf(stdout, "%s: OK\n%s", *configPath, cfg.Summary())
		return 0
	}
	if err := checkPrivileges(); err != nil {
		fmt.Fprintf(stderr, "router: %v\n", err)
		return 1
	}

	r, err := forwarder.New(cfg, forwarder.Options{Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "router: %v\n", err)
		var ce *forwarder.ConfigError
		if errors.As(err, &ce) {
			return 2
		}
		return 1
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	srv, err := serveHTTP(cfg.Metrics.Listen, r, log)
	if err != nil {
		r.Close()
		fmt.Fprintf(stderr, "router: metrics.listen %q: %v\n", cfg.Metrics.Listen, err)
		return 1
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		for sig := range sigs {
			if sig == syscall.SIGHUP {
				reload(*configPath, r, log)
				continue
			}
			log.Info("stopping", "signal", sig.String())
			stop()
		}
	}()
	log.Info("nexthop router starting", "version", version, "config", *configPath)
	if err := r.Run(ctx); err != nil {
		r.Close()
		fmt.Fprintf(stderr, "router: %v\n", err)
		return 1
	}
	if srv != nil {
		shutCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = srv.Shutdown(shutCtx)
		cancel()
	}
	return 0
}

// reload re-reads the configuration file and applies it; a bad file leaves
// the running configuration in place.
func reload(path string, r *forwarder.Router, log *slog.Logger) {
	if err := r.ReloadFile(path); err != nil {
		log.Error("reload: configuration rejected; keeping the running one", "err", err)
	}
}

// serveHTTP starts /metrics and /healthz on listen ("" disables them).
func serveHTTP(listen string, r *forwarder.Router, log *slog.Logger) (*http.Server, error) {
	if listen == "" {
		return nil, nil
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "router_build_info",
			Help:        "Always 1; the labels say which nexthop build is running.",
			ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
		}, func() float64 { return 1 }),
		metrics.NewCollector(metricsSource{r}),
	)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if r.Healthy() {
			fmt.Fprintln(w, "ok")
			return
		}
		http.Error(w, "not forwarding yet (an interface is down or the router is starting or stopping)", http.StatusServiceUnavailable)
	})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "err", err)
		}
	}()
	log.Info("serving /metrics and /healthz", "listen", ln.Addr().String())
	return srv, nil
}

// Capabilities the router needs (linux/capability.h numbers).
const (
	capNetAdmin = 12
	capNetRaw   = 13
	capSysAdmin = 21
	capBPF      = 39
)

// checkPrivileges fails early, with the fix, when the process lacks a
// capability it will need.
func checkPrivileges() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return nil // cannot tell; the first socket or BPF call will say
	}
	has := func(c uint) bool { return data[c/32].Effective&(1<<(c%32)) != 0 }
	var missing []string
	if !has(capNetRaw) {
		missing = append(missing, "CAP_NET_RAW")
	}
	if !has(capNetAdmin) {
		missing = append(missing, "CAP_NET_ADMIN")
	}
	if !has(capBPF) && !has(capSysAdmin) {
		missing = append(missing, "CAP_BPF")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s: run as root or grant them (e.g. setcap cap_net_raw,cap_net_admin,cap_bpf+ep bin/router)", strings.Join(missing, ", "))
	}
	return nil
}
