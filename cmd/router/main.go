// Command router runs nexthop, the user-space IPv4/IPv6 router.
//
// Until the forwarder lands (the PACKET_MMAP/forwarder issue), the binary
// only reports its version and says plainly that it cannot route yet.
package main

import (
	"flag"
	"fmt"
	"os"
)

// version is set at build time by the Makefile (-X main.version=…).
var version = "dev"

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Printf("nexthop router %s\n", version)
		return
	}
	fmt.Fprintln(os.Stderr, "router: forwarding is not built yet in this version; see README.md (only -version works)")
	os.Exit(2)
}
