// Package afxdp is the AF_XDP link: XDP sockets whose frames live in a
// UMEM shared by the sockets of one worker, so forwarding never copies a
// frame in user space.
//
// Setup. A worker (one stack.Worker, one RX queue index q) owns one UMEM:
// NumFrames frames of FrameSize bytes, registered with the kernel by its
// first socket (XDP_UMEM_REG). Each interface the router takes over gets
// an Endpoint with one socket per queue; queue q's socket binds to the
// worker's UMEM, the first with XDP_COPY|XDP_USE_NEED_WAKEUP (or
// XDP_ZEROCOPY when asked and the driver can), the others with
// XDP_SHARED_UMEM, each with its own fill and completion rings. An XDP
// program (bpf_redirect_map on rx_queue_index, XDP_PASS when no socket)
// steers each served queue to its socket; it is attached through a
// bpf_link, in driver mode when the driver allows it, else generic mode,
// and disappears with the process.
//
// Receive: fill → RX. Free frames are lent to the kernel on a socket's
// fill ring. The kernel writes a received frame into one (after its
// 256-byte XDP headroom) and puts its address and length on the RX ring.
// Poll turns each RX descriptor into the frame's preallocated
// PacketBuffer (Handle = frame base address) and delivers the batch in
// place. When the stack releases a frame it returns to the UMEM's free
// list, and the next Poll lends it to the kernel again.
//
// Transmit: TX → completion. WritePackets puts descriptors on the writing
// worker's TX ring: a PacketBuffer whose owner is that UMEM goes out as
// is (its address and length, no copy), so a frame received on interface
// A leaves on interface B from the same memory; a frame from elsewhere
// (a heap frame the router made) is copied into a free UMEM frame. One
// sendto(2) per batch starts copy-mode TX. When the kernel has sent a
// frame it puts its address on the sending socket's completion ring; the
// next Poll or WritePackets reaps it onto the free list.
//
// Accounting. Every frame is in exactly one place: free list, lent for RX
// (fill ring, kernel, RX ring), in the stack, or lent for TX (TX ring,
// kernel, completion ring). The UMEM records the place of each frame and
// checks every address the kernel hands back against it;
// UMEM.Accounting and UMEM.Check expose the books, and closing an
// endpoint takes back what was lent to its sockets.
//
// Threading. A UMEM, its sockets' rings and its frames belong to the one
// worker goroutine that polls them; nothing on the data path locks.
// Writers without a socket on an interface (the stack's control worker)
// use a copying AF_PACKET slow path.
//
// Capabilities: CapabilityResolutionRequired only. AF_XDP has no checksum
// or GSO metadata, so checksums must be complete and frames MTU-sized.
package afxdp
