# nexthop — build, test, benchmark and demo targets. `make help` lists them.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
PKGS := ./...
FUZZTIME ?= 10s
BENCHTIME ?= 1s
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

# Debian packages the tests, the demo and the benchmarks need.
DEB_PACKAGES := iproute2 iputils-ping iperf3 ethtool curl procps prometheus

.PHONY: help build test unit bench-smoke bench bench-net bench-net-quick fuzz lint deps demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

build: ## static bin/router and bin/bench (CGO_ENABLED=0)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/router ./cmd/router
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/bench ./bench/cmd/bench

# Packages whose tests run again under the race detector (the unit tests;
# the end-to-end tests drive a separate process).
RACE_PKGS := ./header/ ./stack/... ./link/memlink/ ./ipv4/ ./ipv6/ ./arp/ ./ndp/ ./forwarder/ ./metrics/

test: build ## vet + every test (root-only tests run when root) + race pass + benchmark smoke run
	$(GO) vet $(PKGS)
	$(GO) test -count=1 $(PKGS)
	$(GO) test -race -short -count=1 $(RACE_PKGS)
	$(MAKE) --no-print-directory bench-smoke
	NEXTHOP_BENCH_E2E=1 $(GO) test -count=1 -v -run '^TestQuickEndToEnd$$' ./bench/netbench/

unit: ## tests without the benchmark smoke run
	$(GO) test -count=1 $(PKGS)

bench-smoke: ## every benchmark once, so they keep compiling and running
	$(GO) test -count=1 -run '^$$' -bench . -benchtime=1x -short $(PKGS)

BENCHCOUNT ?= 5
bench: build ## the micro-benchmarks (route table, checksum, forwarding path), summarised as medians
	set -o pipefail; $(GO) test -count=$(BENCHCOUNT) -run '^$$' -bench . -benchmem -benchtime=$(BENCHTIME) ./header/ ./stack/... ./ipv4/ ./ipv6/ | bin/bench micro -md

bench-net: build ## the netns benchmark against Linux kernel forwarding (root, ≤ 10 min); appends to bench/RESULTS.md
	bin/bench net

bench-net-quick: build ## the netns benchmark's smoke run (root, ≤ 90 s): fails if a system produced no figure
	BENCH_QUICK=1 bin/bench net

fuzz: ## every fuzz target for FUZZTIME each (default 10s)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

lint: ## go vet + staticcheck (pinned in go.mod's tool block) + gofmt
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

deps: ## install the Debian packages that tests, demo and benchmarks need (only when missing)
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install$$missing"; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: all present ($(DEB_PACKAGES))"; fi

demo: ## three-namespace demo: host A — router — host B (root)
	@bash scripts/demo.sh

clean: ## remove build output
	rm -rf bin
