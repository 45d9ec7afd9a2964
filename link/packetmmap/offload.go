//go:build linux

package packetmmap

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/nexthop-router/nexthop/stack"
)

// How super-packets leave. There are two ways out:
//   - the bypass TX ring (PACKET_QDISC_BYPASS): one copy into the ring
//     frame, one kick per batch, and the driver takes the ring's pages
//     (a NIC maps them for DMA);
//   - a second socket (superSocket) that sends each with sendmsg, straight
//     from its RX frame, through the qdisc layer: one copy, into the skb.
//
// The ring cannot take a super-packet the device cannot segment:
// __dev_direct_xmit segments it in validate_xmit_skb and then drops the
// result (`if (skb != orig_skb) goto drop`). Those always take the socket,
// where the kernel segments them in software as for its own forwarding.
// Where the device has the offload, the ring is right for a NIC, but a
// driver that hands the skb on to another device's receive (a veth: see
// forwardingDrivers) copies the ring's zero-copy pages again
// (skb_copy_ubufs in __dev_forward_skb): three copies of every byte through
// the router instead of two. There super-packets take the socket too.
// Measured through a veth with TSO on (bench/RESULTS.md, 2026-11-28 00:01):
// medians of 3 rounds, 7.5 Gbit/s through the ring and 13.9 through
// sendmsg with 1 TCP stream, 9.4 and 12.1 with 4. On a kernel older than 6.2 (no PACKET_FANOUT_FLAG_IGNORE_OUTGOING,
// see newRXRing) each frame sent through the qdisc is also copied into the
// port's own RX ring, which takes that gain back. An ordinary frame too
// large for a TX ring frame (a veth's are small: vethTXFrameSize) takes
// the socket too.

// forwardingDrivers are the drivers (ethtool -i) whose transmit hands the
// skb to another device's receive path, which must copy the TX ring's
// zero-copy pages first: veth and netkit (__dev_forward_skb), tun and tap
// (skb_orphan_frags_rx). Only the egress device's own driver is asked: a
// vlan or macvlan stacked on a veth still gets the ring.
var forwardingDrivers = map[string]bool{"veth": true, "netkit": true, "tun": true}

// gsoFeatures maps each GSO type to the ethtool feature string
// (ETH_SS_FEATURES, as `ethtool -k` prints it) the device needs for it.
// The vnet header we send never carries VIRTIO_NET_HDR_GSO_ECN, so
// tx-tcp-ecn-segmentation does not matter.
var gsoFeatures = [...]struct {
	t    stack.GSOType
	name string
}{
	{stack.GSOTCPv4, "tx-tcp-segmentation"},
	{stack.GSOTCPv6, "tx-tcp6-segmentation"},
	{stack.GSOUDPL4, "tx-udp-segmentation"},
}

// gsoMaskFromFeatures is the set of GSO types (bit 1<<type) whose feature
// is active, given the feature names and the active bitmap of
// ETHTOOL_GFEATURES, indexed alike. Missing names or short bitmaps mean off.
func gsoMaskFromFeatures(names []string, active []uint32) uint32 {
	var m uint32
	for i, n := range names {
		if i/32 >= len(active) || active[i/32]&(1<<(i%32)) == 0 {
			continue
		}
		for _, f := range gsoFeatures {
			if f.name == n {
				m |= 1 << f.t
			}
		}
	}
	return m
}

// AcceptsGSO implements stack.GSOTypeFilter: it reports whether the kernel
// will segment a super-packet of type t on this interface: always, with
// vnet headers (the device's segmentation offload where it has it, as of
// the last RefreshOffloads, else the kernel's software GSO through the
// writer's superSocket). It is one atomic load, safe on the packet path.
func (e *Endpoint) AcceptsGSO(t stack.GSOType) bool {
	if e.superOpen.Load() {
		return t == stack.GSOTCPv4 || t == stack.GSOTCPv6 || t == stack.GSOUDPL4
	}
	return e.DeviceGSO(t)
}

// DeviceGSO reports whether the device segments super-packets of type t
// itself (its TSO/USO feature is on, as of the last RefreshOffloads), so
// that they reach the driver whole rather than through the kernel's
// software segmentation.
func (e *Endpoint) DeviceGSO(t stack.GSOType) bool {
	return t < 32 && e.gsoOK.Load()&(1<<t) != 0
}

// RefreshOffloads re-reads the device's active offload features (as
// `ethtool -k` shows them), so a change by `ethtool -K` is followed: the
// router calls it on every RTM_NEWLINK for the interface, which the kernel
// sends on feature changes. On failure the endpoint accepts no GSO type,
// since software segmentation is always correct, and the error says why.
func (e *Endpoint) RefreshOffloads() error {
	e.ctlMu.Lock()
	defer e.ctlMu.Unlock()
	if !e.vnet {
		e.gsoOK.Store(0)
		return nil
	}
	if e.ctlFD < 0 {
		e.gsoOK.Store(0)
		return errors.New("packetmmap: endpoint closed")
	}
	names, active, err := deviceFeatures(e.ctlFD, e.name)
	if err != nil {
		e.gsoOK.Store(0)
		return fmt.Errorf("packetmmap: read offload features of %q (super-packets are segmented by the kernel in software): %w", e.name, err)
	}
	e.gsoOK.Store(gsoMaskFromFeatures(names, active))
	return nil
}

// openCtl opens the socket SIOCETHTOOL runs on. It is opened by New, on
// the thread (and so in the network namespace) that opens the rings.
func (e *Endpoint) openCtl() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("packetmmap: control socket for ethtool: %w", err)
	}
	e.ctlFD = fd
	return nil
}

func (e *Endpoint) closeCtl() {
	e.ctlMu.Lock()
	defer e.ctlMu.Unlock()
	if e.ctlFD >= 0 {
		_ = unix.Close(e.ctlFD)
		e.ctlFD = -1
	}
	e.gsoOK.Store(0)
}
