package lpm

import "unsafe"

// A radix group of the IPv4 index holds, for each /16, the address of its
// bucket's first word rather than a []uint64: a group is then 136 bytes
// instead of 392, and the groups of a full table (576 KiB instead of 1.6
// MiB) mostly stay in L2, which saved 5 ns of a random lookup's ~35 here.
// Reading the bucket back needs unsafe pointer arithmetic, kept to the two
// functions below.
//
// Why the reads stay inside the bucket: every pointer a group holds is the
// first word of a bucket made by encode (uniform4 and zeroBucket4 use it
// too) or by setEntry, and those write its header w[4] whole: the rank
// bytes 0..3 (each at most the number of runs, which the value words
// hold), the value-word count in bytes 4..5 and the sub-page count in
// bytes 6..7 (setEntry leaves it 0: it is only given buckets without
// sub-pages, which fillSpan4 checks). The indexes a lookup computes are
// then bucketHdr + rank/4 < bucketHdr + nv, and, for a sub-page entry s <
// the sub-page count, bucketHdr + nv + 64*s + o/4: all < the bucket's
// length. checkFib4 (lpm_test.go) re-encodes every bucket of the tables
// the tests build and compares it, header and length, with what the group
// points to; the differential tests, run with checkptr under -race,
// compare every lookup with the trie.

// bucketSlice returns the bucket whose first word is at p: its length is
// in its header.
func bucketSlice(p *uint64) []uint64 {
	h := bucketAt(p, 4)
	return unsafe.Slice(p, bucketHdr+int(uint16(h>>32))+64*int(h>>48))
}

// bucketAt returns word i of the bucket whose first word is at p; i must be
// inside the bucket (see above).
func bucketAt(p *uint64, i int) uint64 {
	return *(*uint64)(unsafe.Add(unsafe.Pointer(p), uintptr(i)*8))
}
