//go:build linux

package afxdp

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Why unsafe: ETHTOOL_GCHANNELS passes a pointer to a struct
// ethtool_channels inside the ifreq, and x/sys/unix has no wrapper for it.

// ethtoolChannels is struct ethtool_channels.
type ethtoolChannels struct {
	cmd                                         uint32
	maxRX, maxTX, maxOther, maxCombined         uint32
	rxCount, txCount, otherCount, combinedCount uint32
}

// ifreqData is struct ifreq with ifr_data.
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [24 - unsafe.Sizeof(uintptr(0))]byte
}

// ActiveRXQueues is the number of RX queues the interface uses now
// (ethtool -l: RX plus combined channels), which bounds the queue indices
// an AF_XDP socket can bind to. It can be lower than the number the
// device was created with (netlink's IFLA_NUM_RX_QUEUES): a veth made on a
// 2-CPU machine has 2 but uses 1. It must run in the interface's network
// namespace; drivers without ETHTOOL_GCHANNELS give an error.
func ActiveRXQueues(ifname string) (int, error) {
	if len(ifname) >= unix.IFNAMSIZ {
		return 0, fmt.Errorf("interface name %q too long", ifname)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("socket for ethtool: %w", err)
	}
	defer unix.Close(fd)
	ch := ethtoolChannels{cmd: unix.ETHTOOL_GCHANNELS}
	var ifr ifreqData
	copy(ifr.name[:], ifname)
	ifr.data = unsafe.Pointer(&ch)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr))); errno != 0 {
		return 0, fmt.Errorf("ETHTOOL_GCHANNELS on %q: %w", ifname, errno)
	}
	n := int(ch.rxCount + ch.combinedCount)
	if n == 0 {
		return 0, fmt.Errorf("ETHTOOL_GCHANNELS on %q: no RX or combined channels", ifname)
	}
	return n, nil
}
