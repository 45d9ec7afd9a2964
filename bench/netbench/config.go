package netbench

import (
	"fmt"
	"strings"
)

// Addressing of the benchmark topology (RFC 2544's benchmark range and the
// documentation prefix):
//
//	generator g: 198.18.1.2/24 2001:db8:1::2/64 ── DUT port a: 198.18.1.1 2001:db8:1::1
//	receiver  r: 198.18.2.2/24 2001:db8:2::2/64 ── DUT port b: 198.18.2.1 2001:db8:2::1
const (
	genV4, dutAV4, dutBV4, recvV4 = "198.18.1.2", "198.18.1.1", "198.18.2.1", "198.18.2.2"
	genV6, dutAV6, dutBV6, recvV6 = "2001:db8:1::2", "2001:db8:1::1", "2001:db8:2::1", "2001:db8:2::2"
	v4Len, v6Len                  = "/24", "/64"
	metricsListen                 = "127.0.0.1:9469"
)

// RouterConfig is bin/router's configuration for the DUT: both ports in
// the given link mode (packetmmap or afxdp) with the DUT's addresses, and
// /metrics on 127.0.0.1:9469 inside the DUT namespace, where the
// benchmark reads allocations and forwarded packets.
func RouterConfig(portA, portB, mode string) string {
	var b strings.Builder
	b.WriteString("# written by `bench net`\ninterfaces:\n")
	for _, p := range []struct{ name, v4, v6 string }{{portA, dutAV4, dutAV6}, {portB, dutBV4, dutBV6}} {
		fmt.Fprintf(&b, "  - name: %s\n", p.name)
		if mode != "" {
			fmt.Fprintf(&b, "    mode: %s\n", mode)
		}
		fmt.Fprintf(&b, "    addresses: [%s%s, \"%s%s\"]\n", p.v4, v4Len, p.v6, v6Len)
	}
	fmt.Fprintf(&b, "metrics:\n  listen: %s\n", metricsListen)
	return b.String()
}
