package netbench

import (
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/nexthop-router/nexthop/forwarder"
	"github.com/nexthop-router/nexthop/internal/netnstest"
)

const procStat = `cpu  10132153 290696 3084719 46828483 16683 0 25195 0 0 0
cpu0 1393280 32966 572056 13343292 6130 0 17875 0 0 0
cpu1 1335000 100 270000 13000000 500 20 3000 777 5 0
intr 199292 43 0 0
ctxt 26063581
`

func TestParseProcStat(t *testing.T) {
	c, err := ParseProcStat([]byte(procStat), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := CPUTimes{User: 1335000, Nice: 100, System: 270000, Idle: 13000000, IOWait: 500, IRQ: 20, SoftIRQ: 3000, Steal: 777}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	// Busy: user+nice+system+irq+softirq, not idle, iowait or steal.
	if got := c.Busy(); got != 1335000+100+270000+20+3000 {
		t.Errorf("Busy = %d", got)
	}
	later := c
	later.SoftIRQ += 40
	later.Idle += 1000
	later.Steal += 1000
	if got := later.BusyNsSince(c); got != 400e6 {
		t.Errorf("40 ticks busy = %v ns, want 4e8 (USER_HZ 100)", got)
	}
	if _, err := ParseProcStat([]byte(procStat), 2); err == nil || !strings.Contains(err.Error(), "no cpu2 line") {
		t.Errorf("missing CPU: err = %v", err)
	}
	if _, err := ParseProcStat([]byte("cpu1 1 2 3\n"), 1); err == nil {
		t.Error("short line parsed")
	}
	if _, err := ParseProcStat([]byte("cpu1 1 2 3 x 5 6 7 8\n"), 1); err == nil {
		t.Error("non-numeric field parsed")
	}
	// The real file parses for CPU 0.
	if data, err := os.ReadFile("/proc/stat"); err == nil {
		if _, err := ParseProcStat(data, 0); err != nil {
			t.Errorf("/proc/stat: %v", err)
		}
	}
}

func TestStealSince(t *testing.T) {
	from := `cpu0 100 0 50 800 0 0 50 0 0 0
cpu1 10 0 10 970 0 0 10 0 0 0
`
	// Over 200 ticks: the host core lost 50 to the hypervisor, the DUT
	// core 10 (iowait counts as elapsed time too).
	to := `cpu0 150 0 60 850 0 0 90 50 0 0
cpu1 20 0 20 1120 10 0 20 10 0 0
`
	if got, want := stealText([]byte(from), []byte(to)), ", steal 25 % host core / 5 % DUT core"; got != want {
		t.Errorf("stealText = %q, want %q", got, want)
	}
	// Nothing elapsed, a counter going backwards, a missing core: no figure.
	if got := stealText([]byte(from), []byte(from)); got != "" {
		t.Errorf("no time passed: %q", got)
	}
	if got := stealText([]byte(to), []byte(from)); got != "" {
		t.Errorf("backwards: %q", got)
	}
	// cpu0 ahead, cpu1 missing.
	if got := stealText([]byte(from), []byte("cpu0 150 0 60 850 0 0 90 50 0 0\n")); got != "" {
		t.Errorf("no cpu1 line: %q", got)
	}
	// Time passed but the steal count fell (a counter reset): no share.
	a := CPUTimes{User: 100, Idle: 100, Steal: 50}
	if share, ok := (CPUTimes{User: 200, Idle: 200, Steal: 10}).StealSince(a); ok {
		t.Errorf("steal went backwards: share %v, ok", share)
	}
}

func TestParseIperf3(t *testing.T) {
	data, err := os.ReadFile("testdata/iperf3-2streams.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := ParseIperf3(data)
	if err != nil {
		t.Fatal(err)
	}
	// Captured: iperf3 -c 127.0.0.1 -t 1 -P 2 -C cubic -J over loopback.
	if res.Gbps < 23.45 || res.Gbps > 23.46 || res.Retransmits != 1 {
		t.Errorf("got %+v, want 23.456 Gbit/s and 1 retransmit", res)
	}
	data, err = os.ReadFile("testdata/iperf3-refused.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseIperf3(data); err == nil || !strings.Contains(err.Error(), "Connection refused") {
		t.Errorf("refused run: err = %v, want iperf3's own message", err)
	}
	if _, err := ParseIperf3([]byte(`{"start":{}}`)); err == nil {
		t.Error("a run without end parsed")
	}
	if _, err := ParseIperf3([]byte(`iperf3: error`)); err == nil {
		t.Error("non-JSON parsed")
	}
}

func TestRouterConfig(t *testing.T) {
	for _, mode := range []string{"packetmmap", "afxdp"} {
		text := RouterConfig("nb1a", "nb1b", mode)
		cfg, err := forwarder.ParseConfig([]byte(text), "bench.yaml")
		if err != nil {
			t.Fatalf("%s: generated config does not parse: %v\n%s", mode, err, text)
		}
		if len(cfg.Interfaces) != 2 || cfg.Interfaces[0].Name != "nb1a" || cfg.Interfaces[1].Name != "nb1b" {
			t.Fatalf("%s: interfaces %+v", mode, cfg.Interfaces)
		}
		for _, ifc := range cfg.Interfaces {
			if ifc.Mode != mode {
				t.Errorf("%s: interface %s mode %q", mode, ifc.Name, ifc.Mode)
			}
		}
		got := []string{cfg.Interfaces[0].Addresses[0].String(), cfg.Interfaces[0].Addresses[1].String(),
			cfg.Interfaces[1].Addresses[0].String(), cfg.Interfaces[1].Addresses[1].String()}
		want := []string{"198.18.1.1/24", "2001:db8:1::1/64", "198.18.2.1/24", "2001:db8:2::1/64"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: addresses %v, want %v", mode, got, want)
		}
		if cfg.Metrics.Listen != "127.0.0.1:9469" {
			t.Errorf("%s: metrics listen %q", mode, cfg.Metrics.Listen)
		}
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP go_memstats_mallocs_total Total number of heap objects allocated.
# TYPE go_memstats_mallocs_total counter
go_memstats_mallocs_total 1.234567e+06
router_ip_forwarded_packets_total{interface="nb1a",ip="4"} 1000
router_ip_forwarded_packets_total{interface="nb1a",ip="6"} 24
router_ip_forwarded_packets_total{interface="nb1b",ip="4"} 3
router_ip_forwarded_bytes_total{interface="nb1a",ip="4"} 99999
`
	m, err := parseMetrics(text)
	if err != nil {
		t.Fatal(err)
	}
	if m.Mallocs != 1234567 || m.Forwarded != 1027 {
		t.Errorf("got %+v, want 1234567 mallocs and 1027 forwarded", m)
	}
	if _, err := parseMetrics("router_ip_forwarded_packets_total 5\n"); err == nil {
		t.Error("exposition without go_memstats_mallocs_total accepted")
	}
}

func TestParseSmallFiles(t *testing.T) {
	mb, err := parseVmHWM("Name:\trouter\nVmPeak:\t 2000 kB\nVmHWM:\t   30720 kB\nVmRSS:\t 100 kB\n")
	if err != nil || mb != 30 {
		t.Errorf("VmHWM = %v, %v; want 30 MiB", mb, err)
	}
	if _, err := parseVmHWM("Name:\trouter\n"); err == nil {
		t.Error("status without VmHWM parsed")
	}
	model, n := parseCPUInfo("processor\t: 0\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\n", 9)
	if model != "AMD EPYC" || n != 2 {
		t.Errorf("cpuinfo: %q %d", model, n)
	}
	hdr := "sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n"
	if boundPacketSocket(hdr) || boundPacketSocket(hdr+"ffff8 3 3 0003 0 1 0 0 1234\n") {
		t.Error("unbound or no socket reported as bound")
	}
	if !boundPacketSocket(hdr + "ffff8 3 3 0003 7 1 0 0 1234\n") {
		t.Error("socket bound to ifindex 7 not seen")
	}
	if line, err := lastJSONLine("noise\n{\"sent\":5}\n\n"); err != nil || string(line) != `{"sent":5}` {
		t.Errorf("lastJSONLine = %q, %v", line, err)
	}
}

// TestUDPDropProgram runs the receiver's TCX program on frames with
// BPF_PROG_TEST_RUN: UDP over either IP version is dropped, ARP, TCP and
// ICMPv6 (NDP) pass.
func TestUDPDropProgram(t *testing.T) {
	netnstest.RequireRoot(t)
	prog, err := ebpf.NewProgram(udpDropProgram())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	defer prog.Close()
	frame := func(etherType uint16, protoOff int, proto byte) []byte {
		b := make([]byte, 80)
		b[12], b[13] = byte(etherType>>8), byte(etherType)
		if protoOff > 0 {
			b[protoOff] = proto
		}
		return b
	}
	for _, c := range []struct {
		name string
		data []byte
		want uint32
	}{
		{"IPv4 UDP", frame(0x0800, 23, 17), 2},
		{"IPv4 TCP", frame(0x0800, 23, 6), 0xffffffff},
		{"IPv6 UDP", frame(0x86dd, 20, 17), 2},
		{"IPv6 ICMPv6", frame(0x86dd, 20, 58), 0xffffffff},
		{"ARP", frame(0x0806, 0, 0), 0xffffffff},
	} {
		ret, err := prog.Run(&ebpf.RunOptions{Data: c.data})
		if err != nil {
			t.Fatalf("%s: test run: %v", c.name, err)
		}
		if ret != c.want {
			t.Errorf("%s: returned %d, want %d (2 = drop, -1 = next)", c.name, int32(ret), int32(c.want))
		}
	}
}
