//go:build linux

package packetmmap

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The SIOCETHTOOL ioctl takes a struct ifreq whose ifr_data points at an
// ethtool command buffer, so the pointer must be passed as a real pointer
// (the GC keeps the buffer alive and in place for the call): that is why
// this file imports unsafe. x/sys/unix has no generic SIOCETHTOOL helper.

// ifreqData is struct ifreq with the ifr_data member of its union.
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [24 - unsafe.Sizeof(uintptr(0))]byte // the union is 24 bytes
}

// ethtool runs one SIOCETHTOOL command for interface name on socket fd;
// buf starts with the command's struct and is filled in by the kernel.
func ethtool(fd int, name string, buf []byte) error {
	var ifr ifreqData
	if len(name) >= len(ifr.name) {
		return fmt.Errorf("interface name %q too long", name)
	}
	copy(ifr.name[:], name)
	ifr.data = unsafe.Pointer(&buf[0])
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr)))
	if errno != 0 {
		return errno
	}
	return nil
}

// ethtool constants not in x/sys/unix.
const (
	ethSSFeatures = 4  // ETH_SS_FEATURES
	ethGStringLen = 32 // ETH_GSTRING_LEN
)

var ne = binary.NativeEndian

// deviceFeatures reads the names of the interface's offload features
// (ethtool -k) and the bitmap of the active ones, indexed alike: feature
// i is on when active[i/32] has bit i%32.
func deviceFeatures(fd int, name string) (names []string, active []uint32, err error) {
	// struct ethtool_sset_info { u32 cmd, reserved; u64 sset_mask; u32 data[1]; }
	info := make([]byte, 20)
	ne.PutUint32(info[0:], unix.ETHTOOL_GSSET_INFO)
	ne.PutUint64(info[8:], 1<<ethSSFeatures)
	if err := ethtool(fd, name, info); err != nil {
		return nil, nil, fmt.Errorf("ETHTOOL_GSSET_INFO: %w", err)
	}
	if ne.Uint64(info[8:])&(1<<ethSSFeatures) == 0 {
		return nil, nil, fmt.Errorf("ETHTOOL_GSSET_INFO: no feature strings")
	}
	count := int(ne.Uint32(info[16:]))
	if count <= 0 || count > 4096 {
		return nil, nil, fmt.Errorf("ETHTOOL_GSSET_INFO: implausible feature count %d", count)
	}
	// struct ethtool_gstrings { u32 cmd, string_set, len; u8 data[]; }
	strs := make([]byte, 12+count*ethGStringLen)
	ne.PutUint32(strs[0:], unix.ETHTOOL_GSTRINGS)
	ne.PutUint32(strs[4:], ethSSFeatures)
	ne.PutUint32(strs[8:], uint32(count))
	if err := ethtool(fd, name, strs); err != nil {
		return nil, nil, fmt.Errorf("ETHTOOL_GSTRINGS: %w", err)
	}
	names = make([]string, count)
	for i := range names {
		s := strs[12+i*ethGStringLen : 12+(i+1)*ethGStringLen]
		if z := indexZero(s); z >= 0 {
			s = s[:z]
		}
		names[i] = string(s)
	}
	// struct ethtool_gfeatures { u32 cmd, size; struct { u32 available,
	// requested, active, never_changed; } features[]; }
	blocks := (count + 31) / 32
	feat := make([]byte, 8+16*blocks)
	ne.PutUint32(feat[0:], unix.ETHTOOL_GFEATURES)
	ne.PutUint32(feat[4:], uint32(blocks))
	if err := ethtool(fd, name, feat); err != nil {
		return nil, nil, fmt.Errorf("ETHTOOL_GFEATURES: %w", err)
	}
	active = make([]uint32, blocks)
	for i := range active {
		active[i] = ne.Uint32(feat[8+16*i+8:])
	}
	return names, active, nil
}

func indexZero(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}
