//go:build linux

package traffic

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// docDeviceFile is the device file of pktgen.rst, "Viewing devices",
// after a run of 100000 frames (the real format; indentation as printed).
const docDeviceFile = `Params: count 100000  min_pkt_size: 60  max_pkt_size: 60
     frags: 0  delay: 0  clone_skb: 64  ifname: eth4@0
     flows: 0 flowlen: 0
     queue_map_min: 0  queue_map_max: 0
     dst_min: 192.168.81.2  dst_max:
     src_min:   src_max:
     src_mac: 90:e2:ba:0a:56:b4 dst_mac: 00:1b:21:3c:9d:f8
     udp_src_min: 9  udp_src_max: 109  udp_dst_min: 9  udp_dst_max: 9
     src_mac_count: 0  dst_mac_count: 0
     Flags: UDPSRC_RND  NO_TIMESTAMP  QUEUE_MAP_CPU
Current:
     pkts-sofar: 100000  errors: 0
     started: 623913381008us  stopped: 623913396439us idle: 25us
     seq_num: 100001  cur_dst_mac_offset: 0  cur_src_mac_offset: 0
     cur_saddr: 192.168.8.3  cur_daddr: 192.168.81.2
     cur_udp_dst: 9  cur_udp_src: 42
     cur_queue_map: 0
     flows: 0
Result: OK: 15430(c15405+d25) usec, 100000 (60byte,0frags)
  6480562pps 3110Mb/sec (3110669760bps) errors: 0
`

// fakeKernel plays pktgen on a temp proc tree: it records every write,
// creates the device file on add_device and, on "start", fills it with
// result. When onStart is set, "start" calls it and then returns only
// after "stop", as a count-0 run does.
type fakeKernel struct {
	dir     string
	result  string
	onStart func()

	mu       sync.Mutex
	written  []string
	stopped  chan struct{}
	stopOnce sync.Once
}

func newFakeKernel(t *testing.T, threads ...string) *fakeKernel {
	t.Helper()
	k := &fakeKernel{dir: t.TempDir(), result: docDeviceFile, stopped: make(chan struct{})}
	for _, f := range append([]string{"pgctrl"}, threads...) {
		if err := os.WriteFile(filepath.Join(k.dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func (k *fakeKernel) write(path, cmd string) error {
	rel, err := filepath.Rel(k.dir, path)
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.written = append(k.written, rel+": "+cmd)
	k.mu.Unlock()
	if strings.HasPrefix(cmd, "add_device ") {
		if err := os.WriteFile(filepath.Join(k.dir, strings.TrimPrefix(cmd, "add_device ")), []byte("Result: Idle\n"), 0o600); err != nil {
			return err
		}
	}
	if err := writeProcFile(path, cmd); err != nil { // the file must exist, as in /proc
		return err
	}
	if rel != "pgctrl" {
		return nil
	}
	switch cmd {
	case "start":
		if k.onStart != nil {
			k.onStart()
			<-k.stopped
		}
		return os.WriteFile(filepath.Join(k.dir, "veth0"), []byte(k.result), 0o600)
	case "stop":
		k.stopOnce.Do(func() { close(k.stopped) })
	}
	return nil
}

func (k *fakeKernel) commands() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.written...)
}

func pktgenSpec(v6 bool, size, flows int) Spec {
	s := Spec{
		SrcMAC: [6]byte{0x02, 0x00, 0x5e, 0x01, 0x00, 0x02},
		DstMAC: [6]byte{0x02, 0x00, 0x5e, 0x01, 0x00, 0x01},
		Src:    netip.MustParseAddr("198.18.0.2"), Dst: netip.MustParseAddr("198.19.0.2"),
		Size: size, Flows: flows, ID: 7,
	}
	if v6 {
		s.Src, s.Dst = netip.MustParseAddr("2001:db8:1::2"), netip.MustParseAddr("2001:db8:2::2")
	}
	return s
}

func TestPktgenCommandSequence(t *testing.T) {
	tests := []struct {
		name string
		cfg  PktgenConfig
		want []string
	}{{
		name: "IPv4 64B 16 flows max rate",
		cfg:  PktgenConfig{Thread: 0, Interface: "veth0", Spec: pktgenSpec(false, 64, 16), Duration: time.Minute},
		want: []string{
			"kpktgend_0: rem_device_all",
			"kpktgend_0: add_device veth0",
			"veth0: count 0",
			"veth0: clone_skb 0",
			"veth0: pkt_size 60",
			"veth0: delay 0",
			"veth0: dst 198.19.0.2",
			"veth0: src_min 198.18.0.2",
			"veth0: src_max 198.18.0.2",
			"veth0: dst_mac 02:00:5e:01:00:01",
			"veth0: src_mac 02:00:5e:01:00:02",
			"veth0: udp_src_min 1024",
			"veth0: udp_src_max 1040",
			"veth0: udp_dst_min 9",
			"veth0: udp_dst_max 9",
			"veth0: flag UDPCSUM",
			"pgctrl: start",
		},
	}, {
		name: "IPv6 128B 1 flow 250 kpps on thread 1",
		cfg:  PktgenConfig{Thread: 1, Interface: "veth0", Spec: pktgenSpec(true, 128, 1), Rate: 250_000, Duration: 500 * time.Millisecond},
		want: []string{
			"kpktgend_1: rem_device_all",
			"kpktgend_1: add_device veth0",
			"veth0: count 125000",
			"veth0: clone_skb 0",
			"veth0: pkt_size 124",
			"veth0: ratep 250000",
			"veth0: flag IPV6",
			"veth0: dst6 2001:db8:2::2",
			"veth0: src6 2001:db8:1::2",
			"veth0: dst_mac 02:00:5e:01:00:01",
			"veth0: src_mac 02:00:5e:01:00:02",
			"veth0: udp_src_min 1024",
			"veth0: udp_src_max 1025",
			"veth0: udp_dst_min 9",
			"veth0: udp_dst_max 9",
			"veth0: flag UDPCSUM",
			"pgctrl: start",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newFakeKernel(t, "kpktgend_0", "kpktgend_1")
			tt.cfg.Dir = k.dir
			res, err := runPktgen(context.Background(), tt.cfg, k.write)
			if err != nil {
				t.Fatalf("runPktgen: %v", err)
			}
			got := k.commands()
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("commands written:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			want := GenResult{Sent: 100000, Refused: 0, Elapsed: 15430 * time.Microsecond}
			if res != want {
				t.Errorf("result %+v, want %+v", res, want)
			}
			// One write per open: each file holds its last command, as
			// `echo cmd > file` leaves a regular file.
			if b, _ := os.ReadFile(filepath.Join(k.dir, fmt.Sprintf("kpktgend_%d", tt.cfg.Thread))); string(b) != "add_device veth0" {
				t.Errorf("thread file holds %q, want the last command only", b)
			}
		})
	}
}

func TestPktgenStopsOnCancel(t *testing.T) {
	k := newFakeKernel(t, "kpktgend_0")
	k.result = strings.Replace(docDeviceFile, "pkts-sofar: 100000  errors: 0", "pkts-sofar: 4000  errors: 12", 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k.onStart = cancel // interrupted while running: "stop" must end the blocked "start"
	res, err := runPktgen(ctx, PktgenConfig{Dir: k.dir, Interface: "veth0", Spec: pktgenSpec(false, 64, 4), Duration: time.Hour}, k.write)
	if err != nil {
		t.Fatalf("runPktgen: %v", err)
	}
	// start, then stop (repeated until start returns: at least once).
	got := strings.Join(k.commands(), "\n")
	i := strings.Index(got, "pgctrl: start")
	if i < 0 || !strings.HasPrefix(got[i:], "pgctrl: start\npgctrl: stop") || strings.Trim(strings.ReplaceAll(got[i+len("pgctrl: start"):], "\npgctrl: stop", ""), "\n") != "" {
		t.Errorf("commands:\n%s\nwant start, then only stop", got)
	}
	if res.Sent != 4000 || res.Refused != 12 || res.Offered() != 4012 {
		t.Errorf("result %+v, want 4000 sent and 12 refused", res)
	}

	// Interrupted before the run: nothing is started.
	k2 := newFakeKernel(t, "kpktgend_0")
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := runPktgen(ctx2, PktgenConfig{Dir: k2.dir, Interface: "veth0", Spec: pktgenSpec(false, 64, 4), Duration: time.Hour}, k2.write); err == nil || !strings.Contains(err.Error(), "not started") {
		t.Errorf("cancelled before start: %v, want a \"not started\" error", err)
	}
	for _, c := range k2.commands() {
		if strings.HasPrefix(c, "pgctrl:") {
			t.Errorf("cancelled before start but wrote %q", c)
		}
	}
}

func TestPktgenErrors(t *testing.T) {
	k := newFakeKernel(t, "kpktgend_0")
	base := PktgenConfig{Dir: k.dir, Interface: "veth0", Spec: pktgenSpec(false, 64, 16), Duration: time.Second}
	tests := map[string]struct {
		mod  func(*PktgenConfig)
		want string
	}{
		"IPv6 78B":        {func(c *PktgenConfig) { c.Spec = pktgenSpec(true, 78, 16) }, "at least 82 bytes"},
		"no duration":     {func(c *PktgenConfig) { c.Duration = 0 }, "duration must be positive"},
		"fractional rate": {func(c *PktgenConfig) { c.Rate = 0.5 }, "below 1"},
		"no interface":    {func(c *PktgenConfig) { c.Interface = "" }, "interface is required"},
		"bad interface":   {func(c *PktgenConfig) { c.Interface = "eth0@1" }, "must not contain"},
		"too many flows":  {func(c *PktgenConfig) { c.Spec.Flows = MaxFlows }, "at most 64511 flows"},
		"no pktgen":       {func(c *PktgenConfig) { c.Dir = t.TempDir() }, "modprobe pktgen"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := base
			tt.mod(&cfg)
			_, err := runPktgen(context.Background(), cfg, k.write)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if PktgenAvailable(t.TempDir()) {
		t.Error("PktgenAvailable: true for a directory without pgctrl")
	}
	if !PktgenAvailable(k.dir) {
		t.Error("PktgenAvailable: false for a directory with pgctrl")
	}
}

func TestParsePktgenResult(t *testing.T) {
	res, err := ParsePktgenResult(docDeviceFile)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 100000 || res.Refused != 0 || res.Elapsed != 15430*time.Microsecond {
		t.Errorf("doc sample: %+v, want 100000 sent, 0 refused, 15.43 ms", res)
	}
	if pps := res.PPS(); pps < 6480000 || pps > 6481000 {
		t.Errorf("doc sample: %.0f pps, the Result line says 6480562", pps)
	}
	// Without a parsable Result time, started/stopped give the run time.
	noTime := strings.Replace(docDeviceFile, "OK: 15430(c15405+d25) usec", "OK: ", 1)
	if res, err := ParsePktgenResult(noTime); err != nil || res.Elapsed != 15431*time.Microsecond {
		t.Errorf("started/stopped fallback: %+v, %v; want 15.431 ms", res, err)
	}
	for in, want := range map[string]string{
		"Params: count 0\nCurrent:\n     pkts-sofar: 0  errors: 0\nResult: Idle\n": `"Idle", not OK`,
		strings.Replace(docDeviceFile, "pkts-sofar: 100000", "pkts-sofar: x", 1):   "pkts-sofar",
		"Result: OK: 10 usec, 1 (60byte,0frags)\n":                                 "no \"pkts-sofar:\"",
		"pkts-sofar: 5  errors: 0\n":                                               "no \"Result:\" line",
		"":                                                                         "no \"Result:\" line",
		"pkts-sofar:\nResult: OK:":                                                 "no \"pkts-sofar:\"",
	} {
		if _, err := ParsePktgenResult(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePktgenResult(%q): %v, want an error containing %q", in, err, want)
		}
	}
}
