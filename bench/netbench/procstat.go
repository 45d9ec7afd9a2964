package netbench

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// userHZ is the unit of /proc/stat: USER_HZ, which is 100 on every Linux
// architecture the kernel exports to user space (sysconf(_SC_CLK_TCK)).
const userHZ = 100

// CPUTimes is one cpuN line of /proc/stat, in USER_HZ ticks.
type CPUTimes struct {
	User, Nice, System, Idle, IOWait, IRQ, SoftIRQ, Steal uint64
}

// Busy is the time the core did work: user + nice + system + irq +
// softirq. Idle and iowait are not work; steal is time the hypervisor gave
// the vCPU to someone else, so it is not the DUT's cost either. (guest
// time is already inside user.)
func (c CPUTimes) Busy() uint64 { return c.User + c.Nice + c.System + c.IRQ + c.SoftIRQ }

// BusyNsSince is the busy time between an earlier sample and c, in ns.
func (c CPUTimes) BusyNsSince(earlier CPUTimes) float64 {
	b, e := c.Busy(), earlier.Busy()
	if b < e {
		return 0
	}
	return float64(b-e) * 1e9 / userHZ
}

// StealSince is the share (0..1) of the time between an earlier sample and
// c that the hypervisor ran something else on this vCPU. A round whose
// steal is high measured the neighbours as much as the systems; ok is false
// when no tick passed or a counter went backwards.
func (c CPUTimes) StealSince(earlier CPUTimes) (share float64, ok bool) {
	all := func(t CPUTimes) uint64 { return t.Busy() + t.Idle + t.IOWait + t.Steal }
	if all(c) <= all(earlier) || c.Steal < earlier.Steal {
		return 0, false
	}
	return float64(c.Steal-earlier.Steal) / float64(all(c)-all(earlier)), true
}

// ParseProcStat returns the times of CPU cpu from the contents of
// /proc/stat. It fails, naming the CPU, when the line is missing or short.
func ParseProcStat(data []byte, cpu int) (CPUTimes, error) {
	want := "cpu" + strconv.Itoa(cpu)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != want {
			continue
		}
		// user nice system idle iowait irq softirq steal [guest guest_nice]
		if len(f) < 9 {
			return CPUTimes{}, fmt.Errorf("/proc/stat: %s line has %d fields, want at least 8 values", want, len(f)-1)
		}
		var v [8]uint64
		for i := range v {
			n, err := strconv.ParseUint(f[i+1], 10, 64)
			if err != nil {
				return CPUTimes{}, fmt.Errorf("/proc/stat: %s field %d: %v", want, i+1, err)
			}
			v[i] = n
		}
		return CPUTimes{User: v[0], Nice: v[1], System: v[2], Idle: v[3], IOWait: v[4], IRQ: v[5], SoftIRQ: v[6], Steal: v[7]}, nil
	}
	return CPUTimes{}, fmt.Errorf("/proc/stat: no %s line (is CPU %d online?)", want, cpu)
}
