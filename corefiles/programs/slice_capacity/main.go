// Case slice_capacity (leak-patterns.md #4, kind slice_capacity_unused).
//
// A global slice is used at full size (8 MiB of uint64) and then truncated
// with keep = keep[:0]: len 0, cap 1M, all 8 MiB still held.
package main

import "unsafe"

var keep []uint64

const n = 1 << 20

func setup(t *Truth) {
	keep = make([]uint64, n)
	for i := range keep {
		keep[i] = uint64(i % 4096)
	}
	base := ptrOf(keep)
	keep = keep[:0] // "reset" that keeps the capacity
	elem := int64(unsafe.Sizeof(uint64(0)))
	t.Leak("slice_capacity_unused", "main.keep", base, n*elem, "uint64",
		0, (n-0)*elem, "keep = keep[:0] after filling 1M uint64: len 0, cap 1048576").
		Set("len", len(keep)).Set("cap", cap(keep))
}

func main() {
	t := newTruth("slice_capacity")
	setup(t)
	t.Set("expect_findings", []string{"slice_capacity_unused"})
	t.Finish()
}
