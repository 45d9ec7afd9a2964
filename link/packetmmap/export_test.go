package packetmmap

// SetFanoutIgnoreOutgoing sets whether New makes its RX fanout groups with
// PACKET_FANOUT_FLAG_IGNORE_OUTGOING (off stands in for a kernel that
// ignores the flag) and returns the function that restores the setting.
// Tests that use it must not run in parallel.
func SetFanoutIgnoreOutgoing(on bool) (restore func()) {
	old := fanoutIgnoreOutgoing
	fanoutIgnoreOutgoing = on
	return func() { fanoutIgnoreOutgoing = old }
}

// TXRingFramesPut is how many frames writer i has put on its TX ring
// since it opened (while fewer than the ring's frames).
func TXRingFramesPut(e *Endpoint, i int) int { return e.tx[i].head }

// RingCopied says whether e takes its driver for one that copies the TX
// ring's pages again (a veth), so that super-packets skip the ring.
func RingCopied(e *Endpoint) bool { return e.ringCopied }

// SetRingCopied overrides the driver check, so that a veth can stand in
// for a NIC; call it before the first write. The TX ring keeps the
// geometry New chose (a veth's 10 KiB frames unless the options set one).
func SetRingCopied(e *Endpoint, on bool) { e.ringCopied = on }

// TXRingGeometry is the number and size of writer i's TX ring frames.
func TXRingGeometry(e *Endpoint, i int) (frames, size int) {
	return len(e.tx[i].frames), len(e.tx[i].frames[0])
}

// TXFrameHdrLen is the virtio_net_hdr hdr_len written into slot of writer
// i's TX ring: how much of the frame the kernel copies into linear data.
func TXFrameHdrLen(e *Endpoint, i, slot int) int {
	return int(le.Uint16(e.tx[i].frames[slot][txDataOffset+vnetHdrLenOff:]))
}
